// Snapshot of the PostgreSQL engine: a consistent copy of the store into another schema of the same database (the
// location is a schema name), made in one REPEATABLE READ transaction that also creates the target's tables, so the
// copy appears whole or not at all. Called by PostgresEngine.Snapshot only.
using Batpak.PostgreSql.Engine;
using Batpak.PostgreSql.Schema;
using Npgsql;

namespace Batpak.PostgreSql.Audit;

/// <summary>Copies a store, as of the call, into a new or empty schema that then opens as a store and verifies.</summary>
/// <remarks>
/// Every table is copied row for row (hashes, fold state, idempotency keys, cursors, the projection cache, the
/// compaction audit and proofs) except <c>leases</c>, which hold who runs a reactor now and mean nothing in a copy
/// (they are made again on demand). The copy gets its own <c>store_id</c>, so its advisory locks and NOTIFY channel
/// never meet the source's. The chain key check travels with the rows: the copy opens with the source's key.
/// </remarks>
internal static class PgSnapshotCopier
{
    /// <summary>The tables copied after the store row, in an order with no dependency (there are no foreign keys).</summary>
    private static readonly string[] s_tables = ["entities", "scopes", "events", "idempotency", "dropped", "tombstones", "cursors", "projection_cache", "compactions"];

    /// <summary>The identity columns whose sequences must continue after the copied values.</summary>
    private static readonly (string Table, string Column)[] s_identities = [("entities", "entity_id"), ("scopes", "scope_id"), ("compactions", "id")];

    /// <summary>
    /// Copies the store into schema <paramref name="location"/>. Throws <see cref="ArgumentException"/> naming it when
    /// it is not a valid schema name, is the store's own schema, or exists and holds anything.
    /// </summary>
    public static void Copy(PostgresEngine engine, string location)
    {
        SchemaName.Validate(location, nameof(location));
        if (string.Equals(location, engine.StoreSchema, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Schema \"{location}\" is the store's own schema; a snapshot goes to another one.", nameof(location));
        }

        string source = engine.Q;
        string target = SchemaName.Quote(location);
        using NpgsqlConnection connection = engine.DataSource.OpenConnection();
        using NpgsqlTransaction transaction = connection.BeginTransaction(System.Data.IsolationLevel.RepeatableRead);

        // The first statement fixes the snapshot: the copy is the store as of here. The DDL lock keeps an instance
        // opening (migrating) the target out until the copy commits.
        using (var lockTarget = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1, hashtext($2))", connection, transaction))
        {
            lockTarget.Parameters.Add(new NpgsqlParameter<int> { TypedValue = MigrationRunner.DdlLockClass });
            lockTarget.Parameters.Add(new NpgsqlParameter<string> { TypedValue = location });
            lockTarget.ExecuteNonQuery();
        }

        using (var occupied = new NpgsqlCommand(
            """
            SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = n.oid) + (SELECT count(*) FROM pg_proc WHERE pronamespace = n.oid) + (SELECT count(*) FROM pg_type WHERE typnamespace = n.oid)
            FROM pg_namespace n WHERE n.nspname = $1
            """,
            connection,
            transaction))
        {
            occupied.Parameters.Add(new NpgsqlParameter<string> { TypedValue = location });
            if (occupied.ExecuteScalar() is long objects && objects > 0)
            {
                throw new ArgumentException($"Schema \"{location}\" exists and is not empty ({objects} objects); a snapshot goes only into a new or empty schema.", nameof(location));
            }
        }

        Execute(connection, transaction, $"CREATE SCHEMA IF NOT EXISTS {target}");
        foreach (Migration migration in Migrations.All)
        {
            Execute(connection, transaction, migration.SqlFor(location));
            using var record = new NpgsqlCommand($"INSERT INTO {target}.schema_version (version, description) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING", connection, transaction);
            record.Parameters.Add(new NpgsqlParameter<int> { TypedValue = migration.Version });
            record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = migration.Description });
            record.ExecuteNonQuery();
        }

        Execute(
            connection,
            transaction,
            $"""
            UPDATE {target}.store t SET next_global = s.next_global, hlc_wall_ms = s.hlc_wall_ms, hlc_counter = s.hlc_counter,
                   event_count = s.event_count, entity_count = s.entity_count, chain_folded = s.chain_folded,
                   chain_digest = s.chain_digest, key_check = s.key_check, format_version = s.format_version
            FROM {source}.store s WHERE t.id = 1 AND s.id = 1
            """);
        foreach (string table in s_tables)
        {
            // Both schemas come from the same migrations, so their columns are the same, in the same order.
            Execute(connection, transaction, $"INSERT INTO {target}.{table} OVERRIDING SYSTEM VALUE SELECT * FROM {source}.{table}");
        }

        foreach ((string table, string column) in s_identities)
        {
            Execute(connection, transaction, $"SELECT setval(pg_get_serial_sequence('{target}.{table}', '{column}'), coalesce((SELECT max({column}) FROM {target}.{table}), 0) + 1, false)");
        }

        transaction.Commit();
    }

    private static void Execute(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection, transaction);
        command.ExecuteNonQuery();
    }
}
