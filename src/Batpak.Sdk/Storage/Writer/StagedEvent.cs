namespace Batpak.Storage;

/// <summary>
/// One event of the batch being written: stamped and encoded by <see cref="BatchStager"/>, published to the index and
/// answered by <see cref="StoreWriter"/>'s batch loop. Lives in <see cref="BatchStager.Staged"/> for one batch, under
/// the write lock.
/// </summary>
/// <remarks>An idempotent repeat of an event staged earlier in the same batch gets an entry too
/// (<see cref="DuplicateOf"/>), so its command is answered with the original's receipt once that is published.</remarks>
internal struct StagedEvent(WriteCommand command, AppendReceipt receipt, IndexEntry entry, int duplicateOf, int batchIndex, in Coordinate coordinate = default, string? idempotencyKey = null, ulong keyFingerprint = 0)
{
    public readonly ulong KeyFingerprint = keyFingerprint; // IdempotencyFingerprint of a keyed event
    public readonly WriteCommand Command = command; // the command this event belongs to
    public bool CompletesCommand; // the command's last entry: the publish loop (or the failure path) answers it here
    public readonly Coordinate Coordinate = coordinate; // entity and scope, for the index
    public readonly string? IdempotencyKey = idempotencyKey; // the key, registered in the index with the event
    public readonly AppendReceipt Receipt = receipt; // the caller's receipt (the original's for a repeat)
    public IndexEntry Entry = entry; // what the index stores (default for a repeat)
    public readonly int DuplicateOf = duplicateOf; // index of the staged entry this one repeats; -1: a new event
    public readonly int BatchIndex = batchIndex; // the event's index in an atomic batch; -1: a single append
}
