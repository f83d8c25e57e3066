namespace Batpak.Storage;

/// <summary>
/// The hybrid logical clock that stamps appends: a wall time in milliseconds that never goes backwards plus a counter
/// that orders events within one millisecond. Held by value in <see cref="BatchStager"/> and used only under the
/// writer's write lock.
/// </summary>
/// <remarks>Staging reads the next stamp with <see cref="Peek"/> and takes it with <see cref="Advance"/> only once the
/// event is certain to be staged, so a failed append leaves the clock as it was.</remarks>
internal struct HybridClock(long lastWall, uint lastCounter)
{
    private long _lastWall = lastWall; // wall milliseconds of the last stamped event (the index's on open and on restart)
    private uint _lastCounter = lastCounter; // counter of the last stamped event within _lastWall

    /// <summary>The stamp of an event made at <paramref name="nowMilliseconds"/>, without taking it.</summary>
    public readonly void Peek(long nowMilliseconds, out long wall, out uint counter)
    {
        wall = Math.Max(nowMilliseconds, _lastWall);
        counter = wall == _lastWall ? _lastCounter + 1 : 0;
    }

    /// <summary>Takes the stamp that <see cref="Peek"/> returned: the next event is stamped after it.</summary>
    public void Advance(long wall, uint counter)
    {
        _lastWall = wall;
        _lastCounter = counter;
    }
}
