namespace Batpak;

/// <summary>
/// An anchor: how many events the store held (<see cref="NextGlobalSequence"/>) and the digest of the global chain
/// over all of them (docs/FORMAT.md, "Global chain"). Keep it somewhere the store's files are not (a database, a
/// log, another machine); <see cref="IEventStore.VerifyAll(StoreHead)"/> later proves the store still holds exactly
/// those events, which no check inside the files alone can prove about the end of the log. Compaction does not change
/// it: the chain covers the hashes of tombstoned and dropped events too.
/// </summary>
/// <param name="NextGlobalSequence">The number of events the digest covers (the next global sequence at the time).</param>
/// <param name="Digest">The global chain's digest over those events: SHA-256, or HMAC-SHA256 in a keyed store.</param>
public readonly record struct StoreHead(long NextGlobalSequence, EventHash Digest);
