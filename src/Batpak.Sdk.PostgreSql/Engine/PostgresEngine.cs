// The PostgreSQL storage engine behind the IStorageEngine seam (src/Batpak.Sdk/Engine): this file holds the class
// and the members of verification, head, compaction and snapshot; the rest live in PostgresEngine.*.cs. Only
// StoreCore (through PostgresEventStore.Open) calls it.
namespace Batpak.PostgreSql.Engine;

/// <summary>One store in one PostgreSQL schema; any number of processes may run one over the same schema.</summary>
internal sealed partial class PostgresEngine
{
    // Verification, the head digest, compaction and snapshot: see the verification/compaction files.
    public ChainVerification Verify(string entity) => throw new NotImplementedException("issue 13: verification/compaction helper");

    public ChainVerification VerifyAll(StoreHead? anchor) => throw new NotImplementedException("issue 13: verification/compaction helper");

    public StoreHead GetHead() => throw new NotImplementedException("issue 13: verification/compaction helper");

    public CompactionResult Compact(CompactionOptions options) => throw new NotImplementedException("issue 13: verification/compaction helper");

    public void Snapshot(string destinationDirectory) => throw new NotImplementedException("issue 13: verification/compaction helper");
}
