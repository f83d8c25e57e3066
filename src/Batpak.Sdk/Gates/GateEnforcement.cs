// The store's half of gate enforcement (BatpakOptions.GatedKinds): the set of gated kinds the store checks every
// append against, and the one-shot permission a Pipeline attaches to the options of a commit or a bypass, which is
// the only thing that lets an append of a gated kind through.
namespace Batpak;

/// <summary>
/// Permission to append one event of one kind at one coordinate, created only by <see cref="Pipeline{TContext}"/>
/// after its gates passed (or for an audited bypass) and carried in the internal <c>AppendOptions.GatePermit</c>.
/// </summary>
/// <remarks>
/// User code cannot name this type or set that property, so it can neither create a permit nor put one into
/// options. A permit is spent by the first append that presents it and matches only its own kind and coordinate,
/// so options captured on their way to the store (by a decorating <see cref="IEventStore"/>) do not open the gate
/// for a second event or another kind.
/// </remarks>
internal sealed class GatePermit(EventKind kind, Coordinate coordinate)
{
    private int _used;

    /// <summary>The kind the gates passed.</summary>
    public EventKind Kind { get; } = kind;

    /// <summary>The coordinate the gates passed.</summary>
    public Coordinate Coordinate { get; } = coordinate;

    /// <summary>Spends the permit for an append of <paramref name="kind"/> at <paramref name="coordinate"/>; <see langword="false"/> when it does not match or was spent.</summary>
    public bool TryUse(EventKind kind, in Coordinate coordinate) =>
        kind == Kind && coordinate == Coordinate && Interlocked.Exchange(ref _used, 1) == 0;
}

/// <summary>The gated kinds as one bit per <see cref="EventKind.Value"/>: a look-up is a shift and a mask.</summary>
internal sealed class GatedKindSet
{
    private readonly ulong[] _bits = new ulong[(ushort.MaxValue + 1) / 64];

    private GatedKindSet()
    {
    }

    /// <summary>The set of <paramref name="kinds"/>, or <see langword="null"/> when it is empty (nothing is gated).</summary>
    public static GatedKindSet? From(ISet<EventKind> kinds)
    {
        if (kinds.Count == 0)
        {
            return null;
        }

        var set = new GatedKindSet();
        foreach (EventKind kind in kinds)
        {
            set._bits[kind.Value >> 6] |= 1UL << (kind.Value & 63);
        }

        return set;
    }

    public bool Contains(EventKind kind) => (_bits[kind.Value >> 6] & (1UL << (kind.Value & 63))) != 0;
}
