// Push-subscription fan-out for every engine: keeps the live subscriptions, wakes on each commit signal and has the
// engine deliver what was committed since. Owned by StoreCore (Subscribe, Dispose); runs on one thread-pool task.

namespace Batpak.Engine;

/// <summary>Delivers committed events to <see cref="Subscription"/>s in global order, one dispatcher task per store.</summary>
internal sealed class SubscriptionDispatcher(IStorageEngine engine, CommitNotifier notifier)
{
    private readonly Lock _lock = new(); // guards the subscription list, the task and the drop count of closed subscriptions
    private Subscription[] _subscriptions = []; // replaced (never changed) under _lock; the dispatcher reads a snapshot
    private Task? _dispatcher; // started by the first Subscribe
    private long _dispatchedUpTo; // the dispatcher task's position; every event below it was offered
    private long _dropsOfClosedSubscriptions; // DroppedCount of disposed subscriptions, under _lock

    /// <summary>Adds a subscription that starts at the engine's end now; starts the dispatcher on first use.</summary>
    public Subscription Subscribe(Region region, int capacity)
    {
        var subscription = new Subscription(region, capacity, engine.NextGlobalSequence, Remove);
        lock (_lock)
        {
            if (_dispatcher is null)
            {
                _dispatchedUpTo = engine.NextGlobalSequence;
                _subscriptions = [subscription];
                _dispatcher = Task.Run(DispatchLoop);
            }
            else
            {
                _subscriptions = [.. _subscriptions, subscription];
            }
        }

        notifier.Signal(); // let the dispatcher notice the newcomer
        return subscription;
    }

    /// <summary>Events dropped by slow consumers, of live and closed subscriptions (the store's telemetry reports it).</summary>
    public long Drops()
    {
        lock (_lock)
        {
            long drops = _dropsOfClosedSubscriptions;
            foreach (Subscription subscription in _subscriptions)
            {
                drops += subscription.DroppedCount;
            }

            return drops;
        }
    }

    /// <summary>After the notifier closed: waits for the dispatcher (up to <paramref name="timeout"/>) and completes every subscription.</summary>
    public void Stop(TimeSpan timeout)
    {
        try
        {
            _dispatcher?.Wait(timeout);
        }
        catch (AggregateException)
        {
            // The dispatcher ends with the store; a failure there was already delivered as completion.
        }

        foreach (Subscription subscription in _subscriptions)
        {
            subscription.Complete();
        }
    }

    private void Remove(Subscription subscription)
    {
        lock (_lock)
        {
            _subscriptions = [.. _subscriptions.Where(s => s != subscription)];
            _dropsOfClosedSubscriptions += subscription.DroppedCount;
        }
    }

    private async Task DispatchLoop()
    {
        try
        {
            while (true)
            {
                Task signal = notifier.NextSignal();
                if (notifier.IsClosed)
                {
                    return;
                }

                _dispatchedUpTo = Math.Max(_dispatchedUpTo, engine.DeliverCommitted(_dispatchedUpTo, _subscriptions));
                await signal.ConfigureAwait(false);
            }
        }
        catch (ObjectDisposedException)
        {
            // The store closed under a delivery: Stop completes the subscriptions.
        }
        catch (Exception ex) when (ex is BatpakException or IOException)
        {
            // A read failed (for example a corrupt frame): end every subscription with the cause instead of going quiet.
            foreach (Subscription subscription in _subscriptions)
            {
                subscription.Complete(ex);
            }
        }
    }
}
