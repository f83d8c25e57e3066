using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Batpak.Bench.Scale;

/// <summary>What one fresh-process measurement of a store found (<see cref="ScaleChild"/>).</summary>
internal readonly record struct ScalePoint(double OpenMs, long RssBytes, double W3, double W4, long Events, int Segments, long IndexBytes);

/// <summary>
/// W9 "scale" (issue 14), <c>Batpak.Bench scale</c>: one embedded store grown to <c>--scale-events</c> (default
/// 10,000,000) over <c>--entities</c> (default 100,000) with 200-byte payloads, in AppendBatch calls of 1,000 (an fsync
/// every 1,000 events, as W1). Reports the append rate over the first million and over the last million events,
/// and, measured in a fresh process (<see cref="ScaleChild"/>) once at 1M and once at the end: the open time
/// (writable, as an application opens it) with a warm page cache, the resident set after open, W3 (random point reads by id) and W4 (every entity stream).
/// With <c>--cold</c>, the end store is opened once more after the page cache is dropped (needs root; reported as
/// not measured otherwise). The targets are printed next to the figures. <c>million</c> moves the first
/// measuring point (tests run the whole path at a few thousand events).
/// </summary>
internal sealed class ScaleRunner(long events, int entities, int payloadBytes, int reads, string root, bool keep, bool cold, TextWriter log, long million = 1_000_000)
{
    private const int Batch = 1000;

    /// <summary>The name of entity <paramref name="index"/> (the child reads the same names back).</summary>
    public static string EntityName(int index) => "acct:" + index.ToString(CultureInfo.InvariantCulture);

