using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using MessagePack;

namespace Batpak.Storage;

/// <summary>
/// Constants and codecs of the on-disk format, version 1 (docs/FORMAT.md). Pure functions: no I/O, no state.
/// </summary>
/// <remarks>
/// A segment file is <c>"FBAT"</c> + u32 BE header length + a MessagePack segment header, then frames. A frame is
/// u32 BE body length + u32 BE CRC-32 (IEEE) of the body + the body, a MessagePack array of
/// <see cref="BodyFieldCount"/> (or more, for forward compatibility) fields in the order of <see cref="BodyField"/>.
/// </remarks>
internal static partial class FrameFormat
{
    public const int FormatVersion = 2;
    public const int FrameHeaderSize = 8;
    public const int SegmentPreambleSize = 8; // magic + header length
    public const int MaxSegmentHeaderBytes = 4096;
    public const string SegmentExtension = ".fbat";
    public const int BodyFieldCount = 19;
    public const int MinBodyFieldCount = 16; // fields 16.. are optional (nil) and may be absent in a future trimmed writer

    public static ReadOnlySpan<byte> Magic => "FBAT"u8;

    /// <summary>Field positions in the frame body array.</summary>
    public enum BodyField
    {
        GlobalSequence = 0,
        EventId = 1,
        CorrelationId = 2,
        CausationId = 3,
        TimestampMicroseconds = 4,
        WallMilliseconds = 5,
        Counter = 6,
        Depth = 7,
        EntitySequence = 8,
        Kind = 9,
        Flags = 10,
        PrevHash = 11,
        Hash = 12,
        Entity = 13,
        Scope = 14,
        Payload = 15,
        IdempotencyKey = 16,
        BypassReason = 17,
        BatchRemaining = 18,
    }

    /// <summary>
    /// The file name of a segment: its id in at least six digits (<c>000042.fbat</c>, <c>1000000.fbat</c>), so
    /// every name of the first 999,999 segments is unchanged. Ids are <see cref="int"/>s; the writer refuses to
    /// rotate past <see cref="int.MaxValue"/> rather than overflow (see <c>StoreWriter.Rotate</c>).
    /// </summary>
    public static string SegmentFileName(int segmentId) => segmentId.ToString("D6", System.Globalization.CultureInfo.InvariantCulture) + SegmentExtension;

    /// <summary>
    /// Parses a name <see cref="SegmentFileName"/> writes (<c>000042.fbat</c> to 42, <c>1000000.fbat</c> to
    /// 1,000,000); false for any other name, including other spellings of an id (<c>0000042.fbat</c>).
    /// </summary>
    public static bool TryParseSegmentFileName(string fileName, out int segmentId)
    {
        segmentId = 0;
        int digits = fileName.Length - SegmentExtension.Length;
        if (digits < 6 || digits > 10 || !fileName.EndsWith(SegmentExtension, StringComparison.Ordinal))
        {
            return false;
        }

        // Only the one spelling (no extra leading zeros), so two files can never name the same id.
        if (!int.TryParse(fileName.AsSpan(0, digits), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int parsed)
            || parsed <= 0 || !string.Equals(SegmentFileName(parsed), fileName, StringComparison.Ordinal))
        {
            return false;
        }

        segmentId = parsed;
        return true;
    }

    /// <summary>The fields of one frame, as encoded; strings and payload are references, not copies, when decoded with spans.</summary>
    public struct FrameFields
    {
        public long GlobalSequence;
        public EventId EventId;
        public EventId CorrelationId;
        public EventId CausationId; // Empty = none
        public long TimestampMicroseconds;
        public long WallMilliseconds;
        public uint Counter;
        public uint Depth;
        public long EntitySequence;
        public ushort Kind;
        public ushort Flags;
        public EventHash PrevHash;
        public EventHash Hash;
        public string Entity;
        public string Scope;
        public string? IdempotencyKey;
        public string? BypassReason;
        public uint BatchRemaining; // frames of the same atomic batch that follow this one (0: last or single)
    }

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

