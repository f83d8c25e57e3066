namespace Batpak.Contract;

/// <summary>
/// What a contract test asks of the store it opens: where it lives and the engine-independent settings it needs.
/// Built by <see cref="EventStoreContract"/>; an engine's runner turns it into that engine's options.
/// </summary>
/// <param name="Location">
/// Where the store lives, as the runner's <see cref="EventStoreContract.CreateLocation"/> made it (a directory, a
/// database schema, ...). Opening the same setup again reopens the same store.
/// </param>
public sealed record StoreSetup(string Location)
{
    /// <summary>The store's <see cref="IEventStore.DefaultScope"/>, or <see langword="null"/> for the engine's default (<c>"default"</c>).</summary>
    public string? DefaultScope { get; init; }

    /// <summary>The largest event accepted, in bytes, or <see langword="null"/> for the engine's default.</summary>
    public int? MaxEventBytes { get; init; }

    /// <summary>Kinds that only a <see cref="Pipeline{TContext}"/> may append (<see cref="BatpakOptions.GatedKinds"/>).</summary>
    public IReadOnlyCollection<EventKind> GatedKinds { get; init; } = [];
}

/// <summary>A part of <see cref="IEventStore"/> that an engine may lack; its contract tests then report SKIPPED.</summary>
public enum ContractNotion
{
    /// <summary><see cref="IEventStore.Compact"/>: merging and retention (drop and tombstone).</summary>
    Compaction = 0,

    /// <summary><see cref="IEventStore.Snapshot"/>: a consistent copy written into a location that opens as a store.</summary>
    Snapshot = 1,
}
