using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using MessagePack;

namespace Batpak.Storage;

/// <summary>
/// The two record frames of format version 2 (docs/FORMAT.md, "Records"): the <b>seal</b> that closes every sealed
/// segment, and the <b>compaction record</b> that opens every compaction output and is the only thing that lets
/// open accept a gap in the global sequence, a tombstone, or delete a file. Records use the frame envelope (length,
/// CRC-32, body) with a body that is a short MessagePack array (fixarray, under 16 fields) whose first field is a tag,
/// where an event body is an array of at least 16 fields: the first body byte tells them apart. StoreWriter writes
/// seals, SegmentCompactor and FormatUpgrade write both records, and recovery (SegmentScanner, SegmentRecordChecks,
/// EventStore) decodes them.
/// </summary>
internal static class SegmentRecords
{
    public const int SealTag = 1;
    public const int CompactionTag = 2;

    /// <summary>True when a frame body is a record, not an event.</summary>
    public static bool IsRecord(ReadOnlySpan<byte> body) => body.Length > 1 && body[0] is >= 0x92 and <= 0x9F;

    /// <summary>The last frame of a sealed segment: the global range the segment covers and the global chain's head at its end.</summary>
    public readonly record struct Seal(int SegmentId, long FirstGlobal, long NextGlobal, EventHash Head);

    /// <summary>One event that a compaction dropped: enough to keep the chains and the idempotency key without the event.</summary>
    public sealed record DroppedEvent(long GlobalSequence, long EntitySequence, EventId EventId, string Entity, ushort Kind, EventHash Hash, string? IdempotencyKey, ulong Fingerprint);

    /// <summary>What a compaction output replaces and what it removed.</summary>
    /// <param name="ReplacesFrom">The lowest segment id the output replaces; it replaces every id from there to its own.</param>
    /// <param name="FirstGlobal">The first global sequence of the range the output covers.</param>
    /// <param name="NextGlobal">One past the last global sequence of that range.</param>
    /// <param name="Dropped">The events of the range that are gone, in global order.</param>
    /// <param name="Tombstones">The global sequences, ascending, of the events in the output whose payload was removed.</param>
    public sealed record CompactionRecord(int ReplacesFrom, long FirstGlobal, long NextGlobal, IReadOnlyList<DroppedEvent> Dropped, IReadOnlyList<long> Tombstones);

    /// <summary>Appends a seal frame to <paramref name="writer"/>; returns the frame's length.</summary>
    public static int WriteSeal(PooledBufferWriter writer, in Seal seal)
    {
        int start = BeginFrame(writer);
        var mp = new MessagePackWriter(writer);
        mp.WriteArrayHeader(5);
        mp.Write(SealTag);
        mp.Write(seal.SegmentId);
        mp.Write(seal.FirstGlobal);
        mp.Write(seal.NextGlobal);
        WriteHash(ref mp, seal.Head);
        mp.Flush();
        return EndFrame(writer, start);
    }

    /// <summary>Appends a compaction record frame; <paramref name="key"/> (the chain key) adds an HMAC over the record.</summary>
    public static int WriteCompaction(PooledBufferWriter writer, CompactionRecord record, byte[]? key)
    {
        int start = BeginFrame(writer);
        var mp = new MessagePackWriter(writer);
        mp.WriteArrayHeader(7);
        mp.Write(CompactionTag);
        mp.Write(record.ReplacesFrom);
        mp.Write(record.FirstGlobal);
        mp.Write(record.NextGlobal);
        mp.WriteArrayHeader(record.Dropped.Count);
        foreach (DroppedEvent d in record.Dropped)
        {
            mp.WriteArrayHeader(8);
            mp.Write(d.GlobalSequence);
            mp.Write(d.EntitySequence);
            mp.WriteBinHeader(16);
            d.EventId.WriteBytes(mp.GetSpan(16));
            mp.Advance(16);
            mp.Write(d.Entity);
            mp.Write(d.Kind);
            WriteHash(ref mp, d.Hash);
            if (d.IdempotencyKey is null)
            {
                mp.WriteNil();
            }
            else
            {
                mp.Write(d.IdempotencyKey);
            }

            mp.Write(d.Fingerprint);
        }

        mp.WriteArrayHeader(record.Tombstones.Count);
        foreach (long sequence in record.Tombstones)
        {
            mp.Write(sequence);
        }

        mp.Flush();
        if (key is null)
        {
            mp.WriteNil();
        }
        else
        {
            Span<byte> mac = stackalloc byte[32];
            HMACSHA256.HashData(key, writer.WrittenSpan[(start + FrameFormat.FrameHeaderSize)..], mac);
            mp.WriteBinHeader(32);
            mac.CopyTo(mp.GetSpan(32));
            mp.Advance(32);
        }

        mp.Flush();
        return EndFrame(writer, start);
    }

    /// <summary>The range a compaction output covers: the first fields of its record, read without its dropped-event list.</summary>
    public readonly record struct CompactionRange(int ReplacesFrom, long FirstGlobal, long NextGlobal);

