using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;

namespace Batpak;

/// <summary>
/// A 128-bit UUIDv7 event identifier: 48 bits of Unix milliseconds, then a counter and random bits, so ids sort
/// by creation time. Ids made by one process are strictly increasing (monotonic even within one millisecond
/// and across a clock step backwards).
/// </summary>
public readonly record struct EventId : IComparable<EventId>
{
    /// <summary>The 128-bit value; the UUID's bytes in big-endian order.</summary>
    public UInt128 Value { get; }

    /// <summary>Wraps a raw 128-bit value.</summary>
    public EventId(UInt128 value) => Value = value;

    /// <summary>The empty id (all zero bits); never assigned to an event.</summary>
    public static EventId Empty => default;

    /// <summary><see langword="true"/> for <see cref="Empty"/>.</summary>
    public bool IsEmpty => Value == UInt128.Zero;

    /// <summary>The Unix time in milliseconds encoded in the first 48 bits.</summary>
    public long UnixMilliseconds => (long)(ulong)(Value >> 80);

    /// <summary>Writes the 16 big-endian bytes of the id.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than 16 bytes.</exception>
    public void WriteBytes(Span<byte> destination) => BinaryPrimitives.WriteUInt128BigEndian(destination, Value);

    /// <summary>Reads an id from 16 big-endian bytes.</summary>
    public static EventId FromBytes(ReadOnlySpan<byte> source) => new(BinaryPrimitives.ReadUInt128BigEndian(source));

    /// <summary>Converts to a <see cref="Guid"/> with the same textual form.</summary>
    public Guid ToGuid()
    {
        Span<byte> bytes = stackalloc byte[16];
        WriteBytes(bytes);
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>Converts from a <see cref="Guid"/> with the same textual form.</summary>
    public static EventId FromGuid(Guid value)
    {
        Span<byte> bytes = stackalloc byte[16];
        value.TryWriteBytes(bytes, bigEndian: true, out _);
        return FromBytes(bytes);
    }

    /// <summary>Parses the UUID text form (<c>xxxxxxxx-xxxx-7xxx-xxxx-xxxxxxxxxxxx</c>).</summary>
    /// <exception cref="FormatException">The text is not a UUID.</exception>
    public static EventId Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return FromGuid(Guid.Parse(text));
    }

    /// <inheritdoc />
    public int CompareTo(EventId other) => Value.CompareTo(other.Value);

    /// <summary>Less-than by time order.</summary>
    public static bool operator <(EventId left, EventId right) => left.Value < right.Value;

    /// <summary>Greater-than by time order.</summary>
    public static bool operator >(EventId left, EventId right) => left.Value > right.Value;

    /// <summary>Less-or-equal by time order.</summary>
    public static bool operator <=(EventId left, EventId right) => left.Value <= right.Value;

    /// <summary>Greater-or-equal by time order.</summary>
    public static bool operator >=(EventId left, EventId right) => left.Value >= right.Value;

    /// <summary>Returns the UUID text form, lower-case with dashes.</summary>
    public override string ToString() => ToGuid().ToString("D", CultureInfo.InvariantCulture);
}

/// <summary>
/// Makes strictly increasing UUIDv7 ids. Thread-safe. Layout: 48-bit ms | version 7 | 12-bit counter-high |
/// variant 0b10 | 62-bit counter-low; the 74 counter bits start random (top bit clear, leaving room) each new
/// millisecond and are incremented within one, so ids never repeat or go backwards while the process lives.
/// </summary>
internal sealed class EventIdGenerator(TimeProvider time)
{
    private const int CounterBits = 74;
    private static readonly UInt128 s_counterMask = (UInt128.One << CounterBits) - 1;
    private readonly Lock _lock = new();
    private long _lastMs = -1;
    private UInt128 _counter;

    public EventId Next()
    {
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_lock)
        {
            if (now > _lastMs)
            {
                _lastMs = now;
                _counter = RandomCounter();
            }
            else
            {
                _counter++;
                if (_counter > s_counterMask)
                {
                    _lastMs++;
                    _counter = RandomCounter();
                }
            }

            return Pack(_lastMs, _counter);
        }
    }

    /// <summary>
    /// Makes every later id greater than <paramref name="last"/> (the largest id a store holds, at open), even when
    /// the wall clock now reads earlier than it did when <paramref name="last"/> was issued: ids then keep the store's
    /// append order across restarts. Never moves the generator back.
    /// </summary>
    public void SeedAfter(EventId last)
    {
        if (last.IsEmpty)
        {
            return;
        }

        long ms = last.UnixMilliseconds;
        UInt128 counter = (((last.Value >> 64) & 0xFFF) << 62) | (last.Value & ((UInt128.One << 62) - 1));
        lock (_lock)
        {
            if (ms > _lastMs || (ms == _lastMs && counter > _counter))
            {
                _lastMs = ms;
                _counter = counter;
            }
        }
    }

    private static UInt128 RandomCounter()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        // Keep the top counter bit clear so a millisecond has 2^73 increments of room before it overflows.
        return BinaryPrimitives.ReadUInt128BigEndian(bytes) & (s_counterMask >> 1);
    }

    internal static EventId Pack(long unixMs, UInt128 counter)
    {
        UInt128 high12 = (counter >> 62) & 0xFFF;
        UInt128 low62 = counter & ((UInt128.One << 62) - 1);
        UInt128 value = ((UInt128)(ulong)(unixMs & 0xFFFF_FFFF_FFFF) << 80)
                        | ((UInt128)0x7 << 76)
                        | (high12 << 64)
                        | ((UInt128)0x2 << 62)
                        | low62;
        return new EventId(value);
    }
}
