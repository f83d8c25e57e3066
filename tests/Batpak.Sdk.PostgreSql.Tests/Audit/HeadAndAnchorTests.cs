// The head digest of the PostgreSQL engine and what it proves: GetHead over many global-chain blocks equals what
// VerifyAll recomputes, survives reopen; an attacker who rewrites an event with a hash that recomputes (no key) is
// caught by the store row's fold state once the event's block is complete, and by an anchor before that; a log cut
// at its end with the store row "fixed" is caught only by an anchor.
namespace Batpak.PostgreSql.Tests.Audit;

public sealed class HeadAndAnchorTests
{
    private static readonly Coordinate s_solo = new("solo:a", "bank");

    private static void AppendBulk(PostgresEventStore store, int count) =>
        store.AppendBatch(Enumerable.Range(0, count).Select(i => new EventData(new Coordinate($"bulk:{i % 5}", "bank"), AuditStore.Created, AuditStore.Payload(i))).ToList());

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void GetHead_OverSeveralBlocks_IsWhatVerifyAllRecomputes_AndSurvivesReopen(bool keyed)
    {
        using AuditStore audit = AuditStore.Open(keyed);
        StoreHead empty = audit.Store.GetHead();
        AppendBulk(audit.Store, 1023);
        StoreHead belowBlock = audit.Store.GetHead();
        audit.Store.Append(s_solo, AuditStore.Created, AuditStore.Payload(0)); // completes the first block
        StoreHead atBlock = audit.Store.GetHead();
        AppendBulk(audit.Store, 1100);
        StoreHead head = audit.Store.GetHead();

        Assert.Equal((0L, 1023L, 1024L, 2124L), (empty.NextGlobalSequence, belowBlock.NextGlobalSequence, atBlock.NextGlobalSequence, head.NextGlobalSequence));
        Assert.Equal(2048L, audit.Scalar<long>("SELECT chain_folded FROM {s}.store"));
        foreach (StoreHead anchor in new[] { empty, belowBlock, atBlock, head })
        {
            ChainVerification verified = audit.Store.VerifyAll(anchor);
            Assert.True(verified.IsValid, verified.Failure);
            Assert.Equal(2124, verified.EventsChecked);
        }

        Assert.False(audit.Store.VerifyAll(atBlock with { Digest = belowBlock.Digest }).IsValid);
        audit.Reopen();
        Assert.Equal(head, audit.Store.GetHead());
        using PostgresEventStore other = audit.OpenAt(audit.Schema);
        Assert.Equal(head, other.GetHead());
    }

    [SkippableFact]
    public void RehashedEvent_InACompleteBlock_IsCaughtByTheStoreRowsFoldState_ThoughItsEntityChainRecomputes()
    {
        using AuditStore audit = AuditStore.Open();
        audit.Store.Append(s_solo, AuditStore.Created, AuditStore.Payload(0)); // global 0, solo's only event
        AppendBulk(audit.Store, 1100);

        AttackerHash.Rewrite(audit, 0, AuditStore.Payload(666));

        ChainVerification solo = audit.Store.Verify(s_solo.Entity);
        Assert.True(solo.IsValid, "the rewrite recomputes: the entity chain alone cannot tell (" + solo.Failure + ")");
        ChainVerification all = audit.Store.VerifyAll();
        Assert.False(all.IsValid);
        Assert.Contains("fold state", all.Failure, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void RehashedEvent_InTheOpenBlock_IsCaughtByAnAnchor_AndNotWithoutOne()
    {
        using AuditStore audit = AuditStore.Open();
        AppendBulk(audit.Store, 20);
        AppendReceipt last = audit.Store.Append(s_solo, AuditStore.Created, AuditStore.Payload(0));
        StoreHead anchor = audit.Store.GetHead();

        AttackerHash.Rewrite(audit, last.GlobalSequence, AuditStore.Payload(666));

        Assert.True(audit.Store.VerifyAll().IsValid, "the stated limit: the open block is covered by no stored digest");
        ChainVerification anchored = audit.Store.VerifyAll(anchor);
        Assert.False(anchored.IsValid);
        Assert.Contains("anchor", anchored.Failure, StringComparison.Ordinal);
        Assert.NotEqual(anchor, audit.Store.GetHead());
    }

    [SkippableFact]
    public void LastEventOfTheLogDeleted_WithTheStoreAndEntityRowsFixed_IsCaughtByAnAnchor()
    {
        using AuditStore audit = AuditStore.Open();
        audit.Seed();
        StoreHead anchor = audit.Store.GetHead();

        // Event 9 is bob's last (sequence 3); its predecessor in bob's chain is event 5.
        audit.Sql(
            "UPDATE {s}.entities n SET last_seq = 2, last_hash = (SELECT hash FROM {s}.events WHERE global_seq = 5) WHERE name = 'acct:bob';"
            + " DELETE FROM {s}.events WHERE global_seq = 9; UPDATE {s}.store SET next_global = 9, event_count = 9");

        Assert.True(audit.Store.VerifyAll().IsValid, "the stated limit: without an anchor a cut end looks like a shorter log");
        ChainVerification anchored = audit.Store.VerifyAll(anchor);
        Assert.False(anchored.IsValid);
        Assert.Contains("the anchor covers 10 events but the store holds 9", anchored.Failure, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void GetHead_WithAHoleInTheOpenBlock_ThrowsPostgresSchemaException_NamingTheSequence()
    {
        using AuditStore audit = AuditStore.Open();
        audit.Seed();
        audit.Sql("DELETE FROM {s}.events WHERE global_seq = 4");

        PostgresSchemaException thrown = Assert.Throws<PostgresSchemaException>(() => audit.Store.GetHead());

        Assert.Contains("global sequence 4", thrown.Message, StringComparison.Ordinal);
        Assert.Equal(audit.Schema, thrown.Schema);
    }
}