    /// <summary>The public header record of a decoded frame.</summary>
    public static EventHeader ToHeader(in FrameFields fields) => new(
        fields.EventId,
        fields.CorrelationId,
        fields.CausationId.IsEmpty ? null : fields.CausationId,
        fields.TimestampMicroseconds,
        new DagPosition(fields.WallMilliseconds, fields.Counter, fields.Depth, fields.EntitySequence),
        EventKind.FromValue(fields.Kind),
        (EventFlags)fields.Flags,
        fields.GlobalSequence,
        fields.PrevHash,
        fields.Hash);

    /// <summary>Checks a frame's CRC. <paramref name="frame"/> is the whole frame including its 8-byte header.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the read path: tiering would run it unoptimized through the first reads after open
    public static bool CrcMatches(ReadOnlySpan<byte> frame) =>
        Crc32.HashToUInt32(frame[FrameHeaderSize..]) == BinaryPrimitives.ReadUInt32BigEndian(frame[4..]);

    /// <summary>
    /// Decodes a frame body (without its 8-byte header). The payload is a slice of <paramref name="body"/>, not a
    /// copy. Throws <see cref="FormatException"/> for malformed bodies.
    /// </summary>
    /// <param name="body">The frame body.</param>
    /// <param name="payload">A slice of <paramref name="body"/> holding the payload.</param>
    /// <param name="coordinates">Interns the entity and scope names; null allocates them.</param>
    /// <param name="skipCoordinate">Leaves <see cref="FrameFields.Entity"/>/<see cref="FrameFields.Scope"/> empty (the caller knows them from the index).</param>
    public static FrameFields ReadBody(ReadOnlyMemory<byte> body, out ReadOnlyMemory<byte> payload, StringInterner? coordinates = null, bool skipCoordinate = false)
    {
        try
        {
            // Anything the fast reader does not expect (a newer field of another type, or damage) takes the
            // general MessagePack reader, which also produces the precise error.
            if (!FastBodyReader.TryRead(body.Span, out FrameFields f, out int payloadStart, out int payloadLength, coordinates, skipCoordinate))
            {
                f = ReadBodyGeneral(body, out payloadStart, out payloadLength, coordinates, skipCoordinate);
            }

            payload = body.Slice(payloadStart, payloadLength);
            return f;
        }
        catch (Exception ex) when (IsMalformedBody(ex))
        {
            throw MalformedBody(ex);
        }
    }

    /// <summary>
    /// Decodes a frame body (without its 8-byte header) straight from a span, for instance one over a memory-mapped
    /// segment. The payload is <c>body.Slice(payloadStart, payloadLength)</c>. Throws <see cref="FormatException"/>
    /// for malformed bodies, exactly as the <see cref="ReadOnlyMemory{T}"/> overload does.
    /// </summary>
    /// <param name="body">The frame body.</param>
    /// <param name="payloadStart">Where the payload starts in <paramref name="body"/>.</param>
    /// <param name="payloadLength">The payload length.</param>
    /// <param name="coordinates">Interns the entity and scope names; null allocates them.</param>
    /// <param name="skipCoordinate">Leaves <see cref="FrameFields.Entity"/>/<see cref="FrameFields.Scope"/> empty (the caller knows them from the index).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per frame during recovery: tiering would run it unoptimized for most of an open
    public static FrameFields ReadBody(ReadOnlySpan<byte> body, out int payloadStart, out int payloadLength, StringInterner? coordinates = null, bool skipCoordinate = false)
    {
        try
        {
            if (FastBodyReader.TryRead(body, out FrameFields f, out payloadStart, out payloadLength, coordinates, skipCoordinate))
            {
                return f;
            }

            // Rare (a frame this writer does not emit, or damage): the general reader needs memory, so the body is
            // copied; the payload position is the same in the copy.
            return ReadBodyGeneral(body.ToArray(), out payloadStart, out payloadLength, coordinates, skipCoordinate);
        }
        catch (Exception ex) when (IsMalformedBody(ex))
        {
            throw MalformedBody(ex);
        }
    }

