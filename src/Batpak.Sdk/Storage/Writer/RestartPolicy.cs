namespace Batpak.Storage;

/// <summary>
/// The writer's restart budget: which failed batches may be restarted from (I/O errors, and a batch abandoned half
/// staged), and how often (at most <see cref="BatpakOptions.WriterRestartLimit"/> restarts within
/// <see cref="BatpakOptions.WriterRestartWindow"/>). Called only by <see cref="StoreWriter"/>'s failure path, under
/// the write lock; <see cref="Count"/> may be read from any thread.
/// </summary>
/// <remarks>The restart itself (putting the active segment back) is <see cref="ActiveSegment.TryRollBack"/>.</remarks>
internal sealed class RestartPolicy(BatpakOptions options)
{
    private readonly List<DateTimeOffset> _restarts = new(); // times of the restarts still inside the window; write lock
    private long _count; // restarts since open; written under the write lock with Interlocked, read by any thread

    /// <summary>Restarts since the store was opened.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>
    /// Whether a batch that failed with <paramref name="cause"/> at <paramref name="now"/> may be restarted from:
    /// the cause is an I/O error or the batch was abandoned half staged (<paramref name="stagingAborted"/>), and
    /// fewer than the limit of restarts fall within the window. Other errors are bugs: the writer stays faulted.
    /// </summary>
    public bool Allows(Exception cause, bool stagingAborted, DateTimeOffset now)
    {
        _restarts.RemoveAll(t => now - t > options.WriterRestartWindow);
        return _restarts.Count < options.WriterRestartLimit && (cause is IOException or UnauthorizedAccessException || stagingAborted);
    }

    /// <summary>Counts a restart that succeeded at <paramref name="now"/>; returns the restarts since open.</summary>
    public long Record(DateTimeOffset now)
    {
        _restarts.Add(now);
        return Interlocked.Increment(ref _count);
    }
}
