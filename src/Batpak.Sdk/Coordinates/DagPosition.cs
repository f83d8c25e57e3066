namespace Batpak;

/// <summary>
/// Where an event sits in causal and per-entity order.
/// </summary>
/// <param name="WallMilliseconds">The hybrid logical clock's wall part: Unix milliseconds, never decreasing within a store.</param>
/// <param name="Counter">The hybrid logical clock's logical part: counts events stamped within one <paramref name="WallMilliseconds"/>.</param>
/// <param name="Depth">The causation depth: 0 for an event with no cause, the cause's depth + 1 otherwise.</param>
/// <param name="Sequence">The per-entity sequence: 0 for an entity's first event, then 1, 2, ... with no gaps.</param>
public readonly record struct DagPosition(long WallMilliseconds, uint Counter, uint Depth, long Sequence)
{
    /// <summary>Compares two positions by hybrid logical clock (wall, then counter).</summary>
    public int CompareClock(in DagPosition other)
    {
        int byWall = WallMilliseconds.CompareTo(other.WallMilliseconds);
        return byWall != 0 ? byWall : Counter.CompareTo(other.Counter);
    }
}
