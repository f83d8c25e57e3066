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

/// <summary>The writer thread failed; the append was not acknowledged and nothing of it is visible.</summary>
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
