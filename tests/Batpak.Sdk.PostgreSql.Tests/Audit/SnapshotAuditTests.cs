// Snapshot of the PostgreSQL engine into another schema: the copy opens as a store, verifies, equals the source's
// head (also after compaction, keyed or not), keeps keys and cursors, gets its own store id, is consistent while
// appends go on, and a schema that exists and is not empty (or the store's own) is refused.
namespace Batpak.PostgreSql.Tests.Audit;

public sealed class SnapshotAuditTests
{
    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void Snapshot_AfterCompaction_OpensAsAStore_Verifies_AndHasTheSourcesHead(bool keyed)
    {
        using AuditStore audit = AuditStore.Open(keyed);
        List<AppendReceipt> seeded = audit.Seed();
        audit.Store.Compact(new CompactionOptions { Retain = e => e.Coordinate.Entity != "acct:bob" });
        audit.Store.Compact(new CompactionOptions { Retain = e => e.Coordinate.Entity != "acct:carol", Mode = CompactionMode.Tombstone });
        long position;
        using (EventCursor cursor = audit.Store.OpenCursor(Region.All, "audit-cursor"))
        {
            Assert.Equal(3, cursor.Poll(3).Count);
            cursor.Commit();
            position = cursor.Position;
        }

        StoreHead head = audit.Store.GetHead();
        string target = audit.NewTargetSchema();

        audit.Store.Snapshot(target);
        audit.Store.Append(AuditStore.Alice, AuditStore.Created, AuditStore.Payload(100)); // after the copy: not in it

        using PostgresEventStore copy = audit.OpenAt(target);
        Assert.Equal(head, copy.GetHead());
        ChainVerification verified = copy.VerifyAll(head);
        Assert.True(verified.IsValid, verified.Failure);
        Assert.Equal(6, verified.EventsChecked); // the rows of events: alice's 5 and carol's tombstone (bob's 4 were dropped)
        foreach (string entity in new[] { "acct:alice", "acct:bob", "acct:carol" })
        {
            Assert.True(copy.Verify(entity).IsValid, copy.Verify(entity).Failure);
        }

        Assert.NotEqual(audit.Store.Engine.StoreId, copy.Engine.StoreId);
        AppendReceipt again = copy.Append(AuditStore.Bob, AuditStore.Created, AuditStore.Payload(1), new AppendOptions { IdempotencyKey = "bob-1" });
        Assert.Equal((seeded[1].EventId, seeded[1].Hash), (again.EventId, again.Hash));
        using (EventCursor cursor = copy.OpenCursor(Region.All, "audit-cursor"))
        {
            Assert.Equal(position, cursor.Position);
        }

        // The copy is a store of its own: new entities and scopes get fresh ids, its chains go on.
        copy.Append(new Coordinate("acct:dave", "new-bank"), AuditStore.Created, AuditStore.Payload(200));
        Assert.True(copy.VerifyAll(head).IsValid);
        Assert.True(audit.Store.VerifyAll(head).IsValid);
    }

    [SkippableFact]
    public async Task Snapshot_WhileAppendsGoOn_IsAConsistentCopyAsOfOneMoment()
    {
        using AuditStore audit = AuditStore.Open();
        audit.Seed();
        using var stop = new CancellationTokenSource();
        Task writer = Task.Run(() =>
        {
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                audit.Store.Append(new Coordinate($"live:{i % 4}", "bank"), AuditStore.Created, AuditStore.Payload(i));
            }
        });
        await Task.Delay(200);
        string target = audit.NewTargetSchema();

        audit.Store.Snapshot(target);
        await stop.CancelAsync();
        await writer.WaitAsync(TimeSpan.FromSeconds(30));

        using PostgresEventStore copy = audit.OpenAt(target);
        StoreHead copied = copy.GetHead();
        Assert.True(copied.NextGlobalSequence > 10);
        ChainVerification verified = copy.VerifyAll();
        Assert.True(verified.IsValid, verified.Failure);
        Assert.True(audit.Store.VerifyAll(copied).IsValid, "the copy's head is a prefix of the source's log");
    }

    [SkippableFact]
    public void Snapshot_IntoAnExistingEmptySchema_Works_IntoANonEmptyOneOrItsOwn_IsRefused_NamingIt()
    {
        using AuditStore audit = AuditStore.Open();
        audit.Seed();
        string empty = audit.NewTargetSchema();
        string occupied = audit.NewTargetSchema();
        audit.Sql($"CREATE SCHEMA \"{empty}\"; CREATE SCHEMA \"{occupied}\"; CREATE TABLE \"{occupied}\".unrelated (x int)");

        audit.Store.Snapshot(empty);
        ArgumentException notEmpty = Assert.Throws<ArgumentException>(() => audit.Store.Snapshot(occupied));
        ArgumentException own = Assert.Throws<ArgumentException>(() => audit.Store.Snapshot(audit.Schema));
        ArgumentException again = Assert.Throws<ArgumentException>(() => audit.Store.Snapshot(empty));
        ArgumentException invalid = Assert.Throws<ArgumentException>(() => audit.Store.Snapshot("no-dashes"));

        Assert.Contains(occupied, notEmpty.Message, StringComparison.Ordinal);
        Assert.Contains(audit.Schema, own.Message, StringComparison.Ordinal);
        Assert.Contains(empty, again.Message, StringComparison.Ordinal);
        Assert.Contains("no-dashes", invalid.Message, StringComparison.Ordinal);
        using PostgresEventStore copy = audit.OpenAt(empty);
        Assert.Equal(audit.Store.GetHead(), copy.GetHead());
        Assert.Equal(0L, audit.Scalar<long>($"SELECT count(*) FROM \"{occupied}\".unrelated")); // untouched
        Assert.Equal(0L, audit.Scalar<long>($"SELECT count(*) FROM pg_tables WHERE schemaname = '{occupied}' AND tablename <> 'unrelated'"));
    }
}
