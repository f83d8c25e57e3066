// How an event row is selected and turned into a StoredEvent: the column list every read uses (the events table
// alone, no joins: entity and scope names come from NameCache) and the mapping of one row. Used by
// PostgresEngine.Reads.cs and PgCompactionRunner.
using Npgsql;

namespace Batpak.PostgreSql.Engine;

/// <summary>One event row as read, before its entity and scope ids are turned into names.</summary>
internal struct EventRow
{
    public EventHeaderFields Fields;
    public long EntityId;
    public int ScopeId;
    public byte[] Payload;
    public string? IdempotencyKey;
    public string? BypassReason;
}

/// <summary>The event row shape of every read.</summary>
internal static class EventRows
{
    /// <summary>The selected columns of <c>events e</c>, in the order <see cref="Read"/> expects.</summary>
    public const string Columns =
        "e.global_seq, e.event_id, e.entity_id, e.scope_id, e.entity_seq, e.kind, e.flags, e.ts_us, e.hlc_wall_ms, e.hlc_counter, e.depth, e.correlation_id, e.causation_id, e.prev_hash, e.hash, e.idem_key, e.bypass_reason, e.payload";

    /// <summary>How many columns <see cref="Columns"/> holds (the index of a column a query adds after them).</summary>
    public const int Count = 18;

    /// <summary>The row at the reader's current position; <paramref name="hash"/> is a 32-byte scratch buffer (no array per hash).</summary>
    public static EventRow Read(NpgsqlDataReader reader, byte[] hash)
    {
        var id = EventId.FromGuid(reader.GetGuid(1));
        return new EventRow
        {
            Fields = new EventHeaderFields
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
                PrevHash = Hash(reader, 13, hash),
                Hash = Hash(reader, 14, hash),
            },
            EntityId = reader.GetInt64(2),
            ScopeId = reader.GetInt32(3),
            IdempotencyKey = reader.IsDBNull(15) ? null : reader.GetString(15),
            BypassReason = reader.IsDBNull(16) ? null : reader.GetString(16),
            Payload = reader.GetFieldValue<byte[]>(17),
        };
    }

    /// <summary>
    /// Every row left in <paramref name="reader"/>, appended to <paramref name="rows"/>, except a row whose event
    /// columns are NULL (an outer join that matched no event); returns the value of the extra int64 column after
    /// <see cref="Columns"/> in the last row when <paramref name="extra"/>, else <paramref name="none"/>.
    /// </summary>
    public static long ReadAll(NpgsqlDataReader reader, List<EventRow> rows, bool extra = false, long none = -1)
    {
        var hash = new byte[EventHash.Size];
        long value = none;
        while (reader.Read())
        {
            if (extra)
            {
                value = reader.GetInt64(Count);
            }

            if (!reader.IsDBNull(0))
            {
                rows.Add(Read(reader, hash));
            }
        }

        return value;
    }

    private static EventHash Hash(NpgsqlDataReader reader, int ordinal, byte[] buffer)
    {
        long length = reader.GetBytes(ordinal, 0, null, 0, 0);
        if (length != EventHash.Size)
        {
            throw new InvalidDataException($"Event {reader.GetInt64(0)}: column {reader.GetName(ordinal)} holds {length} bytes, not a {EventHash.Size}-byte hash.");
        }

        reader.GetBytes(ordinal, 0, buffer, 0, EventHash.Size);
        return EventHash.FromBytes(buffer);
    }
}
