namespace Batpak.Engine;

/// <summary>
/// Wakes whoever waits for new events. The writer calls <see cref="Signal"/> after every batch it publishes to the
/// index; it allocates nothing unless someone waits: a waiter installs the task source, the writer takes it away
/// and completes it. Continuations run asynchronously, never on the writer.
/// </summary>
internal sealed class CommitNotifier
{
    private TaskCompletionSource? _waiters;
    private volatile bool _closed;

    public bool IsClosed => _closed;

    /// <summary>Called by the writer after a batch is visible in the index.</summary>
    public void Signal() => Interlocked.Exchange(ref _waiters, null)?.TrySetResult();

    /// <summary>Wakes every waiter for good (the store is disposing).</summary>
    public void Close()
    {
        _closed = true;
        Signal();
    }

    /// <summary>
    /// A task that completes at the next <see cref="Signal"/>. Callers must re-check their condition after getting
    /// the task and before awaiting it, or they can miss a signal that happened in between.
    /// </summary>
    public Task NextSignal()
    {
        if (_closed)
        {
            return Task.CompletedTask;
        }

        TaskCompletionSource? current = Volatile.Read(ref _waiters);
        if (current is not null)
        {
            return current.Task;
        }

        var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        current = Interlocked.CompareExchange(ref _waiters, created, null) ?? created;
        return _closed ? Task.CompletedTask : current.Task;
    }
}
