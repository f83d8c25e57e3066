// Owns the frame decoder: the CRC check and ReadBody, which tries FastBodyReader (FrameFormat.FastBody.cs) and
// falls back to the general MessagePack reader. Called wherever a frame is read: EventStore's reads, SegmentScanner
// (recovery), SegmentCompactor, FormatVersion1, and tests.
using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using MessagePack;

namespace Batpak.Storage;

internal static partial class FrameFormat
{
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

    private static string? ReadCoordinatePart(ref MessagePackReader reader, StringInterner? interner)
    {
        if (interner is null || !reader.TryReadStringSpan(out ReadOnlySpan<byte> utf8))
        {
            return reader.ReadString();
        }

        return interner.Intern(utf8);
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
