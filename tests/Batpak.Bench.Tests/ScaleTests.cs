using Batpak.Bench.Scale;

namespace Batpak.Bench.Tests;

/// <summary>
/// W9 (scale) end to end at a few thousand events (the first measuring point moved from 1M to 1,000): the store is
/// grown, measured in a fresh process at the first point and at the end, and every figure of the report is filled
/// with the counts it must have. Checks counts and the report's rows, never timings.
/// </summary>
public sealed class ScaleTests
{
    [Fact]
    public void Run_TinyScale_MeasuresBothPointsInAFreshProcess_ReportHasEveryRow()
    {
        string root = Path.Combine(Path.GetTempPath(), "batpak-scale-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            var log = new StringWriter();
            string report = new ScaleRunner(events: 4_000, entities: 50, payloadBytes: 64, reads: 200, root, keep: false, cold: false, log, million: 1_000).Run();

            Assert.Contains("## W9 scale: 4,000 events, 50 entities, 64-byte payloads", report, StringComparison.Ordinal);
            Assert.Contains("| Events / segments | 1,000 / 1 | 4,000 / 1 |", report, StringComparison.Ordinal);
            foreach (string row in new[] { "| W1 append", "| Open, warm page cache", "| Resident set after open", "| Index memory after open (GetStats)", "| W3 point reads by id", "| W4 every entity stream" })
            {
                Assert.Contains(row, report, StringComparison.Ordinal);
            }

            Assert.Contains("| Open, page cache dropped, ms | | not measured (needs root and --cold) |", report, StringComparison.Ordinal);
            Assert.Contains("measuring at 1M in a fresh process", log.ToString(), StringComparison.Ordinal);
            Assert.Empty(Directory.EnumerateFileSystemEntries(root)); // the store was removed (no --keep)
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Run_TooFewEvents_IsRefusedNamingTheValue()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ScaleRunner(events: 1_500, entities: 5, payloadBytes: 64, reads: 10, Path.GetTempPath(), keep: false, cold: false, TextWriter.Null, million: 1_000).Run());
        Assert.Contains("1500", ex.Message, StringComparison.Ordinal);
    }
}
