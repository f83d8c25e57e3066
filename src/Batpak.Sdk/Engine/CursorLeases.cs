// The in-process half of a named cursor's lease: one holder per cursor name among the users of one StoreCore (the
// engine adds the cross-instance half, see IStorageEngine.AcquireCursorLeaseAsync). Owned by StoreCore.
using System.Collections.Concurrent;

namespace Batpak.Engine;

/// <summary>
/// Grants the right to advance a named cursor to one holder at a time within this store instance; a second caller
/// waits until the first releases. <see cref="StoreCore"/> takes this gate first and the engine's lease second, so
/// two runners of one reactor in one process queue here and never both hold the engine's lease.
/// </summary>
internal sealed class CursorLeases
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);

    /// <summary>Waits until no one else in this instance holds <paramref name="name"/>'s lease, then takes it, and takes the engine's.</summary>
    public async ValueTask<IAsyncDisposable> AcquireAsync(string name, IStorageEngine engine, CancellationToken cancellationToken)
    {
        SemaphoreSlim gate = _gates.GetOrAdd(name, static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            IAsyncDisposable engineLease = await engine.AcquireCursorLeaseAsync(name, cancellationToken).ConfigureAwait(false);
            return new Lease(gate, engineLease);
        }
        catch
        {
            gate.Release();
            throw;
        }
    }

    /// <summary>Both halves; releasing returns the engine's lease first, then lets the next local holder in. Releasing twice is harmless.</summary>
    private sealed class Lease(SemaphoreSlim gate, IAsyncDisposable engineLease) : IAsyncDisposable
    {
        private int _released;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
            {
                return;
            }

            try
            {
                await engineLease.DisposeAsync().ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        }
    }
}
