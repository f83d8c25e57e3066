using Batpak.Bench.Engines;

namespace Batpak.Bench.Tests;

/// <summary>
/// The PostgreSQL section of the report and the engine selection, without a server: the default run stays the
/// embedded engines with an unchanged report, <c>--engines pg</c> selects the peers, and a Batpak-PG column (built here
/// from figures) lands next to Marten and raw with its ratios and the targets.
/// </summary>
public sealed class PostgresReportTests
{
    private static EngineResult Result(string name, string? server, double w1, double w2, double w3, double w3Stream, double w4)
    {
        var r = new EngineResult(name, name + " settings") { OnPostgres = server is not null, Server = server };
        foreach (var w in Enum.GetValues<Workload>())
        {
            r.Measurements[w] = Measurement.NotApplicable("n/a");
        }

        r.Measurements[Workload.W1Append] = new Measurement(w1, 10, 10, 1);
        r.Measurements[Workload.W2Durable] = new Measurement(w2, 10, 10, 1);
        r.Measurements[Workload.W3PointRead] = new Measurement(w3, 10, 10, 1);
        r.Measurements[Workload.W3ByStream] = new Measurement(w3Stream, 10, 10, 1);
        r.Measurements[Workload.W4Streams] = new Measurement(w4, 10, 10, 1);
        return r;
    }

    private const string Server = "PostgreSQL 15.18 at 127.0.0.1:1; fsync=on";

