// Owns the frame encoder: one event as a whole frame (length, CRC-32, MessagePack body) appended to a buffer.
// Called by StoreWriter (appends), SegmentCompactor and FormatUpgrade (rewrites), and tests and bench.
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using MessagePack;

namespace Batpak.Storage;

internal static partial class FrameFormat
{
    /// <summary>
    /// Encodes a whole frame (8-byte header + body) at the end of <paramref name="writer"/>. Returns the frame length.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the append path: tiering would run it unoptimized (and instrumented) through a short burst of appends
    public static int WriteFrame(PooledBufferWriter writer, in FrameFields f, ReadOnlySpan<byte> payload)
    {
        int start = writer.WrittenCount;
        writer.Advance(FrameHeaderSize, reserve: true);
        var mp = new MessagePackWriter(writer);
        mp.WriteArrayHeader(BodyFieldCount);
        mp.Write(f.GlobalSequence);
        WriteId(ref mp, f.EventId);
        if (f.CorrelationId == f.EventId)
        {
            mp.WriteNil(); // a root is its own correlation: 17 bytes saved on most events
        }
        else
        {
            WriteId(ref mp, f.CorrelationId);
        }

        if (f.CausationId.IsEmpty)
        {
            mp.WriteNil();
        }
        else
        {
            WriteId(ref mp, f.CausationId);
        }

        mp.Write(f.TimestampMicroseconds);
        mp.Write(f.WallMilliseconds - FloorDiv(f.TimestampMicroseconds, 1000)); // the HLC wall as a delta from the timestamp: usually 0, one byte
        mp.Write(f.Counter);
        mp.Write(f.Depth);
        mp.Write(f.EntitySequence);
        mp.Write(f.Kind);
        mp.Write(f.Flags);
        WriteHash(ref mp, f.PrevHash);
        WriteHash(ref mp, f.Hash);
        mp.Write(f.Entity);
        mp.Write(f.Scope);
        mp.Write(payload);
        WriteOptionalString(ref mp, f.IdempotencyKey);
        WriteOptionalString(ref mp, f.BypassReason);
        mp.Write(f.BatchRemaining);
        mp.Flush();

        int length = writer.WrittenCount - start;
        Span<byte> frame = writer.WrittenSpanMutable.Slice(start, length);
        Span<byte> body = frame[FrameHeaderSize..];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)body.Length);
        BinaryPrimitives.WriteUInt32BigEndian(frame[4..], Crc32.HashToUInt32(body));
        return length;
    }

    private static void WriteId(ref MessagePackWriter mp, EventId id)
    {
        mp.WriteBinHeader(16);
        id.WriteBytes(mp.GetSpan(16));
        mp.Advance(16);
    }

    private static void WriteHash(ref MessagePackWriter mp, EventHash hash)
    {
        mp.WriteBinHeader(EventHash.Size);
        hash.WriteBytes(mp.GetSpan(EventHash.Size));
        mp.Advance(EventHash.Size);
    }

    private static void WriteOptionalString(ref MessagePackWriter mp, string? value)
    {
        if (value is null)
        {
            mp.WriteNil();
        }
        else
        {
            mp.Write(value);
        }
    }
}
