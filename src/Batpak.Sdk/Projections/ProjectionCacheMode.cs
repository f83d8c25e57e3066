namespace Batpak;

/// <summary>Which cache <c>AddProjections</c> gives the <see cref="ProjectionEngine"/>.</summary>
public enum ProjectionCacheMode
{
    /// <summary>No cache: every projection folds the entity from its first event.</summary>
    None = 0,

    /// <summary>A bounded in-memory cache (<see cref="InMemoryProjectionCache"/>): incremental folds, lost on restart.</summary>
    InMemory = 1,

    /// <summary>An on-disk cache in the data directory (<see cref="DiskProjectionCache"/>): survives restarts.</summary>
    Disk = 2,
}