    // MessagePackReader reports malformed input (an unexpected type code, a bin length past the end, an
    // out-of-range integer) with these exceptions; every caller gets one: FormatException.
    private static bool IsMalformedBody(Exception ex) =>
        ex is MessagePackSerializationException or EndOfStreamException or OverflowException or ArgumentException or InvalidOperationException;

    private static FormatException MalformedBody(Exception ex) => new("the frame body is malformed MessagePack: " + ex.Message, ex);

    /// <summary>Decodes a body with <see cref="MessagePackReader"/>; throws on anything malformed.</summary>
    private static FrameFields ReadBodyGeneral(ReadOnlyMemory<byte> body, out int payloadStart, out int payloadLength, StringInterner? coordinates, bool skipCoordinate)
    {
        var reader = new MessagePackReader(body);
        int count = reader.ReadArrayHeader();
        if (count < MinBodyFieldCount)
        {
            throw new FormatException($"the frame body has {count} fields, expected at least {MinBodyFieldCount}");
        }

        FrameFields f = default;
        f.GlobalSequence = reader.ReadInt64();
        f.EventId = ReadId(ref reader);
        f.CorrelationId = reader.TryReadNil() ? f.EventId : ReadId(ref reader);
        f.CausationId = reader.TryReadNil() ? EventId.Empty : ReadId(ref reader);
        f.TimestampMicroseconds = reader.ReadInt64();
        f.WallMilliseconds = checked(FloorDiv(f.TimestampMicroseconds, 1000) + reader.ReadInt64());
        f.Counter = reader.ReadUInt32();
        f.Depth = reader.ReadUInt32();
        f.EntitySequence = reader.ReadInt64();
        f.Kind = reader.ReadUInt16();
        f.Flags = reader.ReadUInt16();
        f.PrevHash = ReadHash(ref reader);
        f.Hash = ReadHash(ref reader);
        if (skipCoordinate)
        {
            reader.Skip();
            reader.Skip();
            f.Entity = f.Scope = string.Empty;
        }
        else
        {
            f.Entity = ReadCoordinatePart(ref reader, coordinates) ?? throw new FormatException("the entity is nil");
            f.Scope = ReadCoordinatePart(ref reader, coordinates) ?? throw new FormatException("the scope is nil");
        }
        ReadOnlySequence<byte>? bytes = reader.ReadBytes();
        if (bytes is null)
        {
            throw new FormatException("the payload is nil");
        }

        // The body is one contiguous block, so the payload is a slice of it (no copy).
        payloadStart = (int)(body.Length - reader.Sequence.Slice(bytes.Value.Start).Length);
        payloadLength = (int)bytes.Value.Length;
        if (count > (int)BodyField.IdempotencyKey)
        {
            f.IdempotencyKey = reader.TryReadNil() ? null : reader.ReadString();
        }

        if (count > (int)BodyField.BypassReason)
        {
            f.BypassReason = reader.TryReadNil() ? null : reader.ReadString();
        }

        if (count > (int)BodyField.BatchRemaining)
        {
            f.BatchRemaining = reader.ReadUInt32();
        }

        for (int i = BodyFieldCount; i < count; i++)
        {
            reader.Skip(); // fields of a newer minor format: ignored
        }

        if (f.GlobalSequence < 0 || f.EntitySequence < 0)
        {
            throw new FormatException($"negative sequence (global {f.GlobalSequence}, entity {f.EntitySequence})");
        }

        return f;
    }

    /// <summary>The flag bits the hash covers: all but <see cref="EventFlags.Tombstone"/>, which compaction sets (a compaction record proves it).</summary>
    public const ushort HashedFlagsMask = unchecked((ushort)~(ushort)EventFlags.Tombstone);

