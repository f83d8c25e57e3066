namespace Batpak;

/// <summary>
/// What a caller wants to append: a typed payload, the coordinate and kind it goes under, and the append options.
/// Immutable. Gates decide on it through a <see cref="GateSet{TContext}"/>, which turns it into a
/// <see cref="Receipt{T}"/>.
/// </summary>
/// <typeparam name="T">The payload type.</typeparam>
public sealed class Proposal<T>
{
    /// <summary>Creates a proposal.</summary>
    /// <param name="payload">The payload; encoded to bytes only when the receipt is committed.</param>
    /// <param name="coordinate">The entity and scope.</param>
    /// <param name="kind">The event kind; not in a reserved category.</param>
    /// <param name="options">Concurrency check, idempotency key, causal links, flags, durability; <see cref="AppendOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="payload"/> is null.</exception>
    /// <exception cref="ArgumentException">The coordinate is <c>default</c>, the kind is reserved, or the options set an SDK-owned flag (<see cref="EventFlags.Bypassed"/>, <see cref="EventFlags.Tombstone"/>).</exception>
    public Proposal(T payload, Coordinate coordinate, EventKind kind, AppendOptions? options = null)
    {
        if (payload is null)
        {
            throw new ArgumentNullException(nameof(payload), "A proposal needs a payload.");
        }

        coordinate.EnsureValid(nameof(coordinate));
        if (kind.IsReserved)
        {
            throw new ArgumentException($"Kind {kind} is in a category reserved for the SDK; propose user kinds only (see EventKind.Create).", nameof(kind));
        }

        options ??= AppendOptions.Default;
        if ((options.Flags & (EventFlags.Bypassed | EventFlags.Tombstone)) != 0)
        {
            throw new ArgumentException(
                $"The options set the SDK-owned flag(s) {options.Flags & (EventFlags.Bypassed | EventFlags.Tombstone)}; Bypassed is set only by Pipeline.Bypass, Tombstone only by compaction.",
                nameof(options));
        }

        Payload = payload;
        Coordinate = coordinate;
        Kind = kind;
        Options = options;
    }

    /// <summary>The payload.</summary>
    public T Payload { get; }

    /// <summary>The entity and scope.</summary>
    public Coordinate Coordinate { get; }

    /// <summary>The event kind.</summary>
    public EventKind Kind { get; }

    /// <summary>The append options; never null.</summary>
    public AppendOptions Options { get; }

    /// <summary>Returns <c>kind 0xCTTT at scope/entity (PayloadType)</c>.</summary>
    public override string ToString() => $"kind {Kind} at {Coordinate} ({typeof(T).Name})";
}

/// <summary>Factories for <see cref="Proposal{T}"/>.</summary>
public static class Proposal
{
    /// <summary>
    /// Proposes a typed event: the kind is <typeparamref name="TEvent"/>'s and the coordinate is built by the event
    /// itself (<see cref="IBatpakEvent{TSelf}.GetCoordinate"/>).
    /// </summary>
    /// <param name="evt">The event.</param>
    /// <param name="defaultScope">The scope for events whose record has no <see cref="ScopeAttribute"/> member.</param>
    /// <param name="options">The append options.</param>
    /// <exception cref="ArgumentException">The coordinate or kind is invalid, or the options set an SDK-owned flag.</exception>
    public static Proposal<TEvent> FromEvent<TEvent>(TEvent evt, string defaultScope, AppendOptions? options = null)
        where TEvent : IBatpakEvent<TEvent>
    {
        if (evt is null)
        {
            throw new ArgumentNullException(nameof(evt), "A proposal needs an event.");
        }

        Coordinate.Validate(defaultScope, nameof(defaultScope));
        return new Proposal<TEvent>(evt, evt.GetCoordinate(defaultScope), TEvent.Kind, options);
    }
}
