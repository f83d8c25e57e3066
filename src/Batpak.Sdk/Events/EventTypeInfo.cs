namespace Batpak;

/// <summary>
/// One registered event type: its kind, CLR type, schema version and a reflection-free payload reader. Created by
/// the generated registry; immutable.
/// </summary>
public sealed class EventTypeInfo
{
    private readonly Func<ReadOnlyMemory<byte>, object> _deserialize;

    /// <summary>Creates a registration. Called by generated code.</summary>
    /// <param name="kind">The event's kind.</param>
    /// <param name="type">The event record type.</param>
    /// <param name="version">The schema version from <see cref="BatpakEventAttribute.Version"/>.</param>
    /// <param name="deserialize">Reads one payload written by the generated serializer; throws on malformed input.</param>
    /// <exception cref="ArgumentNullException"><paramref name="type"/> or <paramref name="deserialize"/> is null.</exception>
    public EventTypeInfo(EventKind kind, Type type, int version, Func<ReadOnlyMemory<byte>, object> deserialize)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(deserialize);
        Kind = kind;
        Type = type;
        Version = version;
        _deserialize = deserialize;
    }

    /// <summary>The event's kind.</summary>
    public EventKind Kind { get; }

    /// <summary>The event record type.</summary>
    public Type Type { get; }

    /// <summary>The schema version declared by <see cref="BatpakEventAttribute.Version"/>.</summary>
    public int Version { get; }

    /// <summary>Deserializes one payload as <see cref="Type"/> (boxed for value types).</summary>
    /// <exception cref="MessagePack.MessagePackSerializationException">The payload is malformed.</exception>
    public object Deserialize(ReadOnlyMemory<byte> payload) => _deserialize(payload);

    /// <summary>Returns <c>"0xCTTT Namespace.Type v1"</c>.</summary>
    public override string ToString() => $"{Kind} {Type.FullName} v{Version}";
}