    /// <summary>
    /// The hash-chain link (format version 2): SHA-256, or HMAC-SHA256 when <paramref name="sha"/> is keyed, over the
    /// previous hash, every header field a reader relies on, the coordinate, the idempotency key, the bypass reason
    /// and the payload; each part fixed-size or length-prefixed so no two inputs share an encoding (docs/FORMAT.md,
    /// "Hash chain"). The tombstone flag bit is left out, so a tombstone keeps the hash of the event it replaced.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the append path: tiering would run it unoptimized (and instrumented) through a short burst of appends
    public static EventHash ComputeHash(IncrementalHash sha, in FrameFields f, ReadOnlySpan<byte> payload)
    {
        const int FixedSize = 32 + 16 + 16 + 16 + 8 + 8 + 8 + 4 + 2 + 2 + 8 + 4;
        int variableMax = Encoding.UTF8.GetMaxByteCount(f.Entity.Length) + Encoding.UTF8.GetMaxByteCount(f.Scope.Length)
            + Encoding.UTF8.GetMaxByteCount(f.IdempotencyKey?.Length ?? 0) + Encoding.UTF8.GetMaxByteCount(f.BypassReason?.Length ?? 0);
        long max = FixedSize + (5 * 4) + (long)variableMax + payload.Length;
        Span<byte> digest = stackalloc byte[EventHash.Size];
        if (max > 4096)
        {
            // Large inputs are hashed in pieces rather than copied.
            Span<byte> head = stackalloc byte[FixedSize];
            WriteFixed(head, f);
            sha.AppendData(head);
            AppendString(sha, f.Entity);
            AppendString(sha, f.Scope);
            AppendOptionalString(sha, f.IdempotencyKey);
            AppendOptionalString(sha, f.BypassReason);
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, payload.Length);
            sha.AppendData(length);
            sha.AppendData(payload);
            sha.GetHashAndReset(digest);
            return EventHash.FromBytes(digest);
        }

        // One contiguous input, hashed with one append to the caller's reusable hash: about half the cost of several
        // incremental appends, and cheaper than the one-shot SHA256.HashData (which sets up a native context per call).
        Span<byte> input = stackalloc byte[4096];
        WriteFixed(input, f);
        int at = FixedSize;
        at += WriteString(input[at..], f.Entity);
        at += WriteString(input[at..], f.Scope);
        at += WriteOptionalString(input[at..], f.IdempotencyKey);
        at += WriteOptionalString(input[at..], f.BypassReason);
        BinaryPrimitives.WriteInt32BigEndian(input[at..], payload.Length);
        at += 4;
        payload.CopyTo(input[at..]);
        at += payload.Length;
        sha.AppendData(input[..at]);
        sha.GetHashAndReset(digest);
        return EventHash.FromBytes(digest);

        static void WriteFixed(Span<byte> destination, in FrameFields f)
        {
            f.PrevHash.WriteBytes(destination);
            f.EventId.WriteBytes(destination[32..]);
            f.CorrelationId.WriteBytes(destination[48..]);
            f.CausationId.WriteBytes(destination[64..]);
            BinaryPrimitives.WriteInt64BigEndian(destination[80..], f.GlobalSequence);
            BinaryPrimitives.WriteInt64BigEndian(destination[88..], f.TimestampMicroseconds);
            BinaryPrimitives.WriteInt64BigEndian(destination[96..], f.EntitySequence);
            BinaryPrimitives.WriteUInt32BigEndian(destination[104..], f.Depth);
            BinaryPrimitives.WriteUInt16BigEndian(destination[108..], f.Kind);
            BinaryPrimitives.WriteUInt16BigEndian(destination[110..], (ushort)(f.Flags & HashedFlagsMask));
            BinaryPrimitives.WriteInt64BigEndian(destination[112..], f.WallMilliseconds);
            BinaryPrimitives.WriteUInt32BigEndian(destination[120..], f.Counter);
        }

        static int WriteString(Span<byte> destination, string value)
        {
            int written = Encoding.UTF8.GetBytes(value, destination[4..]);
            BinaryPrimitives.WriteInt32BigEndian(destination, written);
            return written + 4;
        }

