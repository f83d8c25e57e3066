using System.Runtime.CompilerServices;
using Batpak.Engine;
using Batpak.Storage;

namespace Batpak;

/// <summary>
/// Projects entities: folds an entity's events into an <see cref="IProjection{TSelf}"/> state, incrementally from
/// a cached state when the cache holds a valid one.
/// </summary>
/// <remarks>
/// <para>One call of <see cref="Project{TState}(string, Freshness)"/>:</para>
/// <list type="number">
/// <item>looks the entity up in the cache and discards the entry when its schema version differs from
/// <see cref="IProjection{TSelf}.SchemaVersion"/>, when its watermark is beyond the entity's last sequence (the store
/// is older than the cache, for example restored from an older snapshot) or when its last folded event is no longer
/// that event at that sequence (the store holds another history, or retention dropped the event);</item>
/// <item>returns a valid entry as is when it is current, or when the freshness is <see cref="Freshness.MaybeStale"/>
/// and the entry was folded no more than <see cref="Freshness.MaxAge"/> ago;</item>
/// <item>otherwise folds the events after the watermark (all of them without a valid entry) onto the cached state (or
/// <see cref="IProjection{TSelf}.Initial"/>) and writes the result back to the cache.</item>
/// </list>
/// <para>Consistency: events are read as of the call, so the state reflects every event of the entity acknowledged
/// before the call began. Validating an entry costs one index look-up on an <see cref="EventStore"/> (one event read on
/// another <see cref="IEventStore"/>); folding reads only the events after the watermark.</para>
/// <para>Thread-safety: any number of threads may project at once; two threads folding the same entity both fold
/// and the last write to the cache wins (both results are valid states). <see cref="IProjection{TSelf}.Apply"/> runs
/// on the calling thread.</para>
/// </remarks>
public sealed class ProjectionEngine
{
    private readonly TimeProvider _time;

