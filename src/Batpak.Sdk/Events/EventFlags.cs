namespace Batpak;

/// <summary>Per-event flags, stored in the frame header and covered by the hash.</summary>
[Flags]
public enum EventFlags : ushort
{
    /// <summary>No flags.</summary>
    None = 0,

    /// <summary>A consumer should acknowledge the event.</summary>
    RequiresAck = 1 << 0,

    /// <summary>The event is part of a transaction.</summary>
    Transactional = 1 << 1,

    /// <summary>The event was re-emitted during a replay.</summary>
    Replay = 1 << 2,

    /// <summary>The event was committed through <c>Bypass</c>: its gates were skipped for a recorded reason. Set by the SDK.</summary>
    Bypassed = 1 << 3,

    /// <summary>The event is a tombstone written by compaction. Set by the SDK.</summary>
    Tombstone = 1 << 4,
}
