namespace Batpak;

/// <summary>The events a reactor derives from one source event, in order. Handed to <see cref="IReactor.React"/>; not thread-safe.</summary>
public sealed class ReactionOutput
{
    private readonly List<(Coordinate Coordinate, EventKind Kind, byte[] Payload)> _events = [];

    internal ReactionOutput(string defaultScope) => DefaultScope = defaultScope;

    /// <summary>The scope given to typed events without a <see cref="ScopeAttribute"/> member (the store's default scope).</summary>
    public string DefaultScope { get; }

    /// <summary>The events emitted so far.</summary>
    public int Count => _events.Count;

    internal IReadOnlyList<(Coordinate Coordinate, EventKind Kind, byte[] Payload)> Events => _events;

    /// <summary>Emits a typed event at the coordinate its <c>[Entity]</c>/<c>[Scope]</c> members build.</summary>
    /// <exception cref="ArgumentException">The built coordinate is invalid.</exception>
    public void Emit<TEvent>(TEvent evt)
        where TEvent : IBatpakEvent<TEvent>
    {
        ArgumentNullException.ThrowIfNull(evt);
        Coordinate coordinate = evt.GetCoordinate(DefaultScope);
        coordinate.EnsureValid(nameof(evt));
        _events.Add((coordinate, TEvent.Kind, BatpakEvents.SerializeToArray(evt)));
    }

    /// <summary>Emits an untyped event (the payload is copied).</summary>
    /// <exception cref="ArgumentException"><paramref name="coordinate"/> is invalid.</exception>
    public void Emit(in Coordinate coordinate, EventKind kind, ReadOnlySpan<byte> payload)
    {
        coordinate.EnsureValid(nameof(coordinate));
        _events.Add((coordinate, kind, payload.ToArray()));
    }

    internal void Clear() => _events.Clear();
}
