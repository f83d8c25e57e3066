namespace Batpak;

/// <summary>The base of every exception the SDK throws for a store-level condition.</summary>
public class BatpakException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BatpakException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public BatpakException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public BatpakException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>An append's expected sequence (optimistic concurrency check) did not match the entity's actual one.</summary>
public sealed class SequenceMismatchException : BatpakException
{
    /// <summary>Creates the exception.</summary>
    public SequenceMismatchException(string entity, long expected, long actual)
        : base($"Entity \"{entity}\": expected its last sequence to be {Describe(expected)}, but it is {Describe(actual)}.")
    {
        Entity = entity;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>Creates the exception.</summary>
    public SequenceMismatchException()
        : this(string.Empty, 0, 0)
    {
    }

    /// <summary>Creates the exception.</summary>
    public SequenceMismatchException(string message)
        : base(message)
    {
        Entity = string.Empty;
    }

    /// <summary>Creates the exception.</summary>
    public SequenceMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
        Entity = string.Empty;
    }

    /// <summary>The entity whose stream was checked.</summary>
    public string Entity { get; }

    /// <summary>The sequence the caller expected the entity's last event to have (-1: no events).</summary>
    public long Expected { get; }

    /// <summary>The sequence of the entity's last event (-1: no events).</summary>
    public long Actual { get; }

    private static string Describe(long sequence) => sequence < 0 ? "-1 (no events)" : sequence.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A segment file holds bytes that fail their checksum or cannot be decoded, where recovery may not repair them.</summary>
public sealed class CorruptSegmentException : BatpakException
{
    /// <summary>Creates the exception.</summary>
    public CorruptSegmentException(int segmentId, long offset, string reason, Exception? innerException = null)
        : base($"Segment {segmentId:D6} is corrupt at offset {offset}: {reason}", innerException!)
    {
        SegmentId = segmentId;
        Offset = offset;
        Reason = reason;
    }

    /// <summary>Creates the exception.</summary>
    public CorruptSegmentException()
        : this(0, 0, "unknown")
    {
    }

    /// <summary>Creates the exception.</summary>
    public CorruptSegmentException(string message)
        : base(message)
    {
        Reason = message;
    }

    /// <summary>Creates the exception.</summary>
    public CorruptSegmentException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = message;
    }

    /// <summary>The id of the bad segment (its file is <c>{SegmentId:D6}.fbat</c>).</summary>
    public int SegmentId { get; }

    /// <summary>The byte offset inside the segment file where the bad frame starts.</summary>
    public long Offset { get; }

    /// <summary>What is wrong there.</summary>
    public string Reason { get; }
}

/// <summary>Another store (in this or another process) holds the data directory's lock.</summary>
public sealed class StoreLockedException : BatpakException
{
    /// <summary>Creates the exception.</summary>
    public StoreLockedException(string directory, Exception? innerException = null)
        : base($"The data directory \"{directory}\" is already open by another store, in this or another process (it holds the directory's lock; deleting the LOCK file does not release it). One writer per directory: dispose the other store first, or open a different directory.", innerException!)
    {
        Directory = directory;
    }

    /// <summary>Creates the exception with its own message (the lock was lost rather than refused).</summary>
    internal StoreLockedException(string directory, string message)
        : base(message)
    {
        Directory = directory;
    }

    /// <summary>Creates the exception.</summary>
    public StoreLockedException()
        : this(string.Empty)
    {
    }

    /// <summary>The data directory.</summary>
    public string Directory { get; }
}

/// <summary>An event's encoded frame is larger than <c>MaxEventBytes</c>.</summary>
public sealed class EventTooLargeException : BatpakException
{
    /// <summary>Creates the exception.</summary>
    public EventTooLargeException(long actualBytes, long maxBytes)
        : base($"The event encodes to {actualBytes} bytes; the limit (MaxEventBytes) is {maxBytes}. Store large blobs elsewhere and append a reference.")
    {
        ActualBytes = actualBytes;
        MaxBytes = maxBytes;
    }

    /// <summary>Creates the exception.</summary>
    public EventTooLargeException()
        : this(0, 0)
    {
    }

    /// <summary>Creates the exception.</summary>
    public EventTooLargeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public EventTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The encoded size.</summary>
    public long ActualBytes { get; }

    /// <summary>The configured limit.</summary>
    public long MaxBytes { get; }
}

/// <summary>
/// The embedded store's in-memory index is full: the append would take it past the most events it can hold. The
/// append is refused before anything of it is written (the writer stays healthy and earlier events are untouched);
/// reads, compaction and retention still work, and dropping events makes room.
/// </summary>
public sealed class StoreFullException : BatpakException
{
    /// <summary>Creates the exception.</summary>
    public StoreFullException(long events, long requested, long capacity)
        : base($"The store's index holds {events} events and at most {capacity}; the append of {requested} event(s) was refused before anything was written. Drop events with retention compaction, or split the data over several stores.")
    {
        Events = events;
        Requested = requested;
        Capacity = capacity;
    }