    public string Run()
    {
        if (events < 2 * million || events % Batch != 0)
        {
            throw new ArgumentException($"--scale-events must be a multiple of {Batch} and at least {2 * million} (it was {events}).");
        }

        string directory = Path.Combine(root, "scale-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(directory);
        try
        {
            var kind = EventKind.Create(0x1, 0x001);
            var coordinates = Enumerable.Range(0, entities).Select(e => new Coordinate(EntityName(e), "scope-" + (e % 10).ToString(CultureInfo.InvariantCulture))).ToArray();
            var random = new Random(42);
            var payloads = new byte[Batch][];
            for (int i = 0; i < Batch; i++)
            {
                payloads[i] = new byte[payloadBytes];
                random.NextBytes(payloads[i]);
            }

            var batch = new EventData[Batch];
            var receipts = new AppendReceipt[Batch];
            double firstRate = 0, lastRate = 0, openAt1M = 0;
            ScalePoint at1M = default;
            EventStore store = Open(directory);
            try
            {
                long lapStart = Stopwatch.GetTimestamp();
                for (long n = 0; n < events; n += Batch)
                {
                    if (n == events - million)
                    {
                        lapStart = Stopwatch.GetTimestamp();
                    }

                    for (int j = 0; j < Batch; j++)
                    {
                        batch[j] = new EventData(coordinates[random.Next(entities)], kind, payloads[j]);
                    }

                    store.AppendBatch(batch, receipts);
                    if (n + Batch == million)
                    {
                        firstRate = million / Stopwatch.GetElapsedTime(lapStart).TotalSeconds;
                        store.Dispose();
                        at1M = Measure(directory, "at 1M");
                        long reopen = Stopwatch.GetTimestamp();
                        store = Open(directory);
                        openAt1M = Stopwatch.GetElapsedTime(reopen).TotalMilliseconds;
                    }
                    else if (n > 0 && (n + Batch) % (10 * million) == 0)
                    {
                        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {(n + Batch) / (double)million:F0}M events appended"));
                    }
                }

                lastRate = million / Stopwatch.GetElapsedTime(lapStart).TotalSeconds;
            }
            finally
            {
                store.Dispose();
            }

            ScalePoint atEnd = Measure(directory, "at the end");
            ScalePoint? coldEnd = cold ? MeasureCold(directory) : null;
            return Report(firstRate, lastRate, openAt1M, at1M, atEnd, coldEnd);
        }
        finally
        {
            if (!keep)
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private static EventStore Open(string directory) => new(new BatpakOptions { DataDirectory = directory, SyncEveryNEvents = Batch });

    private ScalePoint Measure(string directory, string label)
    {
        log.WriteLine("  measuring " + label + " in a fresh process");
        string output = ChildProcess.Run(["scale-child", "--dir", directory, "--reads", reads.ToString(CultureInfo.InvariantCulture), "--entities", entities.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromMinutes(30));
        foreach (string line in output.Split('\n'))
        {
            string[] p = line.Trim().Split(' ');
            if (p.Length == 8 && p[0] == ScaleChild.Marker)
            {
                return new ScalePoint(D(p[1]), long.Parse(p[2], CultureInfo.InvariantCulture), D(p[3]), D(p[4]), long.Parse(p[5], CultureInfo.InvariantCulture), int.Parse(p[6], CultureInfo.InvariantCulture), long.Parse(p[7], CultureInfo.InvariantCulture));
            }
        }

        throw new InvalidOperationException("scale child failed: " + output.Trim());

        static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);
    }

    /// <summary>Drops the page cache (root only) and measures again; null when the cache cannot be dropped.</summary>
    private ScalePoint? MeasureCold(string directory)
    {
        const string DropCaches = "/proc/sys/vm/drop_caches";
        try
        {
            ChildProcess.Run([], TimeSpan.FromMinutes(1), fileName: "sync"); // dirty pages first, or dropping keeps them
            File.WriteAllText(DropCaches, "3");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            log.WriteLine("  cold open not measured: " + ex.Message);
            return null;
        }

        return Measure(directory, "after dropping the page cache");
    }

    private string Report(double firstRate, double lastRate, double writerOpenAt1M, ScalePoint at1M, ScalePoint end, ScalePoint? coldEnd)
    {
        var inv = CultureInfo.InvariantCulture;
        string n = string.Create(inv, $"{events / (double)million:0.#}M");
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"## W9 scale: {events:N0} events, {entities:N0} entities, {payloadBytes}-byte payloads");
        sb.AppendLine();
        sb.AppendLine(inv, $"| Figure | at 1M | at {n} | {n} / 1M | Target (issue 14) |");
        sb.AppendLine("|---|---:|---:|---:|---|");
        sb.AppendLine(inv, $"| W1 append, events/s (first / last million) | {firstRate:N0} | {lastRate:N0} | {lastRate / firstRate:0.00}x | >= 0.80x |");
        sb.AppendLine(inv, $"| Open, warm page cache, fresh process, ms | {at1M.OpenMs:N1} | {end.OpenMs:N1} | {end.OpenMs / at1M.OpenMs:0.0}x | <= 200 ms at 10M |");
        sb.AppendLine(inv, $"| Open, page cache dropped, ms | | {(coldEnd is { } c ? c.OpenMs.ToString("N1", inv) : "not measured (needs root and --cold)")} | | |");
        sb.AppendLine(inv, $"| Resident set after open, MB | {at1M.RssBytes / 1048576.0:N0} | {end.RssBytes / 1048576.0:N0} | {end.RssBytes / (double)at1M.RssBytes:0.0}x | <= 200 MB at 10M |");
        sb.AppendLine(inv, $"| Index memory after open (GetStats), MB | {at1M.IndexBytes / 1048576.0:N0} | {end.IndexBytes / 1048576.0:N0} | {end.IndexBytes / (double)Math.Max(1, at1M.IndexBytes):0.0}x | |");
        sb.AppendLine(inv, $"| W3 point reads by id, reads/s ({reads:N0}) | {at1M.W3:N0} | {end.W3:N0} | {end.W3 / at1M.W3:0.00}x | >= 0.80x |");
        sb.AppendLine(inv, $"| W4 every entity stream, events/s | {at1M.W4:N0} | {end.W4:N0} | {end.W4 / at1M.W4:0.00}x | >= 0.80x |");
        sb.AppendLine(inv, $"| Events / segments | {at1M.Events:N0} / {at1M.Segments} | {end.Events:N0} / {end.Segments} | | |");
        sb.AppendLine();
        sb.AppendLine(inv, $"The writer's own reopen at 1M (before appending on): {writerOpenAt1M:N1} ms.");
        return sb.ToString();
    }
}
