using System.Runtime.CompilerServices;
using Batpak.Engine;

namespace Batpak;

/// <summary>
/// A pull cursor over a <see cref="Region"/>: guaranteed, in-order delivery of every matching event from a
/// position on, resumable from a saved <see cref="Position"/> (also across a restart, with a named cursor whose
/// position <see cref="Commit"/> stores in the data directory).
/// </summary>
/// <remarks>Not thread-safe: one consumer per cursor. Events are read on the consumer's thread.</remarks>
public sealed class EventCursor : IDisposable
{
    private readonly StoreCore _store;
    private bool _disposed;

    internal EventCursor(StoreCore store, Region region, long position, string? name)
    {
        _store = store;
        Region = region;
        Position = position;
        Name = name;
    }

    /// <summary>The region delivered.</summary>
    public Region Region { get; }

    /// <summary>The cursor's name when it is a named (checkpointed) cursor.</summary>
    public string? Name { get; }

    /// <summary>The global sequence the next poll starts at: every matching event below it has been delivered.</summary>
    public long Position { get; private set; }

    /// <summary>Returns up to <paramref name="maxCount"/> matching events from <see cref="Position"/> on, in global order, and advances past them. Empty when caught up.</summary>
    /// <exception cref="ObjectDisposedException">The cursor or its store is disposed.</exception>
    public IReadOnlyList<StoredEvent> Poll(int maxCount = 256)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        ObjectDisposedException.ThrowIf(_disposed, this);
        (List<StoredEvent> events, long next) = _store.ReadRegionFrom(Region, Position, maxCount);
        Position = next;
        return events;
    }

    /// <summary>Waits until at least one matching event is available, then returns up to <paramref name="maxCount"/> of them.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The store was disposed while waiting.</exception>
    public async ValueTask<IReadOnlyList<StoredEvent>> PollAsync(int maxCount = 256, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task signal = _store.Notifier.NextSignal();
            IReadOnlyList<StoredEvent> events = Poll(maxCount);
            if (events.Count > 0)
            {
                return events;
            }

            ObjectDisposedException.ThrowIf(_store.Notifier.IsClosed, typeof(IEventStore));
            await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Every matching event from <see cref="Position"/> on, waiting for new ones, until cancelled or the store closes.</summary>
    public async IAsyncEnumerable<StoredEvent> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (!_store.IsDisposed)
        {
            IReadOnlyList<StoredEvent> events;
            try
            {
                events = await PollAsync(256, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException) when (_store.IsDisposed) // disposal marks the store before it closes the notifier
            {
                yield break;
            }

            foreach (StoredEvent e in events)
            {
                yield return e;
            }
        }
    }

    /// <summary>Moves the cursor to <paramref name="position"/> (for example one saved by the application).</summary>
    public void Seek(long position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        Position = position;
    }

    /// <summary>Durably stores <see cref="Position"/> for a named cursor, so <c>OpenCursor</c> with the same name resumes here.</summary>
    /// <exception cref="InvalidOperationException">The cursor has no name.</exception>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Name is null)
        {
            throw new InvalidOperationException("Only a named cursor has a checkpoint; open it with OpenCursor(region, name) or save Position yourself.");
        }

        _store.CommitCursor(Name, Position);
    }

    /// <summary>Releases the cursor. Nothing is committed implicitly.</summary>
    public void Dispose() => _disposed = true;
}
