// Opening a PostgreSQL store: the two data sources (readers, sessions), the schema migrations, the store row's
// identity and chain-key check, then the writer and the commit listener. Called by PostgresEventStore.Open only.
using System.Net.Sockets;
using Batpak.Engine;
using Batpak.PostgreSql.Schema;
using Batpak.PostgreSql.Writer;
using Batpak.Storage;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Batpak.PostgreSql.Engine;

internal sealed partial class PostgresEngine
{
    /// <summary>Opens (creating or migrating per <see cref="PostgresStoreOptions.SchemaMode"/>) the store in <paramref name="options"/>' schema.</summary>
    public static async Task<PostgresEngine> OpenAsync(PostgresStoreOptions options, BatpakOptions batpakOptions, CommitNotifier notifier, TimeProvider time, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        NpgsqlConnectionStringBuilder builder = ConnectionSettings(options);
        NpgsqlDataSource dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        NpgsqlDataSource sessions = NpgsqlDataSource.Create(SessionSettings(options).ConnectionString);
        try
        {
            var engine = new PostgresEngine(options, batpakOptions, dataSource, sessions, notifier, time);
            long nextGlobal = await engine.PrepareSchemaAsync(cancellationToken).ConfigureAwait(false);
            ILogger logger = loggerFactory.CreateLogger(PgLog.Category);
            engine._writer = new PgWriter(sessions, options, batpakOptions, time, notifier, engine.StoreId, logger);
            engine._listener = new CommitListener(sessions, engine._writer.Channel, options.Schema, options.PollInterval, notifier, logger);
            PgLog.Opened(logger, options.Schema, Schema.Migrations.LatestVersion, engine.StoreId, nextGlobal);
            return engine;
        }
        catch (Exception ex)
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            await sessions.DisposeAsync().ConfigureAwait(false);
            if (ex is NpgsqlException and not PostgresException || ex is SocketException or IOException or TimeoutException || ex is PostgresException { SqlState: PostgresErrorCodes.InvalidCatalogName or PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification or PostgresErrorCodes.CannotConnectNow })
            {
                throw new StoreConnectionException($"Cannot open the PostgreSQL store: host {builder.Host}, port {builder.Port}, database {builder.Database}, schema \"{options.Schema}\": {ex.Message}", ex);
            }

            throw;
        }
    }

    /// <summary>
    /// The connection settings of the readers' pool: <see cref="PostgresStoreOptions.MaxReadConnections"/> connections,
    /// and, unless the connection string sets them, auto-prepare (every statement is one of a few fixed texts), TCP
    /// keepalives (a vanished server is noticed on idle connections too) and no state reset when a connection goes
    /// back to the pool. Readers change no session state (their transactions and locks are transaction-scoped), so
    /// the reset (a DISCARD-like batch before the next statement) only costs: it halved point reads. Whatever sets
    /// session state (the writer's timeouts, LISTEN, the compaction lock) takes its connection from
    /// <see cref="SessionSettings"/> instead.
    /// </summary>
    internal static NpgsqlConnectionStringBuilder ConnectionSettings(PostgresStoreOptions options)
    {
        var builder = Defaults(options, out Func<string, bool> sets);
        builder.MaxPoolSize = options.MaxReadConnections;
        if (!sets("NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }

        return builder;
    }

    /// <summary>
    /// The connection settings of the sessions' pool: the writer, the commit listener, schema migration and the
    /// compaction lock (<see cref="SessionConnections"/> connections); connections are reset when they go back.
    /// </summary>
    internal static NpgsqlConnectionStringBuilder SessionSettings(PostgresStoreOptions options)
    {
        var builder = Defaults(options, out _);
        builder.MaxPoolSize = SessionConnections;
        builder.NoResetOnClose = false;
        return builder;
    }

    /// <summary>The size of the sessions' pool: the writer, the listener, a compaction run and an in-doubt check.</summary>
    internal const int SessionConnections = 4;

    private static NpgsqlConnectionStringBuilder Defaults(PostgresStoreOptions options, out Func<string, bool> sets)
    {
        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = options.ConnectionString };
        bool Sets(string keyword) => given.Keys.Cast<string>().Any(k => string.Equals(k.Replace(" ", string.Empty, StringComparison.Ordinal), keyword, StringComparison.OrdinalIgnoreCase));
        sets = Sets;
        if (!Sets("MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = 64;
            builder.AutoPrepareMinUsages = 2;
        }

        if (!Sets("Keepalive"))
        {
            builder.KeepAlive = 10;
        }

        return builder;
    }

    /// <summary>Migrates or verifies the schema, checks the chain key and reads the store row's id; returns the high-water mark it read.</summary>
    private async Task<long> PrepareSchemaAsync(CancellationToken cancellationToken)
    {
        NpgsqlConnection connection = await SessionSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await MigrationRunner.RunAsync(connection, StoreSchema, Options.SchemaMode == PostgresSchemaMode.VerifyOnly, cancellationToken).ConfigureAwait(false);
            long expectedCheck = unchecked((long)ChainHashing.KeyCheck(ChainKey));
            await using (var claim = new NpgsqlCommand($"UPDATE {Q}.store SET key_check = $1 WHERE id = 1 AND next_global = 0 AND key_check <> $1", connection))
            {
                // A store that holds no event yet takes the key (or its absence) of the instance that opens it.
                claim.Parameters.Add(new NpgsqlParameter<long> { TypedValue = expectedCheck });
                if (Options.SchemaMode == PostgresSchemaMode.Apply)
                {
                    await claim.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            await using var read = new NpgsqlCommand($"SELECT store_id, key_check, next_global FROM {Q}.store WHERE id = 1", connection);
            await using NpgsqlDataReader reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new PostgresSchemaException(StoreSchema, $"Schema \"{StoreSchema}\" has no store row (table store, id 1); it was not created by this library or was damaged.");
            }

            StoreId = reader.GetInt32(0);
            long storedCheck = reader.GetInt64(1);
            long nextGlobal = reader.GetInt64(2);
            if (storedCheck != expectedCheck && nextGlobal > 0)
            {
                throw new ChainKeyMismatchException(
                    storedCheck == 0
                        ? $"The store in schema \"{StoreSchema}\" is not keyed, but BatpakOptions.ChainKey is set; open it without a chain key."
                        : ChainKey is null
                            ? $"The store in schema \"{StoreSchema}\" is keyed (HMAC-SHA256 chains), but BatpakOptions.ChainKey is not set; open it with its key."
                            : $"The store in schema \"{StoreSchema}\" is keyed with a different chain key than BatpakOptions.ChainKey.");
            }

            return nextGlobal;
        }
    }
}
