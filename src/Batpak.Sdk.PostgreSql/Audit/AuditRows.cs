// The row stream every verification reads: the events table and the dropped table merged into one ordered result
// (by global or by entity sequence), with each tombstone's proof looked up beside it, and the dictionaries (entities,
// scopes) that turn ids into the names the hash covers. Used by PgEntityVerifier and PgLogVerifier only.
using Npgsql;

namespace Batpak.PostgreSql.Audit;

/// <summary>One stored event, live or tombstoned (from <c>events</c>) or dropped (from <c>dropped</c>), as verification reads it.</summary>
internal sealed class AuditRow
{
    public long GlobalSequence;
    public bool IsDropped;
    public long EntityId;
    public long EntitySequence;
    public byte[] Hash = [];
    public EventId EventId;
    public int Kind;
    public byte[]? PrevHash; // events only
    public int Flags;
    public long TimestampMicroseconds;
    public long WallMilliseconds;
    public int Counter;
    public int Depth;
    public EventId? CorrelationId;
    public EventId? CausationId;
    public int ScopeId;
    public string? IdempotencyKey;
    public string? BypassReason;
    public bool HasTombstoneRow; // a tombstones row exists (asked only of rows flagged Tombstone)
    public byte[]? TombstoneMac;
    public byte[]? DroppedMac;
    public byte[] Payload = [];

    /// <summary>How a failure names this row.</summary>
    public string Describe(string? entity) =>
        $"entity \"{entity ?? $"<id {EntityId}>"}\" sequence {EntitySequence} (global sequence {GlobalSequence}, event {EventId}{(IsDropped ? ", dropped" : string.Empty)})";
}

/// <summary>The SQL and row mapping of the merged stream, and the name dictionaries.</summary>
internal static class AuditRows
{
    /// <summary>
    /// Events and dropped events of schema <paramref name="q"/> matching <paramref name="eventsWhere"/> /
    /// <paramref name="droppedWhere"/>, in global order (<paramref name="byEntitySequence"/> false) or entity order;
    /// at equal sequences a live row comes first, so a duplicate is seen as one. Two primary-key (or
    /// (entity, sequence)) index scans merged by the server, streamed row by row to the reader.
    /// </summary>
    public static string Sql(string q, string eventsWhere, string droppedWhere, bool byEntitySequence) =>
        $"""
        SELECT e.global_seq, false, e.entity_id, e.entity_seq, e.hash, e.event_id, e.kind, e.prev_hash, e.flags, e.ts_us,
               e.hlc_wall_ms, e.hlc_counter, e.depth, e.correlation_id, e.causation_id, e.scope_id, e.idem_key, e.bypass_reason,
               CASE WHEN (e.flags & {(int)EventFlags.Tombstone}) <> 0 THEN EXISTS (SELECT 1 FROM {q}.tombstones t WHERE t.global_seq = e.global_seq) ELSE false END,
               CASE WHEN (e.flags & {(int)EventFlags.Tombstone}) <> 0 THEN (SELECT t.mac FROM {q}.tombstones t WHERE t.global_seq = e.global_seq) END,
               NULL::bytea, e.payload
        FROM {q}.events e {eventsWhere}
        UNION ALL
        SELECT d.global_seq, true, d.entity_id, d.entity_seq, d.hash, d.event_id, d.kind, NULL::bytea, 0, 0::bigint,
               0::bigint, 0, 0, NULL::uuid, NULL::uuid, 0, NULL::text, NULL::text,
               false, NULL::bytea, d.mac, NULL::bytea
        FROM {q}.dropped d {droppedWhere}
        ORDER BY {(byEntitySequence ? 4 : 1)}, 2
        """;

    /// <summary>The row at the reader's current position (columns as <see cref="Sql"/> selects them).</summary>
    public static AuditRow Read(NpgsqlDataReader reader)
    {
        var row = new AuditRow
        {
            GlobalSequence = reader.GetInt64(0),
            IsDropped = reader.GetBoolean(1),
            EntityId = reader.GetInt64(2),
            EntitySequence = reader.GetInt64(3),
            Hash = reader.GetFieldValue<byte[]>(4),
            EventId = EventId.FromGuid(reader.GetGuid(5)),
            Kind = reader.GetInt32(6),
            PrevHash = reader.IsDBNull(7) ? null : reader.GetFieldValue<byte[]>(7),
            Flags = reader.GetInt32(8),
            TimestampMicroseconds = reader.GetInt64(9),
            WallMilliseconds = reader.GetInt64(10),
            Counter = reader.GetInt32(11),
            Depth = reader.GetInt32(12),
            CorrelationId = reader.IsDBNull(13) ? null : EventId.FromGuid(reader.GetGuid(13)),
            CausationId = reader.IsDBNull(14) ? null : EventId.FromGuid(reader.GetGuid(14)),
            ScopeId = reader.GetInt32(15),
            IdempotencyKey = reader.IsDBNull(16) ? null : reader.GetString(16),
            BypassReason = reader.IsDBNull(17) ? null : reader.GetString(17),
            HasTombstoneRow = reader.GetBoolean(18),
            TombstoneMac = reader.IsDBNull(19) ? null : reader.GetFieldValue<byte[]>(19),
            DroppedMac = reader.IsDBNull(20) ? null : reader.GetFieldValue<byte[]>(20),
            Payload = reader.IsDBNull(21) ? [] : reader.GetFieldValue<byte[]>(21),
        };
        return row;
    }

    /// <summary>Every scope id and name of schema <paramref name="q"/> (a small dictionary: scopes are few).</summary>
    public static Dictionary<int, string> Scopes(NpgsqlConnection connection, NpgsqlTransaction transaction, string q)
    {
        var scopes = new Dictionary<int, string>();
        using var command = new NpgsqlCommand($"SELECT scope_id, name FROM {q}.scopes", connection, transaction);
        using NpgsqlDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            scopes[reader.GetInt32(0)] = reader.GetString(1);
        }

        return scopes;
    }

    /// <summary>Opens a REPEATABLE READ, read-only transaction: every statement in it sees one snapshot.</summary>
    public static NpgsqlTransaction BeginSnapshot(NpgsqlConnection connection)
    {
        NpgsqlTransaction transaction = connection.BeginTransaction(System.Data.IsolationLevel.RepeatableRead);
        using var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection, transaction);
        readOnly.ExecuteNonQuery();
        return transaction;
    }
}
