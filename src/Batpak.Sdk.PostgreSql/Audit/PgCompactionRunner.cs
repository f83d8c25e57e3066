// Compact of the PostgreSQL engine: retention over the live events in keyset chunks of 1,000, each chunk's drops or
// tombstones applied in one transaction with their proofs (CompactionProofs), one compactor per store at a time
// (a session advisory lock). It never takes the sequencer: nothing it changes touches numbers, links or the head.
// Called by PostgresEngine.Compact only.
using Batpak.PostgreSql.Engine;
using Npgsql;
using NpgsqlTypes;

namespace Batpak.PostgreSql.Audit;

/// <summary>Applies a <see cref="CompactionOptions"/> retention to a PostgreSQL store.</summary>
/// <remarks>
/// <para>A drop copies the event's place and hash into <c>dropped</c> and deletes its row; a tombstone empties the
/// payload and sets <see cref="EventFlags.Tombstone"/> (which the hash does not cover) and records a
/// <c>tombstones</c> row. Both keep every hash, so the entity chains, the global chain and the head are unchanged,
/// <c>entities.last_seq</c> is untouched (the entity's sequence continues) and <c>idempotency</c> keeps its rows (a
/// repeated key still returns the original receipt, or conflicts).</para>
/// <para>Readers racing a chunk see it before or after (MVCC), never half. Appends go on: a chunk waits only for the
/// store row's <c>event_count</c> update, behind at most one append transaction.</para>
/// </remarks>
internal static class PgCompactionRunner
{
    /// <summary>The second key of the compaction lock <c>pg_advisory_lock(store_id, key)</c>: negative, where reactor lease ids are positive identities.</summary>
    internal const int CompactionLockKey = -0x4250434D; // "BPCM"

    private const int ChunkSize = 1000;

    /// <summary>
    /// Runs retention; see <see cref="IEventStore.Compact"/>. Segments mean nothing here, so
    /// <see cref="CompactionResult.SegmentsBefore"/> and <see cref="CompactionResult.SegmentsAfter"/> are 0;
    /// <see cref="CompactionResult.EventsKept"/> counts the events <see cref="CompactionOptions.Retain"/> was asked
    /// about and kept (0 without a predicate: nothing is examined, as there is nothing to merge);
    /// the byte counts are the schema's relation sizes before and after (space comes back through vacuum, later).
    /// Throws <see cref="TimeoutException"/> when another instance holds the compaction lock for longer than
    /// <see cref="PostgresStoreOptions.LockTimeout"/>.
    /// </summary>
    public static CompactionResult Compact(PostgresEngine engine, CompactionOptions options)
    {
        using NpgsqlConnection connection = engine.SessionSource.OpenConnection(); // the session lock and lock_timeout
        Lock(engine, connection);
        try
        {
            long bytesBefore = SchemaBytes(connection, engine.Q);
            if (options.Retain is not { } retain)
            {
                return new CompactionResult(0, 0, 0, 0, 0, bytesBefore, bytesBefore);
            }

            long end = engine.NextGlobalSequence; // events appended while this runs are left to the next run
            long after = -1, kept = 0, removed = 0;
            var rejected = new List<StoredEvent>();
            while (true)
            {
                rejected.Clear();
                var rows = new List<EventRow>(ChunkSize);
                using (var page = new NpgsqlCommand(
                    $"SELECT {EventRows.Columns} FROM {engine.Q}.events e WHERE e.global_seq > $1 AND e.global_seq < $2 AND (e.flags & {(int)EventFlags.Tombstone}) = 0 ORDER BY e.global_seq LIMIT {ChunkSize}",
                    connection))
                {
                    page.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after });
                    page.Parameters.Add(new NpgsqlParameter<long> { TypedValue = end });
                    using NpgsqlDataReader reader = page.ExecuteReader();
                    EventRows.ReadAll(reader, rows);
                }

                int read = rows.Count;
                foreach (StoredEvent e in engine.Names.Resolve(connection, rows))
                {
                    after = e.Header.GlobalSequence;
                    if (retain(e))
                    {
                        kept++;
                    }
                    else
                    {
                        rejected.Add(e);
                    }
                }

                if (rejected.Count > 0)
                {
                    Apply(engine, connection, options.Mode, rejected);
                    removed += rejected.Count;
                }

                if (read < ChunkSize)
                {
                    break;
                }
            }

            (long dropped, long tombstoned) = options.Mode == CompactionMode.Drop ? (removed, 0L) : (0L, removed);
            using (var audit = new NpgsqlCommand($"INSERT INTO {engine.Q}.compactions (mode, dropped, tombstoned) VALUES ($1, $2, $3)", connection))
            {
                audit.Parameters.Add(new NpgsqlParameter<string> { TypedValue = options.Mode.ToString() });
                audit.Parameters.Add(new NpgsqlParameter<long> { TypedValue = dropped });
                audit.Parameters.Add(new NpgsqlParameter<long> { TypedValue = tombstoned });
                audit.ExecuteNonQuery();
            }

