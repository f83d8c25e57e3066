using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace Batpak;

/// <summary>
/// An immutable <see cref="IEventTypeRegistry"/> over a fixed list of registrations. The generated per-assembly
/// registry is one of these; lookups are one frozen-dictionary probe.
/// </summary>
public sealed class EventTypeRegistry : IEventTypeRegistry
{
    private readonly FrozenDictionary<ushort, EventTypeInfo> _byKind;
    private readonly EventTypeInfo[] _types;

    /// <summary>Creates a registry.</summary>
    /// <param name="types">The registrations; every kind at most once.</param>
    /// <exception cref="ArgumentException">Two registrations share a kind.</exception>
    public EventTypeRegistry(IEnumerable<EventTypeInfo> types)
    {
        ArgumentNullException.ThrowIfNull(types);
        var byKind = new Dictionary<ushort, EventTypeInfo>();
        foreach (EventTypeInfo info in types)
        {
            ArgumentNullException.ThrowIfNull(info, nameof(types));
            if (!byKind.TryAdd(info.Kind.Value, info))
            {
                throw new ArgumentException(
                    $"Event kind {info.Kind} is registered by both {byKind[info.Kind.Value].Type.FullName} and {info.Type.FullName}.",
                    nameof(types));
            }
        }

        _byKind = byKind.ToFrozenDictionary();
        _types = [.. byKind.Values.OrderBy(static t => t.Kind.Value)];
    }

    /// <inheritdoc />
    public IReadOnlyCollection<EventTypeInfo> Types => _types;

    /// <inheritdoc />
    public bool TryGetInfo(EventKind kind, [NotNullWhen(true)] out EventTypeInfo? info) =>
        _byKind.TryGetValue(kind.Value, out info);

    /// <inheritdoc />
    public bool TryGetType(EventKind kind, [NotNullWhen(true)] out Type? type)
    {
        bool found = _byKind.TryGetValue(kind.Value, out EventTypeInfo? info);
        type = info?.Type;
        return found;
    }

    /// <inheritdoc />
    public bool TryDeserialize(EventKind kind, ReadOnlyMemory<byte> payload, [NotNullWhen(true)] out object? value)
    {
        if (_byKind.TryGetValue(kind.Value, out EventTypeInfo? info))
        {
            value = info.Deserialize(payload);
            return true;
        }

        value = null;
        return false;
    }
}
