namespace Batpak;

/// <summary>What compaction does with an event its retention predicate rejects.</summary>
public enum CompactionMode
{
    /// <summary>Remove the event. Its entity's hash chain then has a gap, which <c>Verify</c> reports as a re-anchor, not a failure.</summary>
    Drop = 0,

    /// <summary>Keep a marker: the event's header and hash stay, its payload is removed and <see cref="EventFlags.Tombstone"/> is set, so readers and cursors see that it existed and the hash chain stays unbroken.</summary>
    Tombstone = 1,
}

/// <summary>Settings of one <c>EventStore.Compact</c> run.</summary>
public sealed record CompactionOptions
{
    /// <summary>Keeps an event when it returns <see langword="true"/>; <see langword="null"/> keeps everything (merge only). Called once per event in sealed segments, on the compacting thread.</summary>
    public Func<StoredEvent, bool>? Retain { get; init; }

    /// <summary>What happens to rejected events. Default <see cref="CompactionMode.Drop"/>.</summary>
    public CompactionMode Mode { get; init; }
}

/// <summary>What a compaction did.</summary>
/// <param name="SegmentsBefore">Sealed segments that were rewritten.</param>
/// <param name="SegmentsAfter">Segments that replaced them.</param>
/// <param name="EventsKept">Events copied unchanged.</param>
/// <param name="EventsDropped">Events removed.</param>
/// <param name="EventsTombstoned">Events replaced by tombstones.</param>
/// <param name="BytesBefore">Bytes of the rewritten segments before.</param>
/// <param name="BytesAfter">Bytes of their replacements.</param>
public sealed record CompactionResult(int SegmentsBefore, int SegmentsAfter, long EventsKept, long EventsDropped, long EventsTombstoned, long BytesBefore, long BytesAfter);
