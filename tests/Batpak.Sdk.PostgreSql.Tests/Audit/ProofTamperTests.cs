// Tampering with what compaction leaves (dropped rows, tombstones and their proofs) and forging what only compaction
// may do. In a keyed store every forgery fails; in an unkeyed one a drop or tombstone forged with the right hash
// cannot be told from a real one (as in the embedded engine, whose unkeyed compaction record has no MAC): the
// tests state that limit too.
namespace Batpak.PostgreSql.Tests.Audit;

public sealed class ProofTamperTests
{
    private static bool NotBob(StoredEvent e) => e.Coordinate.Entity != "acct:bob";

    /// <summary>
    /// (keyed, what compaction did first, SQL, text the failure of VerifyAll against the head taken before compaction
    /// must hold, whether Verify of bob or carol tells too). Compaction rejects bob's events (global sequences 1, 3, 5,
    /// 9), so bob's chain in the drop cases is made of dropped rows only, which carry no links of their own.
    /// </summary>
    public static TheoryData<bool, CompactionMode, string, string, bool> Cases()
    {
        const string DropHash3 = "UPDATE {s}.dropped SET hash = set_byte(hash, 0, get_byte(hash, 0) # 1) WHERE global_seq = 3";
        const string TombHash3 = "UPDATE {s}.events SET hash = set_byte(hash, 0, get_byte(hash, 0) # 1) WHERE global_seq = 3";
        var cases = new TheoryData<bool, CompactionMode, string, string, bool>
        {
            // A dropped hash: the key's MAC tells at once; without a key, only the global chain (here: the anchor).
            { true, CompactionMode.Drop, DropHash3, "global sequence 3", true },
            { false, CompactionMode.Drop, DropHash3, "anchor", false },
            { false, CompactionMode.Drop, "UPDATE {s}.dropped SET hash = set_byte(hash, 0, get_byte(hash, 0) # 1) WHERE global_seq = 9", "acct:bob", true },
            { true, CompactionMode.Tombstone, TombHash3, "global sequence 3", true },
            { false, CompactionMode.Tombstone, TombHash3, "global sequence 5", true },
            { false, CompactionMode.Drop, "UPDATE {s}.dropped SET global_seq = 100 WHERE global_seq = 3", "events 3..3 are missing", false },
            { true, CompactionMode.Drop, "UPDATE {s}.dropped SET global_seq = 100 WHERE global_seq = 3", "events 3..3 are missing", true },

            // The proofs themselves.
            { false, CompactionMode.Drop, "UPDATE {s}.dropped SET mac = sha256('x'::bytea) WHERE global_seq = 3", "global sequence 3", true },
            { true, CompactionMode.Drop, "UPDATE {s}.dropped SET mac = set_byte(mac, 0, get_byte(mac, 0) # 1) WHERE global_seq = 3", "global sequence 3", true },
            { true, CompactionMode.Drop, "UPDATE {s}.dropped SET mac = NULL WHERE global_seq = 3", "global sequence 3", true },
            { true, CompactionMode.Drop, "UPDATE {s}.dropped SET kind = kind + 1 WHERE global_seq = 3", "global sequence 3", true },
            { true, CompactionMode.Drop, "UPDATE {s}.dropped SET event_id = gen_random_uuid() WHERE global_seq = 3", "global sequence 3", true },
            { true, CompactionMode.Drop, "UPDATE {s}.dropped d SET mac = o.mac FROM {s}.dropped o WHERE (d.global_seq, o.global_seq) IN ((3, 5), (5, 3))", "global sequence 3", true },
            { false, CompactionMode.Tombstone, "UPDATE {s}.tombstones SET mac = sha256('x'::bytea) WHERE global_seq = 3", "global sequence 3", true },
            { true, CompactionMode.Tombstone, "UPDATE {s}.tombstones SET mac = set_byte(mac, 0, get_byte(mac, 0) # 1) WHERE global_seq = 3", "global sequence 3", true },
            { true, CompactionMode.Tombstone, "UPDATE {s}.tombstones SET mac = NULL WHERE global_seq = 3", "global sequence 3", true },
        };
        foreach (bool keyed in new[] { false, true })
        {
            cases.Add(keyed, CompactionMode.Drop, "UPDATE {s}.dropped SET entity_seq = entity_seq + 1 WHERE global_seq = 3", "global sequence 3", true);
            cases.Add(keyed, CompactionMode.Drop, "DELETE FROM {s}.dropped WHERE global_seq = 3", "events 3..3 are missing", true);
            cases.Add(keyed, CompactionMode.Drop, "UPDATE {s}.dropped SET entity_id = (SELECT entity_id FROM {s}.entities WHERE name = 'acct:carol') WHERE global_seq = 9", "global sequence 9", true);
            cases.Add(keyed, CompactionMode.Tombstone, "DELETE FROM {s}.tombstones WHERE global_seq = 3", "global sequence 3", true);
            cases.Add(keyed, CompactionMode.Tombstone, "UPDATE {s}.events SET payload = '\\x01'::bytea WHERE global_seq = 3", "global sequence 3", true);
            cases.Add(keyed, CompactionMode.Tombstone, "UPDATE {s}.events SET flags = flags & ~16 WHERE global_seq = 3", "global sequence 3", true);
        }

        return cases;
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void AfterCompaction_TamperedProofOrRemains_VerifyAllFails_NamingTheEvent(bool keyed, CompactionMode mode, string sql, string named, bool verifyTells)
    {
        using AuditStore audit = AuditStore.Open(keyed);
        audit.Seed();
        StoreHead head = audit.Store.GetHead();
        audit.Store.Compact(new CompactionOptions { Retain = NotBob, Mode = mode });
        Assert.True(audit.Store.VerifyAll(head).IsValid, "the compacted store verifies before the change");

        Assert.True(audit.Sql(sql) > 0, "the change changed no row");

        ChainVerification all = audit.Store.VerifyAll(head);
        Assert.False(all.IsValid, $"VerifyAll missed: {sql}");
        Assert.Contains(named, all.Failure, StringComparison.Ordinal);
        bool entitiesValid = audit.Store.Verify("acct:bob").IsValid && audit.Store.Verify("acct:carol").IsValid;
        Assert.Equal(verifyTells, !entitiesValid);
    }

    /// <summary>Deletes event 4 and puts it in <c>dropped</c> with its true hash, as a drop would, but without the key.</summary>
    private const string ForgedDrop =
        "INSERT INTO {s}.dropped (global_seq, event_id, entity_id, entity_seq, kind, hash) SELECT global_seq, event_id, entity_id, entity_seq, kind, hash FROM {s}.events WHERE global_seq = 4; DELETE FROM {s}.events WHERE global_seq = 4; UPDATE {s}.store SET event_count = event_count - 1";

    /// <summary>Makes event 4 a tombstone as compaction would, but without the key.</summary>
    private const string ForgedTombstone =
        "UPDATE {s}.events SET flags = flags | 16, payload = ''::bytea WHERE global_seq = 4; INSERT INTO {s}.tombstones (global_seq) VALUES (4)";

    [SkippableTheory]
    [InlineData(ForgedDrop)]
    [InlineData(ForgedTombstone)]
    public void KeyedStore_ADropOrTombstoneForgedWithTheTrueHash_Fails_NamingTheEvent(string forgery)
    {
        using AuditStore audit = AuditStore.Open(keyed: true);
        audit.Seed();
        audit.Sql(forgery);

        ChainVerification all = audit.Store.VerifyAll();
        ChainVerification one = audit.Store.Verify("acct:alice");

        Assert.False(all.IsValid);
        Assert.Contains("global sequence 4", all.Failure, StringComparison.Ordinal);
        Assert.Contains("MAC", all.Failure, StringComparison.Ordinal);
        Assert.False(one.IsValid);
    }

    [SkippableTheory]
    [InlineData(ForgedDrop)]
    [InlineData(ForgedTombstone)]
    public void UnkeyedStore_ADropOrTombstoneForgedWithTheTrueHash_CannotBeToldFromARealOne_TheStatedLimit(string forgery)
    {
        using AuditStore audit = AuditStore.Open(keyed: false);
        audit.Seed();
        StoreHead head = audit.Store.GetHead();
        audit.Sql(forgery);

        // What the attacker did is what a compaction does; without a key nothing in the tables can prove otherwise.
        // The head is unchanged too, as for a real compaction: an anchor does not tell either.
        Assert.True(audit.Store.VerifyAll(head).IsValid);
        Assert.Equal(head, audit.Store.GetHead());
    }
}