        static int WriteOptionalString(Span<byte> destination, string? value)
        {
            if (value is null)
            {
                BinaryPrimitives.WriteInt32BigEndian(destination, -1); // absent differs from empty
                return 4;
            }

            return WriteString(destination, value);
        }
    }

    /// <summary>
    /// Decodes a frame body written by this version's <see cref="WriteFrame"/> straight from the span: the exact
    /// MessagePack forms the writer emits, every length checked against the span. Returns false (never throws) on
    /// anything else, and the caller falls back to <see cref="MessagePackReader"/>.
    /// </summary>
    private ref struct FastBodyReader(ReadOnlySpan<byte> span)
    {
        private readonly ReadOnlySpan<byte> _span = span;
        private int _position;

        /// <summary>Decodes <paramref name="body"/>; the payload is <c>body.Slice(payloadStart, payloadLength)</c>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per frame during recovery: tiering would run it unoptimized for most of an open
        public static bool TryRead(ReadOnlySpan<byte> body, out FrameFields f, out int payloadStart, out int payloadLength, StringInterner? coordinates, bool skipCoordinate)
        {
            f = default;
            payloadStart = payloadLength = 0;
            var r = new FastBodyReader(body);
            if (!r.TryArrayHeader(out int count) || count < MinBodyFieldCount || count > BodyFieldCount
                || !r.TryInt64(out f.GlobalSequence)
                || !r.TryId(out f.EventId))
            {
                return false;
            }

            if (r.TryNil())
            {
                f.CorrelationId = f.EventId;
            }
            else if (!r.TryId(out f.CorrelationId))
            {
                return false;
            }

            if (r.TryNil())
            {
                f.CausationId = EventId.Empty;
            }
            else if (!r.TryId(out f.CausationId))
            {
                return false;
            }

            if (!r.TryInt64(out f.TimestampMicroseconds) || !r.TryInt64(out long wallDelta)
                || !r.TryUInt32(out f.Counter) || !r.TryUInt32(out f.Depth)
                || !r.TryInt64(out f.EntitySequence)
                || !r.TryUInt16(out f.Kind) || !r.TryUInt16(out f.Flags)
                || !r.TryHash(out f.PrevHash) || !r.TryHash(out f.Hash))
            {
                return false;
            }

            long wallBase = FloorDiv(f.TimestampMicroseconds, 1000);
            if ((wallDelta > 0 && wallBase > long.MaxValue - wallDelta) || (wallDelta < 0 && wallBase < long.MinValue - wallDelta))
            {
                return false;
            }

            f.WallMilliseconds = wallBase + wallDelta;
            if (!r.TryStr(out int entityStart, out int entityLength) || !r.TryStr(out int scopeStart, out int scopeLength)
                || !r.TryBin(out int binStart, out int binLength))
            {
                return false;
            }

            if (skipCoordinate)
            {
                f.Entity = f.Scope = string.Empty;
            }
            else
            {
                ReadOnlySpan<byte> entity = body.Slice(entityStart, entityLength);
                ReadOnlySpan<byte> scope = body.Slice(scopeStart, scopeLength);
                f.Entity = coordinates?.Intern(entity) ?? Encoding.UTF8.GetString(entity);
                f.Scope = coordinates?.Intern(scope) ?? Encoding.UTF8.GetString(scope);
            }

            if (count > (int)BodyField.IdempotencyKey && !r.TryOptionalString(body, out f.IdempotencyKey))
            {
                return false;
            }

            if (count > (int)BodyField.BypassReason && !r.TryOptionalString(body, out f.BypassReason))
            {
                return false;
            }

            if (count > (int)BodyField.BatchRemaining && !r.TryUInt32(out f.BatchRemaining))
            {
                return false;
            }

            if (r._position != r._span.Length || f.GlobalSequence < 0 || f.EntitySequence < 0)
            {
                return false; // trailing bytes or negative sequences: the general reader reports it
            }

            payloadStart = binStart;
            payloadLength = binLength;
            return true;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // with TryRead: hot in recovery and every read
        private bool TryByte(out byte value)
        {
            if (_position < _span.Length)
            {
                value = _span[_position++];
                return true;
            }

            value = 0;
            return false;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // with TryRead: hot in recovery and every read
        private bool TryBigEndian(int size, out ulong value)
        {
            value = 0;
            if (_span.Length - _position < size)
            {
                return false;
            }

            for (int i = 0; i < size; i++)
            {
                value = (value << 8) | _span[_position + i];
            }

            _position += size;
            return true;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // with TryRead: hot in recovery and every read
        public bool TryNil()
        {
            if (_position < _span.Length && _span[_position] == 0xC0)
            {
                _position++;
                return true;
            }

            return false;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // with TryRead: hot in recovery and every read
        public bool TryArrayHeader(out int count)
        {
            count = 0;
            if (!TryByte(out byte code))
            {
                return false;
            }

            if (code is >= 0x90 and <= 0x9F)
            {
                count = code & 0x0F;
                return true;
            }

            if (code == 0xDC && TryBigEndian(2, out ulong length16))
            {
                count = (int)length16;
                return true;
            }

            return false;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // with TryRead: hot in recovery and every read
        public bool TryInt64(out long value)
        {
            value = 0;
            if (!TryByte(out byte code))
            {
                return false;
            }

            ulong raw;
            switch (code)
            {
                case <= 0x7F:
                    value = code;
                    return true;
                case >= 0xE0:
                    value = (sbyte)code;
                    return true;
                case 0xCC:
                    if (!TryBigEndian(1, out raw)) { return false; }
                    value = (long)raw;
                    return true;
                case 0xCD:
                    if (!TryBigEndian(2, out raw)) { return false; }
                    value = (long)raw;
                    return true;
                case 0xCE:
                    if (!TryBigEndian(4, out raw)) { return false; }
                    value = (long)raw;
                    return true;
                case 0xCF:
                    if (!TryBigEndian(8, out raw) || raw > long.MaxValue) { return false; }
                    value = (long)raw;
                    return true;
                case 0xD0:
                    if (!TryBigEndian(1, out raw)) { return false; }
                    value = (sbyte)raw;
                    return true;
                case 0xD1:
                    if (!TryBigEndian(2, out raw)) { return false; }
                    value = (short)raw;
                    return true;
                case 0xD2:
                    if (!TryBigEndian(4, out raw)) { return false; }
                    value = (int)raw;
                    return true;
                case 0xD3:
                    if (!TryBigEndian(8, out raw)) { return false; }
                    value = (long)raw;
                    return true;
                default:
                    return false;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // with TryRead: hot in recovery and every read
        public bool TryUInt32(out uint value)
        {
            value = 0;
            if (!TryInt64(out long wide) || wide < 0 || wide > uint.MaxValue)
            {
                return false;
            }

            value = (uint)wide;
            return true;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // with TryRead: hot in recovery and every read
        public bool TryUInt16(out ushort value)
        {
            value = 0;
            if (!TryInt64(out long wide) || wide < 0 || wide > ushort.MaxValue)
            {
                return false;
            }

            value = (ushort)wide;
            return true;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // with TryRead: hot in recovery and every read
        public bool TryBin(out int start, out int length)
        {
            start = length = 0;
            if (!TryByte(out byte code))
            {
                return false;
            }

            ulong raw;
            switch (code)
            {
                case 0xC4:
                    if (!TryBigEndian(1, out raw)) { return false; }
                    break;
                case 0xC5:
                    if (!TryBigEndian(2, out raw)) { return false; }
                    break;
                case 0xC6:
                    if (!TryBigEndian(4, out raw)) { return false; }
                    break;
                default:
                    return false;
            }

            return TryTake(raw, out start, out length);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // with TryRead: hot in recovery and every read
        public bool TryStr(out int start, out int length)
        {
            start = length = 0;
            if (!TryByte(out byte code))
            {
                return false;
            }

            ulong raw;
            switch (code)
            {
                case >= 0xA0 and <= 0xBF:
                    raw = (ulong)(code & 0x1F);
                    break;
                case 0xD9:
                    if (!TryBigEndian(1, out raw)) { return false; }
                    break;
                case 0xDA:
                    if (!TryBigEndian(2, out raw)) { return false; }
                    break;
                case 0xDB:
                    if (!TryBigEndian(4, out raw)) { return false; }
                    break;
                default:
                    return false;
            }

            return TryTake(raw, out start, out length);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // with TryRead: hot in recovery and every read
        public bool TryOptionalString(ReadOnlySpan<byte> body, out string? value)
        {
            value = null;
            if (TryNil())
            {
                return true;
            }

            if (!TryStr(out int start, out int length))
            {
                return false;
            }

            value = Encoding.UTF8.GetString(body.Slice(start, length));
            return true;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // with TryRead: hot in recovery and every read
        private bool TryId(out EventId id)
        {
            id = default;
            if (!TryBin(out int start, out int length) || length != 16)
            {
                return false;
            }

            id = EventId.FromBytes(_span.Slice(start, 16));
            return true;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // with TryRead: hot in recovery and every read
        private bool TryHash(out EventHash hash)
        {
            hash = default;
            if (!TryBin(out int start, out int length) || length != EventHash.Size)
            {
                return false;
            }

            hash = EventHash.FromBytes(_span.Slice(start, EventHash.Size));
            return true;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // with TryRead: hot in recovery and every read
        private bool TryTake(ulong length, out int start, out int taken)
        {
            start = _position;
            taken = 0;
            if (length > (ulong)(_span.Length - _position))
            {
                return false;
            }

            taken = (int)length;
            _position += taken;
            return true;
        }
    }

    private static string? ReadCoordinatePart(ref MessagePackReader reader, StringInterner? interner)
    {
        if (interner is null || !reader.TryReadStringSpan(out ReadOnlySpan<byte> utf8))
        {
            return reader.ReadString();
        }

        return interner.Intern(utf8);
    }

    private static long FloorDiv(long value, long divisor) => value >= 0 ? value / divisor : ((value + 1) / divisor) - 1;

    private static void AppendString(IncrementalHash sha, string value)
    {
        int max = Encoding.UTF8.GetMaxByteCount(value.Length);
        byte[]? rented = null;
        Span<byte> buffer = max + 4 <= 1024 ? stackalloc byte[1024] : (rented = ArrayPool<byte>.Shared.Rent(max + 4));
        int written = Encoding.UTF8.GetBytes(value, buffer[4..]);
        BinaryPrimitives.WriteInt32BigEndian(buffer, written);
        sha.AppendData(buffer[..(written + 4)]);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static void AppendOptionalString(IncrementalHash sha, string? value)
    {
        if (value is null)
        {
            Span<byte> absent = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(absent, -1);
            sha.AppendData(absent);
            return;
        }

        AppendString(sha, value);
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

    private static EventId ReadId(ref MessagePackReader reader)
    {
        ReadOnlySequence<byte> bytes = reader.ReadBytes() ?? throw new FormatException("an id is nil");
        if (bytes.Length != 16)
        {
            throw new FormatException($"an id is {bytes.Length} bytes, expected 16");
        }

        Span<byte> buffer = stackalloc byte[16];
        bytes.CopyTo(buffer);
        return EventId.FromBytes(buffer);
    }

    private static EventHash ReadHash(ref MessagePackReader reader)
    {
        ReadOnlySequence<byte> bytes = reader.ReadBytes() ?? throw new FormatException("a hash is nil");
        if (bytes.Length != EventHash.Size)
        {
            throw new FormatException($"a hash is {bytes.Length} bytes, expected {EventHash.Size}");
        }

        Span<byte> buffer = stackalloc byte[EventHash.Size];
        bytes.CopyTo(buffer);
        return EventHash.FromBytes(buffer);
    }
}
