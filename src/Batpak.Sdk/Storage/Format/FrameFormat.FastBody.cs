// Owns FastBodyReader, the span decoder for exactly the MessagePack forms WriteFrame emits. Private: only
// ReadBody (FrameFormat.Reader.cs) calls it, on every frame read and recovered.
using System.Runtime.CompilerServices;
using System.Text;
using MessagePack;

namespace Batpak.Storage;

internal static partial class FrameFormat
{
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
}