    [Fact]
    public void Args_DefaultRun_StaysTheEmbeddedEngines_PgAliasSelectsThePeers()
    {
        Assert.Equal(["batpak", "sqlite", "litedb", "fasterlog"], BenchArgs.Parse([]).ToConfig().Engines);
        Assert.Equal(["batpak-pg", "marten", "npgsql", "npgsql-rows"], BenchArgs.Parse(["--engines", "pg"]).ToConfig().Engines);
        Assert.Equal(["batpak", "marten", "batpak-pg", "npgsql", "npgsql-rows"], BenchArgs.Parse(["--engines", "batpak,marten,pg"]).ToConfig().Engines);
        Assert.Equal(["npgsql"], BenchArgs.Parse(["--engines", "npgsql"]).ToConfig().Engines);
        var error = Assert.Throws<ArgumentException>(() => BenchArgs.Parse(["--engines", "mongo"]).ToConfig().Validate());
        Assert.Contains("mongo", error.Message, StringComparison.Ordinal);
        Assert.Contains("marten", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_EmbeddedOnly_HasNoPostgresSection()
    {
        var results = new[] { Result("Batpak", null, 500_000, 40_000, 700_000, double.NaN, 2_000_000), Result("SQLite", null, 100_000, 1_000, 200_000, double.NaN, 500_000) };

        string text = ReportWriter.Text(results);
        string markdown = ReportWriter.Markdown(new BenchConfig(), results);

        Assert.DoesNotContain("PostgreSQL", text, StringComparison.Ordinal);
        Assert.DoesNotContain("PostgreSQL", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("by (stream,seq)", markdown, StringComparison.Ordinal);
        Assert.Contains("Batpak vs SQLite", markdown, StringComparison.Ordinal);
        Assert.Equal("", ReportWriter.PostgresTargets(results));
    }

    [Fact]
    public void Report_PostgresPeersAndABatpakPgColumn_SideBySideWithRatiosAndTargets()
    {
        var results = new[]
        {
            Result("Batpak", null, 500_000, 40_000, 700_000, double.NaN, 2_000_000),
            Result(ReportWriter.BatpakPgName, Server, 60_000, 12_000, 9_000, 9_000, 300_000),
            Result(ReportWriter.MartenName, Server, 15_000, 3_000, 100, 4_000, 100_000),
            Result(ReportWriter.RawName, Server, 70_000, 5_000, 20_000, 20_000, 200_000),
        };

        string markdown = ReportWriter.Markdown(new BenchConfig(), results);
        string text = ReportWriter.Text(results);
        string targets = ReportWriter.PostgresTargets(results);

        // The embedded table keeps only the embedded engine; the PostgreSQL table has the three peers in run order.
        Assert.Contains("| Workload | Unit | Batpak |\n", markdown.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("| Workload | Unit | Batpak-PG | Marten | Npgsql raw |", markdown, StringComparison.Ordinal);
        Assert.Contains("Server: " + Server, markdown, StringComparison.Ordinal);
        Assert.Contains("| W1 append (batches of 1000) | events/s | 60,000 | 15,000 | 70,000 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| W3 point read by (stream,seq) | reads/s | 9,000 | 4,000 | 20,000 |", markdown, StringComparison.Ordinal);

        // Ratios: each engine against Marten, then against raw.
        Assert.Contains("| Workload | Batpak-PG / Marten | Npgsql raw / Marten | Batpak-PG / Npgsql raw | Marten / Npgsql raw |", markdown, StringComparison.Ordinal);
        Assert.Contains("| W1 append (batches of 1000) | 4.00x | 4.67x | 0.86x | 0.21x |", markdown, StringComparison.Ordinal);
        Assert.Contains("PostgreSQL section", text, StringComparison.Ordinal);
        Assert.Contains("Batpak-PG / Marten", text, StringComparison.Ordinal);

        // Targets: W1 4.0x Marten and 86% of raw (met, met); W2 4.0x, 2.4x raw (met, met); W3 by id against Marten's
        // faster by-stream read: 2.25x (missed), 45% of raw (missed); W4 3.0x (met), 1.5x raw (met).
        Assert.Contains("| W1 append (batches of 1000) >= 3x Marten | **met**: 4.00x Marten |", targets, StringComparison.Ordinal);
        Assert.Contains("| W1 append (batches of 1000) >= 70% of Npgsql raw | **met**: 0.86x Npgsql raw |", targets, StringComparison.Ordinal);
        Assert.Contains("| W3 point read by event id >= 3x Marten | **missed**: 2.25x Marten (by stream, its faster W3)", targets, StringComparison.Ordinal);
        Assert.Contains("| W3 point read by event id >= 70% of Npgsql raw | **missed**: 0.45x Npgsql raw", targets, StringComparison.Ordinal);
        Assert.Contains("| W4 read all entity streams >= 3x Marten | **met**: 3.00x Marten |", targets, StringComparison.Ordinal);
        Assert.DoesNotContain(ReportWriter.RowsName, targets, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_OwnRowsFloor_OnlyBatpakPgIsComparedWithIt_AndItIsNeverAPeerOfTheOthers()
    {
        var rows = Result(ReportWriter.RowsName, Server, 50_000, 1_000, double.NaN, double.NaN, double.NaN);
        var results = new[]
        {
            Result(ReportWriter.BatpakPgName, Server, 40_000, 6_000, 9_000, 9_000, 300_000),
            Result(ReportWriter.MartenName, Server, 10_000, 1_500, 4_000, 3_000, 100_000),
            Result(ReportWriter.RawName, Server, 70_000, 5_000, 14_000, 15_000, 230_000),
            rows,
        };

        string markdown = ReportWriter.Markdown(new BenchConfig(), results);
        string targets = ReportWriter.PostgresTargets(results);

        Assert.Contains("| Workload | Batpak-PG / Marten | Npgsql raw / Marten | Batpak-PG / Npgsql raw | Marten / Npgsql raw | Batpak-PG / Npgsql raw, Batpak's rows |", markdown, StringComparison.Ordinal);
        Assert.Contains("| W1 append (batches of 1000) | 4.00x | 7.00x | 0.57x | 0.14x | 0.80x |", markdown, StringComparison.Ordinal);
        Assert.Contains("| W1 append (batches of 1000) >= 70% of Npgsql raw, Batpak's rows (engine over its own SQL) | **met**: 0.80x Npgsql raw, Batpak's rows |", targets, StringComparison.Ordinal);
        Assert.Contains("| W2 durable, concurrent >= 70% of Npgsql raw, Batpak's rows (engine over its own SQL) | **met**: 6.00x Npgsql raw, Batpak's rows |", targets, StringComparison.Ordinal);
        Assert.DoesNotContain("W3 point read by event id >= 70% of Npgsql raw, Batpak's rows", targets, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_BatpakPgNotInBuild_ColumnIsNotApplicable_ServerFromThePeers()
    {
        var missing = new EngineResult(ReportWriter.BatpakPgName, "settings") { OnPostgres = true };
        foreach (var w in Enum.GetValues<Workload>())
        {
            missing.Measurements[w] = Measurement.NotApplicable("engine not in this build");
        }

        var results = new[] { missing, Result(ReportWriter.MartenName, Server, 15_000, 3_000, 100, 4_000, 100_000) };
        string markdown = ReportWriter.Markdown(new BenchConfig(), results);

        Assert.Contains("Server: " + Server, markdown, StringComparison.Ordinal);
        Assert.Contains("| W1 append (batches of 1000) | events/s | N/A | 15,000 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| W1 append (batches of 1000) | - |", markdown, StringComparison.Ordinal);
        Assert.Contains("not evaluated (no Batpak-PG figures in this run: engine not in this build;", ReportWriter.PostgresTargets(results), StringComparison.Ordinal);
    }

    [Fact]
    public void Report_PeersWithoutBatpakPg_SaysTargetsNotEvaluated()
    {
        var results = new[] { Result(ReportWriter.MartenName, Server, 15_000, 3_000, 100, 4_000, 100_000), Result(ReportWriter.RawName, Server, 70_000, 5_000, 20_000, 20_000, 200_000) };

        Assert.Contains("not evaluated (no Batpak-PG figures in this run;", ReportWriter.PostgresTargets(results), StringComparison.Ordinal);
        string markdown = ReportWriter.Markdown(new BenchConfig(), results);
        Assert.StartsWith("Workload sizes:", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("| Workload | Unit | Marten | Npgsql raw |\n|---|---|---:|---:|\n| W1 append (sync/1000)", markdown.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("| Workload | Unit | Marten | Npgsql raw |", markdown, StringComparison.Ordinal);
    }
}