    /// <summary>Creates the exception.</summary>
    public StoreFullException()
        : this(0, 0, 0)
    {
    }

    /// <summary>Creates the exception.</summary>
    public StoreFullException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public StoreFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The events the index held (and this batch had staged before the refused append).</summary>
    public long Events { get; }

    /// <summary>The events the refused append asked for.</summary>
    public long Requested { get; }

    /// <summary>The most events the index holds.</summary>
    public long Capacity { get; }
}

/// <summary>The store's write path failed (an I/O error while writing or syncing a batch); the append was not acknowledged and nothing of it is visible.</summary>
public sealed class WriterCrashedException : BatpakException
{
    /// <summary>Creates the exception.</summary>
    public WriterCrashedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public WriterCrashedException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public WriterCrashedException(string message)
        : base(message)
    {
    }
}

/// <summary>No event with the requested id exists in the store.</summary>
public sealed class EventNotFoundException : BatpakException
{
    /// <summary>Creates the exception.</summary>
    public EventNotFoundException(EventId id)
        : base($"No event with id {id} exists in the store.")
    {
        EventId = id;
    }

    /// <summary>Creates the exception.</summary>
    public EventNotFoundException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public EventNotFoundException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public EventNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The id that was asked for.</summary>
    public EventId EventId { get; }
}

/// <summary>
/// An append reused an idempotency key that already belongs to a different event: another entity, another kind or
/// another payload. Repeating a key with the same entity, kind and payload returns the original receipt instead;
/// this exception means the caller would otherwise lose the second event without a signal. Nothing is appended.
/// </summary>
public sealed class IdempotencyConflictException : BatpakException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="idempotencyKey">The reused key.</param>
    /// <param name="originalEventId">The event the key belongs to.</param>
    /// <param name="originalEntity">That event's entity.</param>
    /// <param name="originalKind">That event's kind.</param>
    /// <param name="entity">The entity of the refused append.</param>
    /// <param name="kind">The kind of the refused append.</param>
    /// <param name="payloadDiffers">Whether the payloads differ (compared only when entity and kind are the same).</param>
    public IdempotencyConflictException(string idempotencyKey, EventId originalEventId, string originalEntity, EventKind originalKind, string entity, EventKind kind, bool payloadDiffers)
        : base(Describe(idempotencyKey, originalEventId, originalEntity, originalKind, entity, kind, payloadDiffers))
    {
        IdempotencyKey = idempotencyKey;
        OriginalEventId = originalEventId;
        OriginalEntity = originalEntity;
        OriginalKind = originalKind;
        Entity = entity;
        Kind = kind;
        PayloadDiffers = payloadDiffers;
    }

    /// <summary>The reused idempotency key.</summary>
    public string IdempotencyKey { get; }

    /// <summary>
    /// The id of the event that holds the key: a stored one, or one of another append in the same write. <see cref="EventId.Empty"/>
    /// when it is an earlier event of the same refused batch (it never got an id).
    /// </summary>
    public EventId OriginalEventId { get; }

    /// <summary>The entity of the event that holds the key.</summary>
    public string OriginalEntity { get; }

    /// <summary>The kind of the event that holds the key.</summary>
    public EventKind OriginalKind { get; }

    /// <summary>The entity the refused append named.</summary>
    public string Entity { get; }

    /// <summary>The kind the refused append named.</summary>
    public EventKind Kind { get; }

    /// <summary>
    /// <see langword="true"/> when entity and kind match and the payload does not (compared by a 64-bit fingerprint);
    /// <see langword="false"/> when the entity or kind differ, in which case the payloads are not compared.
    /// </summary>
    public bool PayloadDiffers { get; }

    private static string Describe(string key, EventId originalId, string originalEntity, EventKind originalKind, string entity, EventKind kind, bool payloadDiffers)
    {
        string differs = !string.Equals(entity, originalEntity, StringComparison.Ordinal)
            ? $"entity \"{entity}\" instead of \"{originalEntity}\""
            : kind != originalKind
                ? $"kind {kind} instead of {originalKind}"
                : payloadDiffers ? "another payload" : "nothing that differs";
        string holder = originalId.IsEmpty ? "an earlier event of this batch" : $"event {originalId}";
        return $"Idempotency key \"{key}\" already belongs to {holder} (entity \"{originalEntity}\", kind {originalKind}); this append has {differs}. "
            + "A repeat must carry the same entity, kind and payload (it then returns the original receipt); a different event needs a new key.";
    }
}
