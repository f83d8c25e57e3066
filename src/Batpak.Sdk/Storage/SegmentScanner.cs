using System.Buffers;
using System.Buffers.Binary;
using MessagePack;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

/// <summary>
/// Reads a segment file front to back for recovery: checks the header, then every frame's length, CRC and body,
/// handing each decoded frame to a visitor. Reads in large positional chunks (1 MiB, grown for larger frames).
/// </summary>
/// <remarks>
/// A bad frame in a sealed segment is an error naming segment and offset. In the last segment a bad frame is a
/// torn tail (cut off) only when nothing valid follows it; when a valid frame follows, the damage is in the middle
/// of acknowledged data and is reported as an error instead of being silently cut away.
/// </remarks>
internal static class SegmentScanner
{
    public const int MaxScannedFrameBytes = 1 << 30;
    private const int ChunkBytes = 1 << 20;

    public delegate void FrameVisitor(ref FrameFormat.FrameFields fields, DiskPosition position);

    /// <summary>The outcome of a scan.</summary>
    /// <param name="ValidEnd">The offset just past the last good frame.</param>
    /// <param name="Frames">Good frames seen.</param>
    /// <param name="TruncationReason">Why the tail past <paramref name="ValidEnd"/> is bad, or null when the file ends cleanly.</param>
    /// <param name="Header">The segment header, or null when the last segment's header itself is torn.</param>
    public readonly record struct ScanResult(long ValidEnd, long Frames, string? TruncationReason, FrameFormat.SegmentHeader? Header);

    public static ScanResult Scan(SafeFileHandle handle, int segmentId, bool isLast, FrameVisitor visitor)
    {
        long fileLength = RandomAccess.GetLength(handle);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            int headerProbe = (int)Math.Min(fileLength, FrameFormat.SegmentPreambleSize + FrameFormat.MaxSegmentHeaderBytes);
            ReadExactly(handle, buffer.AsSpan(0, headerProbe), 0, segmentId);
            FrameFormat.SegmentHeader? header = FrameFormat.TryReadSegmentHeader(buffer.AsSpan(0, headerProbe), out string? problem);
            if (header is null)
            {
                // A last segment shorter than a whole header was torn while being created: nothing was ever acknowledged in it.
                bool tornCreation = isLast && (fileLength < FrameFormat.SegmentPreambleSize || problem!.Contains("torn", StringComparison.Ordinal));
                if (tornCreation)
                {
                    return new ScanResult(0, 0, "the segment header is torn: " + problem, null);
                }

                throw new CorruptSegmentException(segmentId, 0, "bad segment header: " + problem);
            }

            if (header.Value.SegmentId != segmentId)
            {
                throw new CorruptSegmentException(segmentId, 0, $"the header names segment {header.Value.SegmentId}; the file name says {segmentId}");
            }

            long offset = header.Value.Length;
            long bufferStart = 0; // file offset of buffer[0]
            int bufferLength = headerProbe;
            long frames = 0;
            while (offset < fileLength)
            {
                string? bad = null;
                long remaining = fileLength - offset;
                uint length = 0;
                if (remaining < FrameFormat.FrameHeaderSize)
                {
                    bad = $"torn frame header ({remaining} of {FrameFormat.FrameHeaderSize} bytes)";
                }
                else
                {
                    EnsureBuffered(handle, ref buffer, ref bufferStart, ref bufferLength, offset, FrameFormat.FrameHeaderSize, fileLength, segmentId);
                    length = BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan((int)(offset - bufferStart)));
                    if (length == 0 || length > MaxScannedFrameBytes)
                    {
                        bad = $"implausible frame length {length}";
                    }
                    else if (length > remaining - FrameFormat.FrameHeaderSize)
                    {
                        bad = $"torn frame ({remaining - FrameFormat.FrameHeaderSize} of {length} body bytes present)";
                    }
                    else
                    {
                        int frameLength = (int)length + FrameFormat.FrameHeaderSize;
                        EnsureBuffered(handle, ref buffer, ref bufferStart, ref bufferLength, offset, frameLength, fileLength, segmentId);
                        int at = (int)(offset - bufferStart);
                        ReadOnlySpan<byte> frame = buffer.AsSpan(at, frameLength);
                        if (!FrameFormat.CrcMatches(frame))
                        {
                            bad = "CRC-32 mismatch";
                        }
                        else
                        {
                            FrameFormat.FrameFields fields;
                            try
                            {
                                fields = FrameFormat.ReadBody(buffer.AsMemory(at + FrameFormat.FrameHeaderSize, (int)length), out _);
                            }
                            catch (Exception ex) when (ex is MessagePackSerializationException or FormatException or EndOfStreamException or OverflowException)
                            {
                                throw new CorruptSegmentException(segmentId, offset, "the frame passes its CRC but does not decode: " + ex.Message, ex);
                            }

                            visitor(ref fields, new DiskPosition(segmentId, offset, frameLength));
                            frames++;
                            offset += frameLength;
                            continue;
                        }
                    }
                }

                if (!isLast)
                {
                    throw new CorruptSegmentException(segmentId, offset, bad + " in a sealed segment");
                }

                if (length > 0 && ValidFrameFollows(handle, offset + FrameFormat.FrameHeaderSize + length, fileLength))
                {
                    throw new CorruptSegmentException(segmentId, offset, bad + "; valid frames follow it, so this is damage inside acknowledged data, not a torn tail");
                }

                return new ScanResult(offset, frames, $"{bad} at offset {offset}", header);
            }

            return new ScanResult(offset, frames, null, header);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool ValidFrameFollows(SafeFileHandle handle, long next, long fileLength)
    {
        if (next + FrameFormat.FrameHeaderSize > fileLength)
        {
            return false;
        }

        Span<byte> head = stackalloc byte[FrameFormat.FrameHeaderSize];
        if (RandomAccess.Read(handle, head, next) != head.Length)
        {
            return false;
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(head);
        if (length == 0 || length > MaxScannedFrameBytes || next + FrameFormat.FrameHeaderSize + length > fileLength)
        {
            return false;
        }

        byte[] frame = ArrayPool<byte>.Shared.Rent((int)length + FrameFormat.FrameHeaderSize);
        try
        {
            Span<byte> span = frame.AsSpan(0, (int)length + FrameFormat.FrameHeaderSize);
            int read = 0;
            while (read < span.Length)
            {
                int n = RandomAccess.Read(handle, span[read..], next + read);
                if (n == 0)
                {
                    return false;
                }

                read += n;
            }

            return FrameFormat.CrcMatches(span);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private static void EnsureBuffered(SafeFileHandle handle, ref byte[] buffer, ref long bufferStart, ref int bufferLength, long offset, int needed, long fileLength, int segmentId)
    {
        if (offset >= bufferStart && offset + needed <= bufferStart + bufferLength)
        {
            return;
        }

        if (needed > buffer.Length)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = ArrayPool<byte>.Shared.Rent(needed);
        }

        int toRead = (int)Math.Min(buffer.Length, fileLength - offset);
        ReadExactly(handle, buffer.AsSpan(0, toRead), offset, segmentId);
        bufferStart = offset;
        bufferLength = toRead;
    }

    internal static void ReadExactly(SafeFileHandle handle, Span<byte> destination, long offset, int segmentId)
    {
        int read = 0;
        while (read < destination.Length)
        {
            int n = RandomAccess.Read(handle, destination[read..], offset + read);
            if (n == 0)
            {
                throw new CorruptSegmentException(segmentId, offset, $"unexpected end of file: read {read} of {destination.Length} bytes");
            }

            read += n;
        }
    }
}
