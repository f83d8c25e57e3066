// Owns reading the compaction record that opens a compaction output without scanning the whole segment. Called by
// EventStore (EventStore.cs, EventStore.LiveSegments.cs) to decide which leftover files an output replaces.
using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

internal static partial class SegmentScanner
{
    /// <summary>
    /// Reads the compaction record that opens a compaction output, checking its CRC (and MAC under a chain key);
    /// null when the file has no readable record first. Nothing is trusted from it until the whole segment scans.
    /// </summary>
    public static SegmentRecords.CompactionRecord? TryReadCompactionRecord(SafeFileHandle handle, FrameFormat.SegmentHeader header, byte[]? chainKey)
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

            try
            {
                return SegmentRecords.Decode(span[FrameFormat.FrameHeaderSize..], chainKey) as SegmentRecords.CompactionRecord;
            }
            catch (FormatException)
            {
                return null;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }
}
