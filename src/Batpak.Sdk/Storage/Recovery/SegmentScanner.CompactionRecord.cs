// Owns reading the range of the compaction record that opens a compaction output without scanning the whole segment.
// Called by open (SegmentRecovery.LiveSegments.cs) and compaction (CompactionRunner.IsNextSegment) to tell which
// segment ids an output replaced.
using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

internal static partial class SegmentScanner
{
    /// <summary>
    /// Reads the range of the compaction record that opens a compaction output, checking the frame's CRC but not
    /// decoding its dropped events or checking its MAC; null when the file has no readable record first. Nothing may
    /// be deleted on its word: the whole output scans (record MAC included) first.
    /// </summary>
    public static SegmentRecords.CompactionRange? TryReadCompactionRange(SafeFileHandle handle, FrameFormat.SegmentHeader header)
    {
        long fileLength = RandomAccess.GetLength(handle);
        Span<byte> frameHeader = stackalloc byte[FrameFormat.FrameHeaderSize];
        if (fileLength < header.Length + FrameFormat.FrameHeaderSize || !TryReadExactly(handle, frameHeader, header.Length))
        {
            return null;
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(frameHeader);
        if (length == 0 || length > MaxScannedFrameBytes || header.Length + FrameFormat.FrameHeaderSize + length > fileLength)
        {
            return null;
        }

        byte[] frame = ArrayPool<byte>.Shared.Rent((int)length + FrameFormat.FrameHeaderSize);
        try
        {
            Span<byte> span = frame.AsSpan(0, (int)length + FrameFormat.FrameHeaderSize);
            if (!TryReadExactly(handle, span, header.Length) || !FrameFormat.CrcMatches(span) || !SegmentRecords.IsRecord(span[FrameFormat.FrameHeaderSize..]))
            {
                return null;
            }

            return SegmentRecords.PeekCompaction(span[FrameFormat.FrameHeaderSize..]);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }
}
