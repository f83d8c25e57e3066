// Brings a store's schema to the library's version at open (SchemaMode.Apply) or checks that it is there
// (SchemaMode.VerifyOnly). Called by PostgresEngine.Open only, on a pooled connection.
using System.Globalization;
using Npgsql;

namespace Batpak.PostgreSql.Schema;

/// <summary>Applies the embedded migrations idempotently, one transaction under an advisory lock per schema.</summary>
internal static class MigrationRunner
{
    /// <summary>The first key of the DDL advisory lock (the second is <c>hashtext(schema)</c>): "BPDL".</summary>
    internal const int DdlLockClass = 0x4250444C;

    /// <summary>
    /// Applies the missing migrations to <paramref name="schema"/> (creating it), or with
    /// <paramref name="verifyOnly"/> refuses a schema that lacks one. Refuses a schema newer than this library.
    /// Returns the schema's version afterwards.
    /// </summary>
    public static async Task<int> RunAsync(NpgsqlConnection connection, string schema, bool verifyOnly, CancellationToken cancellationToken)
    {
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1, hashtext($2))", connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = DdlLockClass });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = schema });
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        int current = await CurrentVersionAsync(connection, transaction, schema, cancellationToken).ConfigureAwait(false);
        int latest = Migrations.LatestVersion;
        if (current > latest)
        {
            throw new PostgresSchemaException(schema, $"Schema \"{schema}\" is at version {current}, newer than this library knows ({latest}); upgrade Batpak.Sdk.PostgreSql.");
        }

        if (current == latest)
        {
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return current;
        }

        if (verifyOnly)
        {
            throw new PostgresSchemaException(schema, $"Schema \"{schema}\" is at version {current} but this library needs {latest}, and SchemaMode is VerifyOnly; apply PostgresEventStore.MigrationScript(\"{schema}\", {current}) or open with SchemaMode.Apply.");
        }

        await ExecuteAsync(connection, transaction, $"CREATE SCHEMA IF NOT EXISTS {SchemaName.Quote(schema)}", cancellationToken).ConfigureAwait(false);
        foreach (Migration migration in Migrations.All)
        {
            if (migration.Version <= current)
            {
                continue;
            }

            await ExecuteAsync(connection, transaction, migration.SqlFor(schema), cancellationToken).ConfigureAwait(false);
            await using var record = new NpgsqlCommand($"INSERT INTO {SchemaName.Quote(schema)}.schema_version (version, description) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING", connection, transaction);
            record.Parameters.Add(new NpgsqlParameter<int> { TypedValue = migration.Version });
            record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = migration.Description });
            await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return latest;
    }

    /// <summary>The highest recorded version, 0 when the schema or its version table does not exist.</summary>
    private static async Task<int> CurrentVersionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string schema, CancellationToken cancellationToken)
    {
        await using (var exists = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", connection, transaction))
        {
            exists.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SchemaName.Quote(schema) + ".schema_version" });
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            {
                return 0;
            }
        }

        await using var max = new NpgsqlCommand($"SELECT coalesce(max(version), 0) FROM {SchemaName.Quote(schema)}.schema_version", connection, transaction);
        return Convert.ToInt32(await max.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
