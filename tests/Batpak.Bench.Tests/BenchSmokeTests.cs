using Batpak.Bench.Engines;

namespace Batpak.Bench.Tests;

/// <summary>
/// Keeps the harness from rotting: every workload, every engine, tiny sizes, and every count read back must equal
/// the count written (W7 also checks every entity's folded sum against the dataset). W6 really starts the bench
/// executable in a child process.
/// </summary>
public sealed class BenchSmokeTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "batpak-bench-smoke-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private BenchConfig Tiny(params string[] engines) => new()
    {
        Events = 1_500,
        Entities = 40,
        Scopes = 4,
        DurableEvents = 64,
        Concurrency = 8,
        Reads = 300,
        Engines = engines,
        Root = _root,
    };

    [Theory]
    [InlineData("batpak")]
    [InlineData("sqlite")]
    [InlineData("litedb")]
    [InlineData("fasterlog")]
    public void Run_TinySizes_EveryCountReadBackEqualsWritten(string engine)
    {
        var log = new StringWriter();
        var results = new BenchRunner(Tiny(engine), log).Run();

        var result = Assert.Single(results);
        Assert.True(engine != "batpak" || BatpakEngine.IsAvailable, "the bench was built without EventStore (BATPAK_ENGINE undefined): Batpak was not measured");

        using var probe = BenchRunner.CreateEngine(engine);
        foreach (var workload in Enum.GetValues<Workload>())
        {
            Assert.True(result.Measurements.TryGetValue(workload, out var m), $"{engine} {workload}: missing");
            if (!probe.Supports(workload))
            {
                Assert.True(double.IsNaN(m!.Value), $"{engine} {workload}: should be N/A");
                continue;
            }

            Assert.False(double.IsNaN(m!.Value), $"{engine} {workload}: {m.Note}\n{log}");
            Assert.True(m.Value > 0, $"{engine} {workload}: {m.Value}");
            Assert.True(m.IsValid, $"{engine} {workload}: read back {m.Actual}, wrote {m.Expected} ({m.Note})\n{log}");
        }

        // W8: Batpak's note splits the bytes into its segment files and the rest; the parts add up to the total.
        Measurement w8 = result.Measurements[Workload.W8Bytes];
        if (engine == "batpak")
        {
            var parts = System.Text.RegularExpressions.Regex.Match(w8.Note!, @"^([\d,]+) bytes total; segments ([\d,]+) bytes .*index and other files ([\d,]+) bytes");
            Assert.True(parts.Success, w8.Note);
            long Number(int g) => long.Parse(parts.Groups[g].Value.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(Number(1), Number(2) + Number(3));
            Assert.True(Number(2) > 0 && Number(2) >= Number(3), w8.Note);
        }
        else
        {
            Assert.DoesNotContain("segments", w8.Note, StringComparison.Ordinal);
        }

        // W1's allocation figure divides everything W1 allocated (the store's opening included) by the events: the
        // smoke test checks that it is measured; the per-append budget is Batpak.Sdk.Tests' AppendAllocationTests.
        Assert.NotNull(result.AllocationPerAppend);
        Assert.False(double.IsNaN(result.AllocationPerAppend.Value), $"{engine}: W1's allocation was not measured ({result.AllocationPerAppend.Note})");
    }

    [Fact]
    public void Report_TwoEngines_RendersTableRatiosAndTargets()
    {
        var config = Tiny("batpak", "sqlite");
        var results = new BenchRunner(config, TextWriter.Null).Run();

        string markdown = ReportWriter.Markdown(config, results);
        Assert.Contains("| W1 append (sync/1000) | events/s |", markdown, StringComparison.Ordinal);
        Assert.Contains("W8 bytes on disk", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("MISMATCH", markdown, StringComparison.Ordinal);
        Assert.True(BatpakEngine.IsAvailable, "the bench was built without EventStore: the Batpak column is empty");
        Assert.Contains("Batpak vs SQLite", markdown, StringComparison.Ordinal);
        Assert.Contains("W2 >= 30,000", ReportWriter.Targets(results), StringComparison.Ordinal);
    }

    [Fact]
    public void Dataset_SameSeed_SamePayloadsAndAmountsReadBack()
    {
        var a = Dataset.Generate(500, 10, 2, 200, 7);
        var b = Dataset.Generate(500, 10, 2, 200, 7);

        Assert.Equal(a.Payloads.SelectMany(p => p), b.Payloads.SelectMany(p => p));
        Assert.All(a.Payloads, p => Assert.Equal(200, p.Length));
        Assert.Equal(a.TotalAmount, a.Payloads.Sum(p => (long)Dataset.ReadAmount(p)));
        Assert.Equal(500, a.EventsPerEntity.Sum());
    }

    [Fact]
    public void Args_QuickAndOverrides_Parsed()
    {
        var config = BenchArgs.Parse(["--quick", "--events", "5000", "--engines", "sqlite,fasterlog", "--out", "x.md"]).ToConfig();

        Assert.True(config.Quick);
        Assert.Equal(5000, config.Events);
        Assert.Equal(["sqlite", "fasterlog"], config.Engines);
        Assert.EndsWith("x.md", config.OutFile, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => BenchArgs.Parse(["--bogus", "1"]).ToConfig());
    }
}