    /// <summary>
    /// Reads the range of a compaction record body without decoding the rest (its dropped events, tombstones, MAC):
    /// null when the body is not a compaction record. The MAC is not checked, so nothing may be deleted or trusted on
    /// this alone: <see cref="Decode"/> of the same body, in the segment's scan, is what verifies it.
    /// </summary>
    public static CompactionRange? PeekCompaction(ReadOnlySpan<byte> body)
    {
        try
        {
            const int RangeBytes = 32; // array header, tag, an int32 and two int64s: at most 25 bytes of MessagePack
            var reader = new MessagePackReader(body[..Math.Min(body.Length, RangeBytes)].ToArray());
            if (reader.ReadArrayHeader() < 7 || reader.ReadInt32() != CompactionTag)
            {
                return null;
            }

            return new CompactionRange(reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt64());
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Decodes a record body: a <see cref="Seal"/> or a <see cref="CompactionRecord"/>. Throws <see cref="FormatException"/> when it is neither, or when a keyed store's record MAC is missing or wrong.</summary>
    public static object Decode(ReadOnlySpan<byte> body, byte[]? key)
    {
        byte[] copy = body.ToArray();
        try
        {
            var reader = new MessagePackReader(copy);
            int count = reader.ReadArrayHeader();
            int tag = reader.ReadInt32();
            if (tag == SealTag && count >= 5)
            {
                var seal = new Seal(reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt64(), ReadHash(ref reader));
                SkipRest(ref reader, count - 5, copy.Length);
                return seal;
            }

            if (tag == CompactionTag && count >= 7)
            {
                int replacesFrom = reader.ReadInt32();
                long first = reader.ReadInt64();
                long next = reader.ReadInt64();
                var dropped = new List<DroppedEvent>(reader.ReadArrayHeader());
                for (int i = dropped.Capacity; i > 0; i--)
                {
                    if (reader.ReadArrayHeader() < 8)
                    {
                        throw new FormatException("a dropped-event entry has too few fields");
                    }

                    long global = reader.ReadInt64();
                    long entitySequence = reader.ReadInt64();
                    EventId id = EventId.FromBytes(ReadBytes(ref reader, 16));
                    string entity = reader.ReadString() ?? throw new FormatException("a dropped event has no entity");
                    ushort kind = reader.ReadUInt16();
                    EventHash hash = ReadHash(ref reader);
                    string? idempotencyKey = reader.TryReadNil() ? null : reader.ReadString();
                    dropped.Add(new DroppedEvent(global, entitySequence, id, entity, kind, hash, idempotencyKey, reader.ReadUInt64()));
                }

                var tombstones = new List<long>(reader.ReadArrayHeader());
                for (int i = tombstones.Capacity; i > 0; i--)
                {
                    tombstones.Add(reader.ReadInt64());
                }

                int macStart = (int)reader.Consumed;
                bool hasMac = !reader.TryReadNil();
                if (key is not null)
                {
                    Span<byte> expected = stackalloc byte[32];
                    HMACSHA256.HashData(key, copy.AsSpan(0, macStart), expected);
                    if (!hasMac || !ReadBytes(ref reader, 32).SequenceEqual(expected))
                    {
                        throw new FormatException("the compaction record's MAC does not verify under the chain key");
                    }
                }
                else if (hasMac)
                {
                    reader.Skip(); // written by a keyed store: the key check in the header already refused a missing key
                }

                SkipRest(ref reader, count - 7, copy.Length);
                return new CompactionRecord(replacesFrom, first, next, dropped, tombstones);
            }

            throw new FormatException($"unknown record tag {tag} with {count} fields");
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException or ArgumentException or InvalidOperationException)
        {
            throw new FormatException("the record is malformed MessagePack: " + ex.Message, ex);
        }
    }

    private static void SkipRest(ref MessagePackReader reader, int extra, int length)
    {
        for (int i = 0; i < extra; i++)
        {
            reader.Skip(); // fields of a newer minor format
        }

        if (reader.Consumed != length)
        {
            throw new FormatException($"the record has {length - reader.Consumed} trailing bytes");
        }
    }

    private static int BeginFrame(PooledBufferWriter writer)
    {
        int start = writer.WrittenCount;
        writer.Advance(FrameFormat.FrameHeaderSize, reserve: true);
        return start;
    }

    private static int EndFrame(PooledBufferWriter writer, int start)
    {
        int length = writer.WrittenCount - start;
        Span<byte> frame = writer.WrittenSpanMutable.Slice(start, length);
        Span<byte> body = frame[FrameFormat.FrameHeaderSize..];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)body.Length);
        BinaryPrimitives.WriteUInt32BigEndian(frame[4..], Crc32.HashToUInt32(body));
        return length;
    }

    private static void WriteHash(ref MessagePackWriter mp, in EventHash hash)
    {
        mp.WriteBinHeader(EventHash.Size);
        hash.WriteBytes(mp.GetSpan(EventHash.Size));
        mp.Advance(EventHash.Size);
    }

    private static EventHash ReadHash(ref MessagePackReader reader) => EventHash.FromBytes(ReadBytes(ref reader, EventHash.Size));

    private static ReadOnlySpan<byte> ReadBytes(ref MessagePackReader reader, int length)
    {
        System.Buffers.ReadOnlySequence<byte> bytes = reader.ReadBytes() ?? throw new FormatException("a byte field is nil");
        if (bytes.Length != length)
        {
            throw new FormatException($"a byte field is {bytes.Length} bytes, expected {length}");
        }

        return bytes.IsSingleSegment ? bytes.FirstSpan : System.Buffers.BuffersExtensions.ToArray(bytes);
    }
}
