// Owns the question that tells a torn tail from damage: does a valid, newer frame follow the bad bytes? Only Scan
// (SegmentScanner.cs) calls it, on the failure path.
using System.Buffers;
using System.Buffers.Binary;
using MessagePack;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

internal static partial class SegmentScanner
{
    /// <summary>
    /// Whether a frame that passes its CRC, decodes, and carries a global sequence above <paramref name="afterGlobal"/>
    /// starts at any offset in <c>[from, fileLength)</c>: evidence that bad bytes before it are damage inside
    /// written data, not a torn tail. Only offsets whose body starts like every frame body (an array-16 header of
    /// at least <see cref="FrameFormat.MinBodyFieldCount"/> fields) and whose length fits the file are read and
    /// CRC-checked, so the search is a linear pass with rare reads even over random bytes. It runs only on the
    /// failure path. A frame embedded in a torn frame's payload counts only if its sequence is newer than the log's.
    /// </summary>
    private static bool LaterFrameExists(SafeFileHandle handle, long from, long fileLength, long afterGlobal)
    {
        const int probe = FrameFormat.FrameHeaderSize + 3; // length, CRC, array-16 marker and count
        byte[] window = ArrayPool<byte>.Shared.Rent(ChunkBytes + probe);
        try
        {
            for (long start = from; start + probe <= fileLength; start += ChunkBytes)
            {
                int count = (int)Math.Min(ChunkBytes + probe, fileLength - start);
                if (!TryReadExactly(handle, window.AsSpan(0, count), start))
                {
                    return false;
                }

                int candidates = Math.Min(ChunkBytes, count - probe + 1);
                for (int i = 0; i < candidates; i++)
                {
                    int body = i + FrameFormat.FrameHeaderSize;
                    if (window[body] != 0xDC || window[body + 1] != 0 || window[body + 2] < FrameFormat.MinBodyFieldCount)
                    {
                        continue;
                    }

                    uint length = BinaryPrimitives.ReadUInt32BigEndian(window.AsSpan(i));
                    if (length >= 3 && length <= MaxScannedFrameBytes && start + i + FrameFormat.FrameHeaderSize + length <= fileLength
                        && IsNewerFrame(handle, start + i, (int)length, afterGlobal))
                    {
                        return true;
                    }
                }
            }

            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(window);
        }
    }

    private static bool IsNewerFrame(SafeFileHandle handle, long offset, int length, long afterGlobal)
    {
        byte[] frame = ArrayPool<byte>.Shared.Rent(length + FrameFormat.FrameHeaderSize);
        try
        {
            Span<byte> span = frame.AsSpan(0, length + FrameFormat.FrameHeaderSize);
            if (!TryReadExactly(handle, span, offset) || !FrameFormat.CrcMatches(span))
            {
                return false;
            }

            try
            {
                return FrameFormat.ReadBody(frame.AsMemory(FrameFormat.FrameHeaderSize, length), out _).GlobalSequence > afterGlobal;
            }
            catch (Exception ex) when (ex is MessagePackSerializationException or FormatException or EndOfStreamException or OverflowException)
            {
                return false;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }
}
