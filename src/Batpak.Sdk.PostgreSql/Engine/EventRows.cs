// How an event row is selected and turned into a StoredEvent: the column list every read uses (events joined to
// entities and scopes) and the mapping. Used by PostgresEngine.Reads.cs (and open to the verification files).
using Npgsql;

namespace Batpak.PostgreSql.Engine;

/// <summary>The event row shape of every read.</summary>
internal static class EventRows
{
    /// <summary>The selected columns, in the order <see cref="Read"/> expects.</summary>
    public const string Columns =
        "e.global_seq, e.event_id, n.name, s.name, e.entity_seq, e.kind, e.flags, e.ts_us, e.hlc_wall_ms, e.hlc_counter, e.depth, e.correlation_id, e.causation_id, e.prev_hash, e.hash, e.idem_key, e.bypass_reason, e.payload";

    /// <summary>The FROM clause for <see cref="Columns"/> in schema <paramref name="q"/> (quoted).</summary>
    public static string From(string q) =>
        $"{q}.events e JOIN {q}.entities n ON n.entity_id = e.entity_id JOIN {q}.scopes s ON s.scope_id = e.scope_id";

    /// <summary>How many columns <see cref="Columns"/> holds (the index of a column a query adds after them).</summary>
    public const int Count = 18;

    /// <summary>The event at the reader's current row; <paramref name="entity"/>, when given, is the row's entity name (read from the row otherwise).</summary>
    public static StoredEvent Read(NpgsqlDataReader reader, string? entity = null)
    {
        var id = EventId.FromGuid(reader.GetGuid(1));
        var fields = new EventHeaderFields
        {
            GlobalSequence = reader.GetInt64(0),
            EventId = id,
            EntitySequence = reader.GetInt64(4),
            Kind = (ushort)reader.GetInt32(5),
            Flags = (ushort)reader.GetInt32(6),
            TimestampMicroseconds = reader.GetInt64(7),
            WallMilliseconds = reader.GetInt64(8),
            Counter = unchecked((uint)reader.GetInt32(9)),
            Depth = unchecked((uint)reader.GetInt32(10)),
            CorrelationId = reader.IsDBNull(11) ? id : EventId.FromGuid(reader.GetGuid(11)),
            CausationId = reader.IsDBNull(12) ? EventId.Empty : EventId.FromGuid(reader.GetGuid(12)),
            PrevHash = EventHash.FromBytes(reader.GetFieldValue<byte[]>(13)),
            Hash = EventHash.FromBytes(reader.GetFieldValue<byte[]>(14)),
        };
        string? key = reader.IsDBNull(15) ? null : reader.GetString(15);
        string? bypass = reader.IsDBNull(16) ? null : reader.GetString(16);
        byte[] payload = reader.GetFieldValue<byte[]>(17);
        return new StoredEvent(Coordinate.FromTrusted(entity ?? reader.GetString(2), reader.GetString(3)), fields, payload, default, key, bypass);
    }
}
