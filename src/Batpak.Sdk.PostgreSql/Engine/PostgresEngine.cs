// The PostgreSQL storage engine behind the IStorageEngine seam (src/Batpak.Sdk/Engine): this file holds the class
// and the members of verification, head, compaction and snapshot; the rest live in PostgresEngine.*.cs. Only
// StoreCore (through PostgresEventStore.Open) calls it.
namespace Batpak.PostgreSql.Engine;

/// <summary>One store in one PostgreSQL schema; any number of processes may run one over the same schema.</summary>
internal sealed partial class PostgresEngine
{
    // Verification, the head digest, compaction and snapshot: one file each in Audit/.
    public ChainVerification Verify(string entity) => Audit.PgEntityVerifier.Verify(this, entity);

    public ChainVerification VerifyAll(StoreHead? anchor) => Audit.PgLogVerifier.VerifyAll(this, anchor);

    public StoreHead GetHead() => Audit.PgHeadReader.Read(this);

    public CompactionResult Compact(CompactionOptions options) => Audit.PgCompactionRunner.Compact(this, options);

    public void Snapshot(string destinationDirectory) => Audit.PgSnapshotCopier.Copy(this, destinationDirectory);
}
