using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Batpak.Bench.Postgres;

/// <summary>
/// The PostgreSQL server of one bench run, shared by every PostgreSQL peer: the cluster named by
/// <c>BATPAK_PG_CONNECTION</c> when it is set, else a throwaway cluster started with <c>.ci/pg-cluster start --bench</c>
/// (fsync on, shared_buffers=1GB) and stopped on dispose. It creates one fresh database per peer and phase, reports the
/// server's version and settings, and measures a database's relation bytes (W8). Only <see cref="BenchRunner"/> and
/// the tests call it.
/// </summary>
internal sealed class PgBenchServer : IDisposable
{
    /// <summary>The environment variable the engine tests and the bench share (an Npgsql connection string).</summary>
    public const string ConnectionVariable = "BATPAK_PG_CONNECTION";

    private static readonly TimeSpan s_scriptTimeout = TimeSpan.FromMinutes(3);
    private readonly string? _clusterDirectory;
    private readonly string? _script;
    private readonly List<string> _databases = [];
    private readonly string _prefix = "bench_" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "_" +
        (Stopwatch.GetTimestamp() % 1_000_000).ToString(CultureInfo.InvariantCulture);

    private PgBenchServer(string connectionString, string origin, string? clusterDirectory, string? script)
    {
        BaseConnectionString = connectionString;
        Origin = origin;
        _clusterDirectory = clusterDirectory;
        _script = script;
    }

    /// <summary>The connection string to the server's maintenance database (the one databases are created from).</summary>
    public string BaseConnectionString { get; }

    /// <summary>Where the server came from (the environment, or a cluster this run started).</summary>
    public string Origin { get; }

    /// <summary>Version and the settings that matter for durability and caching; filled when the server is reached.</summary>
    public string Description { get; private set; } = "";

    /// <summary>Connects to the server of <see cref="ConnectionVariable"/>, or starts a bench cluster; throws <see cref="InvalidOperationException"/> naming why none is available.</summary>
    public static PgBenchServer Start(TextWriter log)
    {
        if (Environment.GetEnvironmentVariable(ConnectionVariable) is { Length: > 0 } fromEnvironment)
        {
            return Connect(fromEnvironment, $"the server of {ConnectionVariable}", log);
        }

        string script = FindClusterScript()
            ?? throw new InvalidOperationException($"No PostgreSQL server: {ConnectionVariable} is not set and .ci/pg-cluster was not found above {AppContext.BaseDirectory}.");
        log.WriteLine("Starting a bench PostgreSQL cluster (.ci/pg-cluster start --bench)");
        var exports = RunScript(script, "start", "--bench");
        string connection = exports.GetValueOrDefault(ConnectionVariable)
            ?? throw new InvalidOperationException($".ci/pg-cluster start printed no {ConnectionVariable}.");
        var server = new PgBenchServer(connection, "a throwaway cluster started by the bench (.ci/pg-cluster start --bench)", exports.GetValueOrDefault("BATPAK_PG_CLUSTER"), script);
        return server.Describe(log);
    }

    /// <summary>Uses the server at <paramref name="connectionString"/> (not started or stopped by this object).</summary>
    public static PgBenchServer Connect(string connectionString, string origin, TextWriter log) =>
        new PgBenchServer(connectionString, origin, null, null).Describe(log);

    /// <summary>Reads the version and settings; on failure stops a cluster this object started, and rethrows.</summary>
    private PgBenchServer Describe(TextWriter log)
    {
        try
        {
            Description = ReadDescription();
            log.WriteLine("PostgreSQL: " + Description);
            return this;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Creates a fresh, empty database for <paramref name="engineKey"/>'s <paramref name="phase"/> and returns its connection string.</summary>
    public string CreateDatabase(string engineKey, string phase)
    {
        string name = _prefix + "_" + engineKey.Replace('-', '_') + "_" + phase;
        using (var connection = new NpgsqlConnection(BaseConnectionString))
        {
            connection.Open();
            Execute(connection, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            Execute(connection, $"CREATE DATABASE {name}");
        }

        _databases.Add(name);
        return new NpgsqlConnectionStringBuilder(BaseConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>
    /// Untimed, after a store was written: VACUUM ANALYZE (planner statistics and the visibility map, as autovacuum
    /// would leave them, so it does not start in the middle of a timed read) and a CHECKPOINT (no peer pays for another
    /// phase's dirty buffers).
    /// </summary>
    public static void Settle(string connectionString, bool vacuum)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        if (vacuum)
        {
            Execute(connection, "VACUUM (ANALYZE)");
        }

        try
        {
            Execute(connection, "CHECKPOINT");
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            // A server of BATPAK_PG_CONNECTION may not grant CHECKPOINT (it needs superuser or pg_checkpoint).
        }
    }

    /// <summary>W8: <c>pg_total_relation_size</c> (heap, indexes, TOAST) of every table outside the system schemas.</summary>
    public static long RelationBytes(string connectionString)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand(
            """
            SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'm', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
            """,
            connection);
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>Drops the databases this run created (connections to them are closed first).</summary>
    public void DropDatabases()
    {
        NpgsqlConnection.ClearAllPools();
        using var connection = new NpgsqlConnection(BaseConnectionString);
        connection.Open();
        foreach (string name in _databases)
        {
            Execute(connection, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        }

        _databases.Clear();
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        if (_clusterDirectory is not null && _script is not null)
        {
            RunScript(_script, "stop", _clusterDirectory);
        }
    }

    private string ReadDescription()
    {
        using var connection = new NpgsqlConnection(BaseConnectionString);
        connection.Open();
        string Show(string setting)
        {
            using var command = new NpgsqlCommand("SELECT current_setting($1)", connection);
            command.Parameters.AddWithValue(setting);
            return setting + "=" + command.ExecuteScalar();
        }

        string version = connection.PostgreSqlVersion.ToString();
        string settings = string.Join(", ", new[] { "fsync", "synchronous_commit", "full_page_writes", "wal_sync_method", "shared_buffers", "wal_level", "max_wal_size", "checkpoint_timeout", "max_connections" }.Select(Show));
        return $"PostgreSQL {version} at {connection.Host}:{connection.Port}, {Origin}; {settings}";
    }

    private static void Execute(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 300 };
        command.ExecuteNonQuery();
    }

    /// <summary>The repository's .ci/pg-cluster, looked for above the executable and the working directory.</summary>
    private static string? FindClusterScript()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, ".ci", "pg-cluster");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>Runs the cluster script with a timeout; returns the <c>export NAME='value'</c> lines it printed.</summary>
    private static Dictionary<string, string> RunScript(string script, params string[] args)
    {
        ChildProcess.Outcome run = ChildProcess.Start([script, .. args], s_scriptTimeout, "bash");
        if (run.ExitCode is not { } exitCode)
        {
            throw new TimeoutException($"{script} {string.Join(' ', args)} did not finish within {s_scriptTimeout.TotalMinutes} minutes.");
        }

        if (exitCode != 0)
        {
            throw new InvalidOperationException($"{script} {string.Join(' ', args)} exited {exitCode}: {run.Stderr.Trim()}");
        }

        var exports = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in run.Stdout.Split('\n'))
        {
            string trimmed = line.Trim();
            int equals = trimmed.IndexOf('=', StringComparison.Ordinal);
            if (trimmed.StartsWith("export ", StringComparison.Ordinal) && equals > 7)
            {
                exports[trimmed[7..equals]] = trimmed[(equals + 1)..].Trim('\'');
            }
        }

        return exports;
    }
}
