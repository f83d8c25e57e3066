// The PostgreSQL server the tests run against (BATPAK_PG_CONNECTION), probed once per test run, and the rule for a
// missing or unreachable one: under CI=true every PostgreSQL test fails, else each reports SKIPPED. Every test of
// this project calls Require (directly or through a contract location) before it touches the server.
using Npgsql;

namespace Batpak.PostgreSql.Tests;

/// <summary>What a PostgreSQL test does about the server.</summary>
public enum ServerVerdict
{
    /// <summary>The server answered: run.</summary>
    Run = 0,

    /// <summary>No server, not under CI: report SKIPPED.</summary>
    Skip = 1,

    /// <summary>No server under CI: fail.</summary>
    Fail = 2,
}

/// <summary>The test server: its connection string, and whether tests run, skip or fail.</summary>
public static class PgServer
{
    /// <summary>The environment variable holding the Npgsql connection string.</summary>
    public const string Variable = "BATPAK_PG_CONNECTION";

    private static readonly Lazy<(ServerVerdict Verdict, string Reason)> s_state = new(Probe);

    /// <summary>The connection string (valid once <see cref="Require"/> returned).</summary>
    public static string ConnectionString => Environment.GetEnvironmentVariable(Variable) ?? string.Empty;

    /// <summary>
    /// The rule: a reachable server runs; otherwise <paramref name="ci"/> fails and anything else skips.
    /// <paramref name="reachable"/> is ignored when <paramref name="connectionString"/> is missing.
    /// </summary>
    public static ServerVerdict Decide(string? connectionString, bool reachable, bool ci)
    {
        if (!string.IsNullOrWhiteSpace(connectionString) && reachable)
        {
            return ServerVerdict.Run;
        }

        return ci ? ServerVerdict.Fail : ServerVerdict.Skip;
    }

    /// <summary>Returns when the server is there; else fails the test (CI) or reports it SKIPPED.</summary>
    public static void Require()
    {
        (ServerVerdict verdict, string reason) = s_state.Value;
        if (verdict == ServerVerdict.Fail)
        {
            throw new InvalidOperationException($"CI=true but no PostgreSQL server for the tests: {reason}. Start one with `eval \"$(.ci/pg-cluster start)\"`.");
        }

        Skip.If(verdict == ServerVerdict.Skip, $"No PostgreSQL server: {reason} (set {Variable}, e.g. with `eval \"$(.ci/pg-cluster start)\"`).");
    }

    /// <summary>Runs <paramref name="sql"/> on a new connection.</summary>
    public static void Execute(string sql)
    {
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    /// <summary>Terminates the backend <paramref name="pid"/> and waits until it is gone.</summary>
    public static void Terminate(int pid)
    {
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        using var kill = new NpgsqlCommand("SELECT pg_terminate_backend($1, 5000)", connection); // waits until the backend is gone
        kill.Parameters.Add(new NpgsqlParameter<int> { TypedValue = pid });
        Assert.True((bool)kill.ExecuteScalar()!);
    }

    /// <summary>A schema name no other test uses.</summary>
    public static string NewSchema() => "c_" + Guid.NewGuid().ToString("N");

    private static (ServerVerdict, string) Probe()
    {
        string? connectionString = Environment.GetEnvironmentVariable(Variable);
        bool ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        string reason = $"{Variable} is not set";
        bool reachable = false;
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            try
            {
                var builder = new NpgsqlConnectionStringBuilder(connectionString) { Timeout = 5 };
                using var connection = new NpgsqlConnection(builder.ConnectionString);
                connection.Open();
                reachable = true;
                reason = string.Empty;
            }
            catch (Exception ex) when (ex is NpgsqlException or ArgumentException or System.Net.Sockets.SocketException or TimeoutException)
            {
                reason = $"{Variable} is set but the server does not answer ({ex.Message})";
            }
        }

        return (Decide(connectionString, reachable, ci), reason);
    }
}
