using System.Diagnostics.CodeAnalysis;

namespace Batpak;

/// <summary>A projected state as a cache keeps it: the state and where in the entity's stream it was folded up to.</summary>
/// <typeparam name="TState">The projection.</typeparam>
/// <param name="State">The folded state.</param>
/// <param name="Watermark">The entity sequence of the last event folded into <paramref name="State"/> (the watermark).</param>
/// <param name="LastEventId">The id of that event: a cache whose event is no longer at that place in the store (a restore, a retention drop) is discarded.</param>
/// <param name="SchemaVersion">The <see cref="IProjection{TSelf}.SchemaVersion"/> the state was folded under.</param>
/// <param name="RefreshedAt">When it was folded, by the engine's clock; <see cref="Freshness.MaybeStale"/> compares its age.</param>
public sealed record CachedProjection<TState>(TState State, long Watermark, EventId LastEventId, int SchemaVersion, DateTimeOffset RefreshedAt)
    where TState : IProjection<TState>;

/// <summary>
/// Where a <see cref="ProjectionEngine"/> keeps folded states between calls, keyed by projection type and entity:
/// <see cref="NoProjectionCache"/>, <see cref="InMemoryProjectionCache"/> or <see cref="DiskProjectionCache"/>.
/// </summary>
/// <remarks>
/// Implementations must be thread-safe. A cache only stores: the engine validates every entry it gets (schema
/// version, watermark against the store, identity of the last event) and removes the ones that no longer hold, so a
/// cache may return stale or foreign entries without harm, only at the cost of a refold. A cache must not throw for
/// damaged entries: it reports a miss.
/// </remarks>
public interface IProjectionCache
{
    /// <summary>Looks up the cached state of <typeparamref name="TState"/> for <paramref name="entity"/>.</summary>
    bool TryGet<TState>(string entity, [NotNullWhen(true)] out CachedProjection<TState>? cached)
        where TState : IProjection<TState>;

    /// <summary>Stores (replaces) the cached state of <typeparamref name="TState"/> for <paramref name="entity"/>.</summary>
    void Set<TState>(string entity, CachedProjection<TState> cached)
        where TState : IProjection<TState>;

    /// <summary>Forgets the cached state of <typeparamref name="TState"/> for <paramref name="entity"/>, if any.</summary>
    void Remove<TState>(string entity)
        where TState : IProjection<TState>;
}

/// <summary>A cache that keeps nothing: every projection folds the entity from its first event.</summary>
public sealed class NoProjectionCache : IProjectionCache
{
    private NoProjectionCache()
    {
    }

    /// <summary>The one instance.</summary>
    public static NoProjectionCache Instance { get; } = new();

    /// <inheritdoc />
    public bool TryGet<TState>(string entity, [NotNullWhen(true)] out CachedProjection<TState>? cached)
        where TState : IProjection<TState>
    {
        cached = null;
        return false;
    }

    /// <inheritdoc />
    public void Set<TState>(string entity, CachedProjection<TState> cached)
        where TState : IProjection<TState>
    {
    }

    /// <inheritdoc />
    public void Remove<TState>(string entity)
        where TState : IProjection<TState>
    {
    }
}
