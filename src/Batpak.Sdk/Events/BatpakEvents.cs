using System.Buffers;
using MessagePack;

namespace Batpak;

/// <summary>
/// Typed entry points over the generated <see cref="IBatpakEvent{TSelf}"/> members: kind, payload bytes and
/// coordinate of an event, all through static dispatch (no reflection, no resolver lookup). This is the seam the
/// store's typed API calls.
/// </summary>
public static class BatpakEvents
{
    /// <summary>Returns <typeparamref name="TEvent"/>'s kind.</summary>
    public static EventKind KindOf<TEvent>()
        where TEvent : IBatpakEvent<TEvent> => TEvent.Kind;

    /// <summary>Builds <paramref name="value"/>'s coordinate from its <see cref="EntityAttribute"/> and <see cref="ScopeAttribute"/> members.</summary>
    /// <param name="value">The event.</param>
    /// <param name="defaultScope">The scope used when the event has no <see cref="ScopeAttribute"/> member.</param>
    /// <exception cref="ArgumentException">The formatted entity or scope is not a valid coordinate part.</exception>
    public static Coordinate GetCoordinate<TEvent>(in TEvent value, string defaultScope)
        where TEvent : IBatpakEvent<TEvent> => value.GetCoordinate(defaultScope);

    /// <summary>Writes <paramref name="value"/>'s payload (a MessagePack array) to <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> or <paramref name="value"/> is null.</exception>
    public static void Serialize<TEvent>(IBufferWriter<byte> output, TEvent value)
        where TEvent : IBatpakEvent<TEvent>
    {
        ArgumentNullException.ThrowIfNull(output);
        var writer = new MessagePackWriter(output);
        TEvent.Serialize(ref writer, value);
        writer.Flush();
    }

    /// <summary>Returns <paramref name="value"/>'s payload as a new array. Allocates; the store uses <see cref="Serialize{TEvent}(IBufferWriter{byte}, TEvent)"/>.</summary>
    public static byte[] SerializeToArray<TEvent>(TEvent value)
        where TEvent : IBatpakEvent<TEvent>
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        Serialize(buffer, value);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Reads one payload written by <see cref="Serialize{TEvent}(IBufferWriter{byte}, TEvent)"/>, by this schema of
    /// <typeparamref name="TEvent"/> or an older or newer one (see docs/GENERATOR.md, schema evolution).
    /// </summary>
    /// <remarks>
    /// Safe on untrusted input: lengths are checked against the remaining bytes before anything is allocated and
    /// nesting is bounded by <see cref="BatpakFormatterHelpers.MaxDepth"/>, so any byte string either decodes or
    /// throws, in time and memory linear in its length.
    /// </remarks>
    /// <exception cref="MessagePackSerializationException">The payload is malformed, truncated, nested too deeply or has trailing bytes.</exception>
    public static TEvent Deserialize<TEvent>(ReadOnlyMemory<byte> payload)
        where TEvent : IBatpakEvent<TEvent>
    {
        var reader = new MessagePackReader(payload);
        TEvent value;
        try
        {
            value = TEvent.Deserialize(ref reader);
        }
        catch (Exception ex) when (ex is EndOfStreamException or FormatException or OverflowException or ArgumentException or InvalidOperationException)
        {
            throw new MessagePackSerializationException($"The payload is not a valid {typeof(TEvent).Name}: {ex.Message}", ex);
        }

        if (!reader.End)
        {
            throw new MessagePackSerializationException(
                $"The payload of {typeof(TEvent).Name} has {payload.Length - reader.Consumed} trailing bytes after the event.");
        }

        return value;
    }
}
