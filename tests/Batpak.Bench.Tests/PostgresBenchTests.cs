using Batpak.Bench.Engines;
using Batpak.Bench.Postgres;
using Npgsql;

namespace Batpak.Bench.Tests;

/// <summary>
/// The PostgreSQL section at tiny sizes, against the server of <c>BATPAK_PG_CONNECTION</c> (the engine tests' rule:
/// missing means SKIPPED locally and a failure under <c>CI=true</c>). Checks counts (every event read back, payload
/// lengths and per-entity sums equal to the dataset), the n/a workloads and their reasons, and that the run drops the
/// databases it created; never timings.
/// </summary>
public sealed class PostgresBenchTests
{
    /// <summary>The server's connection string, or SKIPPED (locally) / FAILED (under CI=true) without one.</summary>
    internal static string RequireServer()
    {
        string? connection = Environment.GetEnvironmentVariable(PgBenchServer.ConnectionVariable);
        if (string.IsNullOrEmpty(connection))
        {
            Assert.False(
                string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase),
                $"CI=true but {PgBenchServer.ConnectionVariable} is not set: the PostgreSQL bench peers cannot run (.ci/run starts a cluster).");
            Skip.If(true, $"{PgBenchServer.ConnectionVariable} is not set; start a cluster with: eval \"$(.ci/pg-cluster start)\"");
        }

        return connection!;
    }

    private static BenchConfig Tiny(params string[] engines) => new()
    {
        Events = 1_500,
        Entities = 40,
        Scopes = 4,
        DurableEvents = 64,
        Concurrency = 8,
        Reads = 300,
        Engines = engines,
        Root = Path.Combine(Path.GetTempPath(), "batpak-bench-pg-" + Guid.NewGuid().ToString("N")),
    };

    [SkippableTheory]
    [InlineData("batpak-pg")]
    [InlineData("marten")]
    [InlineData("npgsql")]
    [InlineData("npgsql-rows")]
    public void Run_PostgresPeer_TinySizes_EveryCountReadBackEqualsWritten(string engine)
    {
        string connection = RequireServer();
        Skip.If(engine is "batpak-pg" or "npgsql-rows" && !BatpakPgEngine.IsAvailable, "Batpak.Sdk.PostgreSql is not in this build (src/Batpak.Sdk.PostgreSql missing): the Batpak-PG peer cannot run");
        var log = new StringWriter();
        var results = new BenchRunner(Tiny(engine), log).Run();

        var result = Assert.Single(results);
        Assert.True(result.OnPostgres);
        Assert.NotNull(result.Server);
        Assert.StartsWith("PostgreSQL ", result.Server, StringComparison.Ordinal);
        Assert.Contains("fsync=", result.Server, StringComparison.Ordinal);
        using var probe = BenchRunner.CreateEngine(engine);
        Assert.True(probe.RunsOnPostgres);
        foreach (var workload in Enum.GetValues<Workload>())
        {
            Assert.True(result.Measurements.TryGetValue(workload, out var m), $"{engine} {workload}: missing");
            if (!probe.Supports(workload))
            {
                Assert.True(double.IsNaN(m!.Value), $"{engine} {workload}: should be n/a");
                Assert.Equal(probe.NotApplicableReason(workload), m.Note);
                continue;
            }

            Assert.False(double.IsNaN(m!.Value), $"{engine} {workload}: {m.Note}\n{log}");
            Assert.True(m.Value > 0, $"{engine} {workload}: {m.Value}");
            Assert.True(m.IsValid, $"{engine} {workload}: read back {m.Actual}, wrote {m.Expected} ({m.Note})\n{log}");
        }

        // W3 (both variants) counts only reads whose payload length matched; W7 compared every entity's sum of the
        // payload amounts with the dataset (a negative count would mean a difference): both are exact.
        if (probe.Supports(Workload.W3PointRead))
        {
            Assert.Equal(300, result.Measurements[Workload.W3PointRead].Actual);
            Assert.Equal(300, result.Measurements[Workload.W3ByStream].Actual);
            Assert.Equal(1_500, result.Measurements[Workload.W7Fold].Actual);
        }

        Assert.Equal(64, result.Measurements[Workload.W2Durable].Actual);
        Assert.Contains("pg_total_relation_size", result.Measurements[Workload.W8Bytes].Note, StringComparison.Ordinal);
        Assert.True(result.Measurements[Workload.W8Bytes].Value > 200, "a 200-byte payload cannot take fewer bytes per event");

        // The run dropped its databases (bench_<pid>_...).
        using var admin = new NpgsqlConnection(connection);
        admin.Open();
        using var count = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname LIKE $1", admin);
        count.Parameters.AddWithValue($"bench\\_{Environment.ProcessId}\\_%");
        Assert.Equal(0L, (long)count.ExecuteScalar()!);
    }

    [Fact]
    public void Run_ServerUnreachable_EveryWorkloadFailsNamingTheServer_TriedOnce()
    {
        int attempts = 0;
        var log = new StringWriter();
        var runner = new BenchRunner(Tiny("marten", "npgsql"), log, postgres: writer =>
        {
            attempts++;
            return PgBenchServer.Connect("Host=127.0.0.1;Port=1;Username=postgres;Timeout=5", "a closed port", writer);
        });

        var results = runner.Run();

        Assert.Equal(1, attempts);
        Assert.Equal(2, results.Count);
        foreach (var result in results)
        {
            Assert.True(result.OnPostgres);
            Assert.Null(result.Server);
            Assert.All(result.Measurements.Values, m =>
            {
                Assert.True(double.IsNaN(m.Value));
                Assert.StartsWith("error: no PostgreSQL server: ", m.Note, StringComparison.Ordinal);
            });
        }

        Assert.Contains("| W1 append (batches of 1000) | events/s | error | error |", ReportWriter.Markdown(Tiny(), results), StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Run_BothPeers_OneServer_ReportSideBySide()
    {
        RequireServer();
        var config = Tiny("marten", "npgsql");
        var results = new BenchRunner(config, TextWriter.Null).Run();

        Assert.Equal(["Marten", "Npgsql raw"], results.Select(r => r.Name));
        Assert.Equal(results[0].Server, results[1].Server);
        string markdown = ReportWriter.Markdown(config, results);
        Assert.Contains("## PostgreSQL", markdown, StringComparison.Ordinal);
        Assert.Contains("| Workload | Unit | Marten | Npgsql raw |", markdown, StringComparison.Ordinal);
        Assert.Contains("Npgsql raw / Marten", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("MISMATCH", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("error", ReportWriter.Text(results), StringComparison.Ordinal);
    }
}
