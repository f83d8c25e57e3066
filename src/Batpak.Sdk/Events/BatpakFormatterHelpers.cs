using System.Buffers;
using System.ComponentModel;
using System.Globalization;
using MessagePack;
using MessagePack.Formatters;

namespace Batpak;

/// <summary>
/// Building blocks of the generated serializers: bounded headers, an iterative skip, and the wire forms of the
/// BCL types MessagePack has no single convention for. Public only because generated code in user assemblies
/// calls it; not meant to be called directly.
/// </summary>
/// <remarks>
/// Wire forms (stable, part of the on-disk format): <see cref="decimal"/> as an invariant-culture string (the
/// MessagePack <c>DecimalFormatter</c> convention; keeps the scale, so <c>1.10m</c> stays <c>1.10m</c>);
/// <see cref="Guid"/> as a 16-byte bin in RFC 4122 (big-endian) order; <see cref="DateTime"/> as one int64,
/// <c>Kind &lt;&lt; 62 | Ticks</c>; <see cref="DateTimeOffset"/> as the array <c>[clock ticks, offset minutes]</c>;
/// <see cref="TimeSpan"/> as int64 ticks.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class BatpakFormatterHelpers
{
    /// <summary>The deepest nesting of arrays and maps accepted while reading or skipping, as MessagePack's untrusted-data default.</summary>
    public const int MaxDepth = 500;

    private const long TicksMask = (1L << 62) - 1;

    /// <summary>Enters one nesting level; the caller decrements <see cref="MessagePackReader.Depth"/> when done.</summary>
    /// <exception cref="MessagePackSerializationException">The nesting exceeds <see cref="MaxDepth"/>.</exception>
    public static void Enter(ref MessagePackReader reader)
    {
        if (++reader.Depth > MaxDepth)
        {
            throw new MessagePackSerializationException($"The payload nests deeper than {MaxDepth} levels.");
        }
    }

    /// <summary>Reads an array header whose count cannot exceed the remaining bytes (every element takes at least one).</summary>
    /// <remarks>MessagePack 2.5's reader makes the same check today; this one keeps the guarantee (and the exception type) ours.</remarks>
    /// <exception cref="MessagePackSerializationException">The header is not an array or claims more elements than bytes remain.</exception>
    public static int ReadArrayHeader(ref MessagePackReader reader)
    {
        int count = reader.ReadArrayHeader();
        if (count > Remaining(in reader))
        {
            throw new MessagePackSerializationException($"An array claims {count} elements but only {Remaining(in reader)} bytes remain.");
        }

        return count;
    }

    /// <summary>Reads a map header whose entry count cannot exceed half the remaining bytes.</summary>
    /// <exception cref="MessagePackSerializationException">The header is not a map or claims more entries than bytes remain.</exception>
    public static int ReadMapHeader(ref MessagePackReader reader)
    {
        int count = reader.ReadMapHeader();
        if (2L * count > Remaining(in reader))
        {
            throw new MessagePackSerializationException($"A map claims {count} entries but only {Remaining(in reader)} bytes remain.");
        }

        return count;
    }

    /// <summary>Skips one value of any shape without recursion (unknown trailing members of a newer schema).</summary>
    /// <exception cref="MessagePackSerializationException">The value is truncated or claims more elements than bytes remain.</exception>
    public static void Skip(ref MessagePackReader reader)
    {
        long pending = 1;
        while (pending > 0)
        {
            pending--;
            switch (reader.NextMessagePackType)
            {
                case MessagePackType.Array:
                    pending += ReadArrayHeader(ref reader);
                    break;
                case MessagePackType.Map:
                    pending += 2L * ReadMapHeader(ref reader);
                    break;
                default:
                    reader.Skip(); // scalars, strings, bin and ext hold no nested values
                    break;
            }
        }
    }

    /// <summary>Allocates an array of <paramref name="count"/> elements (shared empty array for zero).</summary>
    public static T[] NewArray<T>(int count) => count == 0 ? [] : new T[count];

    /// <summary>Adds a map entry; a repeated key is malformed input.</summary>
    /// <exception cref="MessagePackSerializationException"><paramref name="key"/> is already present.</exception>
    public static void AddEntry<TKey, TValue>(Dictionary<TKey, TValue> map, TKey key, TValue value)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(map);
        if (key is null)
        {
            throw new MessagePackSerializationException("A map key is nil.");
        }

        if (!map.TryAdd(key, value))
        {
            throw new MessagePackSerializationException($"The map repeats the key '{key}'.");
        }
    }

    /// <summary>Reads bin (or nil) into a new array.</summary>
    public static byte[]? ReadByteArray(ref MessagePackReader reader) => reader.ReadBytes()?.ToArray();

    /// <summary>Writes a <see cref="decimal"/> as its invariant-culture string.</summary>
    public static void WriteDecimal(ref MessagePackWriter writer, decimal value)
    {
        Span<byte> utf8 = stackalloc byte[64];
        bool formatted = value.TryFormat(utf8, out int written, default, CultureInfo.InvariantCulture);
        System.Diagnostics.Debug.Assert(formatted, "a decimal formats in at most 31 characters");
        writer.WriteStringHeader(written);
        utf8[..written].CopyTo(writer.GetSpan(written)); // copied, not passed: the writer's API is not scoped
        writer.Advance(written);
    }

    /// <summary>Reads a <see cref="decimal"/> written by <see cref="WriteDecimal"/>.</summary>
    /// <exception cref="MessagePackSerializationException">The value is not a decimal string.</exception>
    public static decimal ReadDecimal(ref MessagePackReader reader)
    {
        ReadOnlySequence<byte> text = reader.ReadStringSequence() ?? throw new MessagePackSerializationException("A decimal is nil.");
        Span<byte> utf8 = stackalloc byte[64];
        if (text.Length > utf8.Length)
        {
            throw new MessagePackSerializationException($"A decimal string is {text.Length} bytes long.");
        }

        text.CopyTo(utf8);
        if (!decimal.TryParse(utf8[..(int)text.Length], NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal value))
        {
            throw new MessagePackSerializationException("A decimal string does not parse.");
        }

        return value;
    }

    /// <summary>Writes a <see cref="Guid"/> as 16 bytes of bin in RFC 4122 order.</summary>
    public static void WriteGuid(ref MessagePackWriter writer, Guid value)
    {
        Span<byte> bytes = stackalloc byte[16];
        bool written = value.TryWriteBytes(bytes, bigEndian: true, out _);
        System.Diagnostics.Debug.Assert(written, "a Guid is 16 bytes");
        writer.WriteBinHeader(16);
        bytes.CopyTo(writer.GetSpan(16));
        writer.Advance(16);
    }

    /// <summary>Reads a <see cref="Guid"/> written by <see cref="WriteGuid"/>.</summary>
    /// <exception cref="MessagePackSerializationException">The value is not a 16-byte bin.</exception>
    public static Guid ReadGuid(ref MessagePackReader reader)
    {
        ReadOnlySequence<byte> bytes = reader.ReadBytes() ?? throw new MessagePackSerializationException("A Guid is nil.");
        if (bytes.Length != 16)
        {
            throw new MessagePackSerializationException($"A Guid is 16 bytes; got {bytes.Length}.");
        }

        Span<byte> copy = stackalloc byte[16];
        bytes.CopyTo(copy);
        return new Guid(copy, bigEndian: true);
    }

    /// <summary>Writes a <see cref="DateTime"/> as <c>Kind &lt;&lt; 62 | Ticks</c>, so kind and every tick round-trip.</summary>
    public static void WriteDateTime(ref MessagePackWriter writer, DateTime value) =>
        writer.Write(((long)value.Kind << 62) | value.Ticks);

    /// <summary>Reads a <see cref="DateTime"/> written by <see cref="WriteDateTime"/>.</summary>
    /// <exception cref="MessagePackSerializationException">The ticks or the kind are out of range.</exception>
    public static DateTime ReadDateTime(ref MessagePackReader reader)
    {
        long packed = reader.ReadInt64();
        long ticks = packed & TicksMask;
        long kind = (packed >> 62) & 0x3;
        if (ticks > DateTime.MaxValue.Ticks || kind > (long)DateTimeKind.Local)
        {
            throw new MessagePackSerializationException($"0x{packed:X16} is not a DateTime.");
        }

        return new DateTime(ticks, (DateTimeKind)kind);
    }

    /// <summary>Writes a <see cref="DateTimeOffset"/> as <c>[clock ticks, offset minutes]</c>.</summary>
    public static void WriteDateTimeOffset(ref MessagePackWriter writer, DateTimeOffset value)
    {
        writer.WriteArrayHeader(2);
        writer.Write(value.Ticks);
        writer.Write((short)value.TotalOffsetMinutes);
    }

    /// <summary>Reads a <see cref="DateTimeOffset"/> written by <see cref="WriteDateTimeOffset"/>.</summary>
    /// <exception cref="MessagePackSerializationException">The value is not a two-element array or is out of range.</exception>
    public static DateTimeOffset ReadDateTimeOffset(ref MessagePackReader reader)
    {
        if (reader.ReadArrayHeader() != 2)
        {
            throw new MessagePackSerializationException("A DateTimeOffset is a two-element array.");
        }

        long ticks = reader.ReadInt64();
        short minutes = reader.ReadInt16();
        if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks || minutes < -14 * 60 || minutes > 14 * 60)
        {
            throw new MessagePackSerializationException($"[{ticks}, {minutes}] is not a DateTimeOffset.");
        }

        try
        {
            return new DateTimeOffset(ticks, TimeSpan.FromMinutes(minutes));
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new MessagePackSerializationException($"[{ticks}, {minutes}] is not a DateTimeOffset.", ex);
        }
    }

    /// <summary>Writes a <see cref="TimeSpan"/> as int64 ticks.</summary>
    public static void WriteTimeSpan(ref MessagePackWriter writer, TimeSpan value) => writer.Write(value.Ticks);

    /// <summary>Reads a <see cref="TimeSpan"/> written by <see cref="WriteTimeSpan"/>.</summary>
    public static TimeSpan ReadTimeSpan(ref MessagePackReader reader) => new(reader.ReadInt64());

    /// <summary>Writes a <see cref="MessagePackObjectAttribute"/> type through MessagePack's resolver.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    /// <param name="options">The caller's options, or <see langword="null"/> for <see cref="MessagePackSerializer.DefaultOptions"/>.</param>
    public static void SerializeWithResolver<T>(ref MessagePackWriter writer, T value, MessagePackSerializerOptions? options)
    {
        options ??= MessagePackSerializer.DefaultOptions;
        options.Resolver.GetFormatterWithVerify<T>().Serialize(ref writer, value, options);
    }

    /// <summary>Reads a <see cref="MessagePackObjectAttribute"/> type through MessagePack's resolver.</summary>
    /// <param name="reader">The reader.</param>
    /// <param name="options">The caller's options, or <see langword="null"/> for <see cref="MessagePackSerializer.DefaultOptions"/> with untrusted-data security.</param>
    public static T DeserializeWithResolver<T>(ref MessagePackReader reader, MessagePackSerializerOptions? options)
    {
        options ??= MessagePackSerializer.DefaultOptions.WithSecurity(MessagePackSecurity.UntrustedData);
        return options.Resolver.GetFormatterWithVerify<T>().Deserialize(ref reader, options);
    }

    /// <summary>Writes a nested event with its generated serializer, or nil for <see langword="null"/>.</summary>
    public static void WriteNested<TEvent>(ref MessagePackWriter writer, TEvent? value)
        where TEvent : IBatpakEvent<TEvent>
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        TEvent.Serialize(ref writer, value);
    }

    /// <summary>Reads a nested event with its generated deserializer; nil reads as <see langword="null"/> for a reference type.</summary>
    /// <exception cref="MessagePackSerializationException">The value is malformed, or nil for a value type.</exception>
    public static TEvent? ReadNested<TEvent>(ref MessagePackReader reader)
        where TEvent : IBatpakEvent<TEvent>
    {
        if (default(TEvent) is null && reader.TryReadNil())
        {
            return default;
        }

        return TEvent.Deserialize(ref reader);
    }

    /// <summary>Formats a string member into a coordinate part: <paramref name="prefix"/> + value + <paramref name="suffix"/>.</summary>
    /// <exception cref="ArgumentException">The member is null.</exception>
    public static string FormatPart(string prefix, string? value, string suffix, string member)
    {
        if (value is null)
        {
            throw new ArgumentException($"The coordinate member '{member}' is null.", member);
        }

        return string.Concat(prefix, value, suffix);
    }

    /// <summary>Formats a member into a coordinate part with <paramref name="format"/> under the invariant culture.</summary>
    /// <exception cref="ArgumentException">The member is null.</exception>
    public static string FormatPart<T>(string format, T value, string member)
    {
        if (value is null)
        {
            throw new ArgumentException($"The coordinate member '{member}' is null.", member);
        }

        return string.Format(CultureInfo.InvariantCulture, format, value);
    }

    /// <summary>The exception for a nil where an event is required.</summary>
    public static MessagePackSerializationException NilEvent(string typeName) =>
        new($"Expected a {typeName} event (a MessagePack array) but found nil.");

    private static long Remaining(in MessagePackReader reader) => reader.Sequence.Length - reader.Consumed;
}