    /// <summary>Creates an engine over <paramref name="store"/>.</summary>
    /// <param name="store">The store the events are read from.</param>
    /// <param name="cache">Where folded states are kept; <see cref="NoProjectionCache"/> when <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock that dates cached states for <see cref="Freshness.MaybeStale"/>; <see cref="TimeProvider.System"/> by default.</param>
    public ProjectionEngine(IEventStore store, IProjectionCache? cache = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        Store = store;
        Cache = cache ?? NoProjectionCache.Instance;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The store the events are read from.</summary>
    public IEventStore Store { get; }

    /// <summary>Where folded states are kept.</summary>
    public IProjectionCache Cache { get; }

    /// <summary>Projects <paramref name="entity"/> with <see cref="Freshness.Consistent"/> freshness.</summary>
    /// <inheritdoc cref="Project{TState}(string, Freshness)"/>
    public TState Project<TState>(string entity)
        where TState : IProjection<TState> => Project<TState>(entity, Freshness.Consistent);

    /// <summary>Returns the state of <paramref name="entity"/> as <typeparamref name="TState"/>, as fresh as <paramref name="freshness"/> asks.</summary>
    /// <param name="entity">The entity (stream key).</param>
    /// <param name="freshness"><see cref="Freshness.Consistent"/> (the default) or <see cref="Freshness.MaybeStale"/>.</param>
    /// <returns>The folded state; <see cref="IProjection{TSelf}.Initial"/> for an entity with no events.</returns>
    /// <exception cref="ArgumentException"><paramref name="entity"/> is not a valid entity.</exception>
    /// <exception cref="EventDecodeException">An event of a known kind does not decode.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="IOException">The cache could not write the folded state (an on-disk cache on a full or read-only disk).</exception>
    public TState Project<TState>(string entity, Freshness freshness)
        where TState : IProjection<TState>
    {
        Coordinate.Validate(entity, nameof(entity));
        long lastSequence = Store.GetLastSequence(entity);
        CachedProjection<TState>? cached = null;
        long fromGlobalSequence = 0;
        if (Cache.TryGet(entity, out CachedProjection<TState>? found))
        {
            if (TryValidate(entity, found, lastSequence, out long lastGlobalSequence))
            {
                if (found.Watermark == lastSequence || (!freshness.IsConsistent && IsYoungEnough(found.RefreshedAt, freshness.MaxAge)))
                {
                    return found.State;
                }

                cached = found;
                fromGlobalSequence = lastGlobalSequence + 1;
            }
            else
            {
                Cache.Remove<TState>(entity);
            }
        }

        if (lastSequence < 0)
        {
            return TState.Initial;
        }

        TState state = cached is null ? TState.Initial : cached.State;
        long watermark = cached?.Watermark ?? -1;
        EventId lastEventId = cached?.LastEventId ?? EventId.Empty;
        int folded = 0;
        foreach (StoredEvent e in Store.Read(Region.ForEntity(entity).WithGlobalSequence(fromGlobalSequence)))
        {
            long sequence = e.Header.Position.Sequence;
            if (sequence <= watermark)
            {
                continue; // defensive: already in the cached state
            }

            state = state.Apply(TypedEventDecoder.Decode(e));
            watermark = sequence;
            lastEventId = e.Id;
            folded++;
        }

        if (folded > 0)
        {
            Cache.Set(entity, new CachedProjection<TState>(state, watermark, lastEventId, TState.SchemaVersion, _time.GetUtcNow()));
        }

        return state;
    }

    /// <summary>Forgets the cached state of <typeparamref name="TState"/> for <paramref name="entity"/>: the next call folds from the first event.</summary>
    public void Invalidate<TState>(string entity)
        where TState : IProjection<TState>
    {
        Coordinate.Validate(entity, nameof(entity));
        Cache.Remove<TState>(entity);
    }

    private bool IsYoungEnough(DateTimeOffset refreshedAt, TimeSpan maxAge)
    {
        TimeSpan age = _time.GetUtcNow() - refreshedAt;
        return age <= maxAge;
    }

    /// <summary>
    /// True when the cached entry still describes a prefix of the entity's stream in this store: same schema, its
    /// watermark not beyond the entity's last sequence, and its last event still that event at that sequence.
    /// </summary>
    private bool TryValidate<TState>(string entity, CachedProjection<TState> cached, long lastSequence, out long lastGlobalSequence)
        where TState : IProjection<TState>
    {
        lastGlobalSequence = -1;
        if (cached.SchemaVersion != TState.SchemaVersion || cached.Watermark > lastSequence || cached.Watermark < 0)
        {
            return false;
        }

        // An index look-up in the SDK's stores; no frame is read.
        if (!Store.TryLocate(cached.LastEventId, out EventLocation location)
            || location.EntitySequence != cached.Watermark || !string.Equals(location.Entity, entity, StringComparison.Ordinal))
        {
            return false;
        }

        lastGlobalSequence = location.GlobalSequence;
        return true;
    }
}

/// <summary>Projection shortcuts on <see cref="IEventStore"/>.</summary>
public static class ProjectionEventStoreExtensions
{
    private static readonly ConditionalWeakTable<IEventStore, ProjectionEngine> s_engines = new();

    /// <summary>
    /// Returns the state of <paramref name="entity"/> as <typeparamref name="TState"/> through the store's shared
    /// default engine: an <see cref="InMemoryProjectionCache"/> of <see cref="InMemoryProjectionCache.DefaultCapacity"/>
    /// entries and the system clock, created on first use and collected with the store. For another cache (on disk,
    /// none) or clock, create a <see cref="ProjectionEngine"/>.
    /// </summary>
    /// <inheritdoc cref="ProjectionEngine.Project{TState}(string, Freshness)"/>
    public static TState Project<TState>(this IEventStore store, string entity, Freshness freshness = default)
        where TState : IProjection<TState>
    {
        ArgumentNullException.ThrowIfNull(store);
        return s_engines.GetValue(store, static s => new ProjectionEngine(s, new InMemoryProjectionCache())).Project<TState>(entity, freshness);
    }
}