            return new CompactionResult(0, 0, kept, dropped, tombstoned, bytesBefore, SchemaBytes(connection, engine.Q));
        }
        finally
        {
            Unlock(engine, connection);
        }
    }

    /// <summary>Drops or tombstones one chunk's rejected events in one transaction, with their proofs.</summary>
    private static void Apply(PostgresEngine engine, NpgsqlConnection connection, CompactionMode mode, List<StoredEvent> rejected)
    {
        string q = engine.Q;
        long[] sequences = new long[rejected.Count];
        byte[]?[] proofs = new byte[]?[rejected.Count];
        for (int i = 0; i < rejected.Count; i++)
        {
            StoredEvent e = rejected[i];
            EventHeader h = e.Header;
            sequences[i] = h.GlobalSequence;
            proofs[i] = mode == CompactionMode.Drop
                ? CompactionProofs.Dropped(engine.ChainKey, h.GlobalSequence, e.Id, e.Coordinate.Entity, h.Position.Sequence, h.Kind.Value, h.Hash)
                : CompactionProofs.Tombstone(engine.ChainKey, h.GlobalSequence, e.Id, e.Coordinate.Entity, h.Position.Sequence, h.Kind.Value, h.Hash);
        }

        using NpgsqlTransaction transaction = connection.BeginTransaction();
        int tomb = (int)EventFlags.Tombstone;
        string[] statements = mode == CompactionMode.Drop
            ?
            [
                $"INSERT INTO {q}.dropped (global_seq, event_id, entity_id, entity_seq, kind, hash, mac) SELECT e.global_seq, e.event_id, e.entity_id, e.entity_seq, e.kind, e.hash, m.mac FROM {q}.events e JOIN unnest($1::bigint[], $2::bytea[]) AS m(g, mac) ON e.global_seq = m.g WHERE (e.flags & {tomb}) = 0",
                $"DELETE FROM {q}.events WHERE global_seq = ANY($1) AND (flags & {tomb}) = 0",
                $"UPDATE {q}.store SET event_count = event_count - $1 WHERE id = 1",
            ]
            :
            [
                $"UPDATE {q}.events SET payload = ''::bytea, flags = flags | {tomb} WHERE global_seq = ANY($1) AND (flags & {tomb}) = 0",
                $"INSERT INTO {q}.tombstones (global_seq, mac) SELECT g, mac FROM unnest($1::bigint[], $2::bytea[]) AS m(g, mac) ON CONFLICT (global_seq) DO UPDATE SET mac = EXCLUDED.mac, tombstoned_at = now()",
            ];
        for (int i = 0; i < statements.Length; i++)
        {
            using var command = new NpgsqlCommand(statements[i], connection, transaction);
            bool counts = mode == CompactionMode.Drop && i == 2;
            if (counts)
            {
                command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = rejected.Count });
            }
            else
            {
                command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = sequences });
                if (statements[i].Contains("$2", StringComparison.Ordinal))
                {
                    command.Parameters.Add(new NpgsqlParameter { Value = proofs, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
                }
            }

            int changed = command.ExecuteNonQuery();
            if (!counts && changed != rejected.Count)
            {
                // Only a compactor changes stored rows, and this one holds the lock: a mismatch means someone else did.
                throw new InvalidOperationException($"Schema \"{engine.StoreSchema}\": compaction expected to change {rejected.Count} rows of global sequences {sequences[0]}..{sequences[^1]} but changed {changed}; the rows were changed outside the engine. Nothing of this chunk was applied.");
            }
        }

        transaction.Commit();
    }

    private static void Lock(PostgresEngine engine, NpgsqlConnection connection)
    {
        Execute(connection, $"SET lock_timeout = {(long)engine.Options.LockTimeout.TotalMilliseconds}");
        try
        {
            using var command = new NpgsqlCommand("SELECT pg_advisory_lock($1, $2)", connection);
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = engine.StoreId });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = CompactionLockKey });
            command.ExecuteNonQuery();
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            throw new TimeoutException($"Another instance has been compacting the store in schema \"{engine.StoreSchema}\" for longer than LockTimeout ({engine.Options.LockTimeout}); try again later.", ex);
        }
        finally
        {
            Execute(connection, "RESET lock_timeout");
        }
    }

    private static void Execute(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    private static void Unlock(PostgresEngine engine, NpgsqlConnection connection)
    {
        if (connection.State != System.Data.ConnectionState.Open)
        {
            return; // a broken session has lost its advisory locks with it
        }

        using var command = new NpgsqlCommand("SELECT pg_advisory_unlock($1, $2)", connection);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = engine.StoreId });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = CompactionLockKey });
        command.ExecuteNonQuery();
    }

    private static long SchemaBytes(NpgsqlConnection connection, string q)
    {
        using var command = new NpgsqlCommand("SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c WHERE c.relnamespace = $1::regnamespace AND c.relkind = 'r'", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = q });
        return (long)command.ExecuteScalar()!;
    }
}
