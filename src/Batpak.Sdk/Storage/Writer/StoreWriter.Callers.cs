using System.Threading.Channels;

namespace Batpak.Storage;

// How commands reach the write lock: queued by any thread (TryEnqueue, EnqueueAsync, Enqueue), written by a
// synchronous caller itself (Execute), or drained by the batpak-writer thread (Run). Called by EventStore.
internal sealed partial class StoreWriter
{
    /// <summary>Queues a command without waiting; false when the queue is full.</summary>
    public bool TryEnqueue(WriteCommand command)
    {
        ThrowIfFaulted();
        return _channel.Writer.TryWrite(command);
    }

    /// <summary>Queues a command, waiting for space (back-pressure).</summary>
    public ValueTask EnqueueAsync(WriteCommand command, CancellationToken cancellationToken)
    {
        ThrowIfFaulted();
        return _channel.Writer.WriteAsync(command, cancellationToken);
    }

    /// <summary>Queues a command, blocking the caller while the queue is full.</summary>
    public void Enqueue(WriteCommand command)
    {
        if (TryEnqueue(command))
        {
            return;
        }

        try
        {
            _channel.Writer.WriteAsync(command).AsTask().GetAwaiter().GetResult();
        }
        catch (ChannelClosedException ex)
        {
            throw Closed(ex);
        }
    }

    /// <summary>
    /// Runs a synchronous caller's command. When no batch is being written the caller becomes the writer for one
    /// batch (its own command plus whatever is queued), so a single-threaded appender never pays a thread hand-off;
    /// otherwise the command is queued and the caller waits for the write lock, then writes whatever is still queued
    /// (unless the writer thread or another caller answered its command first).
    /// </summary>
    public void Execute(WriteCommand command)
    {
        ThrowIfFaulted();
        if (_channel.Reader.Count == 0 && _writeLock.TryEnter())
        {
            try
            {
                if (_closed)
                {
                    command.Fail(Closed());
                    return;
                }

                _batch.Clear();
                _batch.Add(command);
                DrainInto(_batch, _channel.Reader);
                ProcessBatchGuarded();
            }
            finally
            {
                _writeLock.Exit();
            }

            return;
        }

        Enqueue(command);

        // Combine: rather than wait for the writer thread to wake, take the write lock when it frees up and write
        // whatever is queued (usually this command and those of the other threads waiting with it).
        lock (_writeLock)
        {
            if (command.IsCompleted || _closed || _fault is not null)
            {
                return;
            }

            _batch.Clear();
            DrainInto(_batch, _channel.Reader);
            if (_batch.Count > 0)
            {
                ProcessBatchGuarded();
            }
        }
    }

    /// <summary>Runs <paramref name="action"/> while no batch is being written (compaction's file swap), under the write lock.</summary>
    public void RunExclusive(Action action)
    {
        lock (_writeLock)
        {
            ThrowIfFaulted();
            action();
        }
    }

    /// <summary>Write lock: moves queued commands into <paramref name="batch"/>, up to <see cref="BatpakOptions.MaxBatchEvents"/>.</summary>
    private void DrainInto(List<WriteCommand> batch, ChannelReader<WriteCommand> reader)
    {
        while (batch.Count < _options.MaxBatchEvents && reader.TryRead(out WriteCommand? next))
        {
            batch.Add(next);
        }
    }

    /// <summary>
    /// The batpak-writer thread: waits for queued commands and writes them a batch at a time under the write lock,
    /// until the queue is completed and empty; then fsyncs what is left. After a fault (or an abandoned drain) it
    /// fails whatever is still queued.
    /// </summary>
    private void Run()
    {
        ChannelReader<WriteCommand> reader = _channel.Reader;
        while (WaitForWork(reader))
        {
            lock (_writeLock)
            {
                _batch.Clear();
                DrainInto(_batch, reader);
                if (_batch.Count == 0)
                {
                    continue; // a combining caller took them
                }

                if (_abandonQueue || _fault is not null)
                {
                    Exception error = _fault is null ? Closed() : Crashed(_fault);
                    foreach (WriteCommand command in _batch)
                    {
                        command.Fail(error);
                    }

                    _batch.Clear();
                    continue;
                }

                ProcessBatchGuarded();
            }
        }

        lock (_writeLock)
        {
            SyncOnClose();
        }
    }

    private static bool WaitForWork(ChannelReader<WriteCommand> reader)
    {
        // Spin briefly first: a synchronous appender usually sends the next command within microseconds.
        var spinner = new SpinWait();
        for (int i = 0; i < 50; i++)
        {
            if (reader.TryPeek(out _))
            {
                return true;
            }

            spinner.SpinOnce(sleep1Threshold: -1);
        }

        return reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult();
    }
}
