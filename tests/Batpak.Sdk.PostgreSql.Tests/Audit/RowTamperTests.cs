// Tampering with stored rows by SQL, one change at a time, enumerated over every hashed column of an event row,
// deletions, swaps, moves, forged dropped entries and the store and entities rows: Verify and VerifyAll must fail
// and name the event. Each case runs against a fresh seeded store (AuditStore.Seed).
namespace Batpak.PostgreSql.Tests.Audit;

public sealed class RowTamperTests
{
    private const string Alice = "acct:alice";

    /// <summary>
    /// (case, SQL, the entity Verify must fail on or null, text VerifyAll's failure must hold). The target is event 4
    /// (alice's sequence 2, a reaction to event 0) unless the case says otherwise.
    /// </summary>
    public static TheoryData<string, string, string?, string> Cases()
    {
        var cases = new TheoryData<string, string, string?, string>
        {
            { "payload byte", "UPDATE {s}.events SET payload = set_byte(payload, 0, get_byte(payload, 0) # 1) WHERE global_seq = 4", Alice, "global sequence 4" },
            { "payload one byte longer", "UPDATE {s}.events SET payload = payload || '\\x00'::bytea WHERE global_seq = 4", Alice, "global sequence 4" },
            { "kind", "UPDATE {s}.events SET kind = kind + 1 WHERE global_seq = 4", Alice, "global sequence 4" },
            { "kind past 16 bits (reads the same)", "UPDATE {s}.events SET kind = kind + 65536 WHERE global_seq = 4", Alice, "global sequence 4" },
            { "entity sequence", "UPDATE {s}.events SET entity_seq = entity_seq + 100 WHERE global_seq = 4", Alice, "global sequence 4" },
            { "global sequence", "UPDATE {s}.events SET global_seq = 100 WHERE global_seq = 4", Alice, "events 4..4 are missing" },
            { "timestamp", "UPDATE {s}.events SET ts_us = ts_us + 1 WHERE global_seq = 4", Alice, "global sequence 4" },
            { "hlc wall", "UPDATE {s}.events SET hlc_wall_ms = hlc_wall_ms + 1 WHERE global_seq = 4", Alice, "global sequence 4" },
            { "hlc counter", "UPDATE {s}.events SET hlc_counter = hlc_counter + 1 WHERE global_seq = 4", Alice, "global sequence 4" },
            { "depth", "UPDATE {s}.events SET depth = depth + 1 WHERE global_seq = 4", Alice, "global sequence 4" },
            { "event id", "UPDATE {s}.events SET event_id = gen_random_uuid() WHERE global_seq = 4", Alice, "global sequence 4" },
            { "correlation id", "UPDATE {s}.events SET correlation_id = gen_random_uuid() WHERE global_seq = 4", Alice, "global sequence 4" },
            { "correlation id removed (looks like a root)", "UPDATE {s}.events SET correlation_id = NULL WHERE global_seq = 4", Alice, "global sequence 4" },
            { "causation id", "UPDATE {s}.events SET causation_id = gen_random_uuid() WHERE global_seq = 4", Alice, "global sequence 4" },
            { "causation id removed", "UPDATE {s}.events SET causation_id = NULL WHERE global_seq = 4", Alice, "global sequence 4" },
            { "scope", "UPDATE {s}.events SET scope_id = (SELECT scope_id FROM {s}.scopes WHERE name = 'other-bank') WHERE global_seq = 4", Alice, "global sequence 4" },
            { "idempotency key added", "UPDATE {s}.events SET idem_key = 'forged' WHERE global_seq = 4", Alice, "global sequence 4" },
            { "idempotency key changed", "UPDATE {s}.events SET idem_key = 'bob-2' WHERE global_seq = 1", "acct:bob", "global sequence 1" },
            { "idempotency key removed", "UPDATE {s}.events SET idem_key = NULL WHERE global_seq = 1", "acct:bob", "global sequence 1" },
            { "bypass reason added", "UPDATE {s}.events SET bypass_reason = 'because' WHERE global_seq = 4", Alice, "global sequence 4" },
            { "flag removed", "UPDATE {s}.events SET flags = 0 WHERE global_seq = 6", Alice, "global sequence 6" },
            { "prev hash", "UPDATE {s}.events SET prev_hash = set_byte(prev_hash, 31, get_byte(prev_hash, 31) # 1) WHERE global_seq = 4", Alice, "global sequence 4" },
            { "prev hash of a first event", "UPDATE {s}.events SET prev_hash = set_byte(prev_hash, 0, 1) WHERE global_seq = 0", Alice, "global sequence 0" },
            { "hash", "UPDATE {s}.events SET hash = set_byte(hash, 0, get_byte(hash, 0) # 1) WHERE global_seq = 4", Alice, "global sequence 4" },
            { "hash truncated", "UPDATE {s}.events SET hash = substring(hash from 1 for 31) WHERE global_seq = 4", Alice, "global sequence 4" },
            { "tombstone flag on a live event", "UPDATE {s}.events SET flags = flags | 16 WHERE global_seq = 4", Alice, "global sequence 4" },
            { "tombstone flag and payload removed (a forged tombstone)", "UPDATE {s}.events SET flags = flags | 16, payload = ''::bytea WHERE global_seq = 4", Alice, "global sequence 4" },
            { "deleted: middle of an entity", "DELETE FROM {s}.events WHERE global_seq = 4", Alice, "events 4..4 are missing" },
            { "deleted: last of an entity", "DELETE FROM {s}.events WHERE global_seq = 8", Alice, "events 8..8 are missing" },
            { "deleted: first of an entity", "DELETE FROM {s}.events WHERE global_seq = 0", Alice, "events 0..0 are missing" },
            { "deleted: last of the log", "DELETE FROM {s}.events WHERE global_seq = 9", "acct:bob", "next_global" },
            { "payloads of two events swapped", "UPDATE {s}.events e SET payload = o.payload FROM {s}.events o WHERE (e.global_seq, o.global_seq) IN ((2, 4), (4, 2))", Alice, "global sequence 2" },
            { "moved to another entity", "UPDATE {s}.events SET entity_seq = 1 WHERE global_seq = 7; UPDATE {s}.events SET entity_id = (SELECT entity_id FROM {s}.entities WHERE name = 'acct:carol'), entity_seq = 0 WHERE global_seq = 4", Alice, "global sequence 4" },
            { "moved to an entity id that does not exist", "UPDATE {s}.events SET entity_id = 999999 WHERE global_seq = 4", Alice, "entity id 999999" },
            { "forged dropped entry beside a live event", "INSERT INTO {s}.dropped (global_seq, event_id, entity_id, entity_seq, kind, hash) SELECT global_seq, gen_random_uuid(), entity_id, entity_seq, kind, hash FROM {s}.events WHERE global_seq = 4", Alice, "global sequence 4 appears twice" },
            { "forged dropped entry with a made-up hash for a deleted event", "INSERT INTO {s}.dropped (global_seq, event_id, entity_id, entity_seq, kind, hash) SELECT global_seq, event_id, entity_id, entity_seq, kind, sha256('x'::bytea) FROM {s}.events WHERE global_seq = 4; DELETE FROM {s}.events WHERE global_seq = 4", Alice, "global sequence 6" },
            { "forged dropped entry past the end of the log", "INSERT INTO {s}.dropped (global_seq, event_id, entity_id, entity_seq, kind, hash) SELECT 10, gen_random_uuid(), entity_id, 5, kind, hash FROM {s}.events WHERE global_seq = 8", Alice, "next_global" },
            { "store: next_global", "UPDATE {s}.store SET next_global = next_global + 1", null, "next_global" },
            { "store: event_count", "UPDATE {s}.store SET event_count = event_count - 1", null, "event_count" },
            { "store: entity_count", "UPDATE {s}.store SET entity_count = entity_count + 1", null, "entity_count" },
            { "store: chain digest", "UPDATE {s}.store SET chain_digest = set_byte(chain_digest, 0, 1)", null, "fold state" },
            { "store: chain folded", "UPDATE {s}.store SET chain_folded = 1024", null, "fold state" },
            { "entities: last hash", "UPDATE {s}.entities SET last_hash = set_byte(last_hash, 0, get_byte(last_hash, 0) # 1) WHERE name = 'acct:alice'", Alice, "acct:alice" },
            { "entities: last sequence", "UPDATE {s}.entities SET last_seq = last_seq + 1 WHERE name = 'acct:alice'", Alice, "acct:alice" },
            { "entities: row deleted", "DELETE FROM {s}.entities WHERE name = 'acct:carol'", null, "entity id" },
            { "entities: renamed", "UPDATE {s}.entities SET name = 'acct:mallory' WHERE name = 'acct:carol'", "acct:mallory", "global sequence 7" },
            { "scopes: renamed", "UPDATE {s}.scopes SET name = 'evil-bank' WHERE name = 'other-bank'", "acct:bob", "global sequence 3" },
        };
        for (int bit = 0; bit < 16; bit++)
        {
            if (bit != 4) // 4 is the tombstone, which the hash leaves out: its cases are above
            {
                cases.Add($"flag bit {bit}", $"UPDATE {{s}}.events SET flags = flags # {1 << bit} WHERE global_seq = 4", Alice, "global sequence 4");
            }
        }

        return cases;
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Tampered_VerifyAndVerifyAll_Fail_NamingTheEvent(string change, string sql, string? entity, string named)
    {
        using AuditStore audit = AuditStore.Open();
        audit.Seed();
        Assert.True(audit.Store.VerifyAll().IsValid, "the seeded store verifies before the change");

        Assert.True(audit.Sql(sql) > 0, $"the change \"{change}\" changed no row");

        ChainVerification all = audit.Store.VerifyAll();
        Assert.False(all.IsValid, $"VerifyAll missed: {change}");
        Assert.Contains(named, all.Failure, StringComparison.Ordinal);
        if (entity is not null)
        {
            ChainVerification one = audit.Store.Verify(entity);
            Assert.False(one.IsValid, $"Verify(\"{entity}\") missed: {change}");
            Assert.Contains(entity, one.Failure, StringComparison.Ordinal);
        }
    }
}
