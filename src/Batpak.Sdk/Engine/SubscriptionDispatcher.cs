// Push-subscription fan-out for every engine: keeps the live subscriptions, wakes on each commit signal and has the
// engine deliver what was committed since. Owned by StoreCore (Subscribe, Dispose); runs on one thread-pool task.

namespace Batpak.Engine;

/// <summary>Delivers committed events to <see cref="Subscription"/>s in global order, one dispatcher task per store.</summary>
internal sealed class SubscriptionDispatcher(IStorageEngine engine, CommitNotifier notifier)
{
    private static readonly TimeSpan s_giveUpAfter = TimeSpan.FromSeconds(60); // a delivery failing this long ends the subscriptions
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
        var backoff = TimeSpan.Zero;
        long failingSince = 0; // Stopwatch timestamp of the first failure in a row
        try
        {
            while (true)
            {
                Task signal = notifier.NextSignal();
                if (notifier.IsClosed)
                {
                    return;
                }

                try
                {
                    _dispatchedUpTo = Math.Max(_dispatchedUpTo, engine.DeliverCommitted(_dispatchedUpTo, _subscriptions));
                    backoff = TimeSpan.Zero;
                }
                catch (Exception ex) when (ex is not (ObjectDisposedException or BatpakException))
                {
                    // A failure that may pass (a dropped connection, a timeout, an I/O error): retry from the same
                    // position with a growing pause (subscriptions skip what they already got). A failure that lasts
                    // s_giveUpAfter ends the subscriptions with its cause, so no reader waits forever on a dead store.
                    failingSince = backoff == TimeSpan.Zero ? System.Diagnostics.Stopwatch.GetTimestamp() : failingSince;
                    if (System.Diagnostics.Stopwatch.GetElapsedTime(failingSince) > s_giveUpAfter)
                    {
                        CompleteAll(ex);
                        return;
                    }

                    backoff = backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(50) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
                    await Task.Delay(backoff).ConfigureAwait(false); // at most 2 s: Stop waits for the loop
                    continue;
                }

                await signal.ConfigureAwait(false);
            }
        }
        catch (ObjectDisposedException ex)
        {
            // The store closed under a delivery (it closes the notifier first): Stop completes the subscriptions.
            // Anything else disposed under an open store would leave every reader waiting: end them with the cause.
            if (!notifier.IsClosed)
            {
                CompleteAll(ex);
            }
        }
        catch (BatpakException ex)
        {
            // Damage (for example a corrupt frame): end every subscription with the cause instead of going quiet.
            CompleteAll(ex);
        }
    }

    private void CompleteAll(Exception cause)
    {
        foreach (Subscription subscription in _subscriptions)
        {
            subscription.Complete(cause);
        }
    }
}
