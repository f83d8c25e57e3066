using System.Diagnostics;
using System.Globalization;

namespace Batpak.Bench.Scale;

/// <summary>
/// W9's measuring process (<c>Batpak.Bench scale-child --dir PATH --reads N --entities E</c>, started by <see cref="ScaleRunner"/>):
/// a fresh process opens the store (as an application does: writable, recovery included), so nothing of the
/// writer's process helps. It times the open, takes the
/// process's resident set right after it, then (untimed) samples <c>--reads</c> event ids at random global positions,
/// and times W3 (that many <c>TryGet</c>s by id) and W4 (every entity's stream, <see cref="ScaleRunner.EntityName"/>
/// of 0 to E-1, read whole). Prints one line:
/// <c>SCALE open_ms rss_bytes w3_reads_per_s w4_events_per_s events segments index_memory_bytes</c>.
/// </summary>
internal static class ScaleChild
{
    public const string Marker = "SCALE";

    public static int Run(string directory, int reads, int entityCount, TextWriter output)
    {
        long start = Stopwatch.GetTimestamp();
        using var store = new EventStore(new BatpakOptions { DataDirectory = directory });
        double openMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        long rss = ResidentBytes();
        StoreStats stats = store.GetStats();

        // Untimed: ids at random global positions (one-event pages).
        var random = new Random(7);
        var ids = new EventId[reads];
        for (int i = 0; i < reads; i++)
        {
            EventPage page = store.ReadPage(random.NextInt64(stats.NextGlobalSequence), 1);
            ids[i] = page.Events.Count == 1 ? page.Events[0].Id : store.ReadPage(0, 1).Events[0].Id; // a dropped position: the first event
        }

        string[] entities = [.. Enumerable.Range(0, entityCount).Select(ScaleRunner.EntityName)];

        start = Stopwatch.GetTimestamp();
        long found = 0;
        foreach (EventId id in ids)
        {
            found += store.TryGet(id, out StoredEvent? e) && e.Payload.Length > 0 ? 1 : 0;
        }

        double w3 = reads / Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (found != reads)
        {
            output.WriteLine($"SCALE-ERROR W3 found {found} of {reads} sampled ids");
            return 1;
        }

        start = Stopwatch.GetTimestamp();
        long streamed = 0;
        foreach (string entity in entities)
        {
            foreach (StoredEvent e in store.Stream(entity))
            {
                streamed += e.Payload.Length > 0 ? 1 : 0;
            }
        }

        double w4 = streamed / Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (streamed != stats.EventCount)
        {
            output.WriteLine($"SCALE-ERROR W4 streamed {streamed} of {stats.EventCount} events");
            return 1;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Marker} {openMs:R} {rss} {w3:R} {w4:R} {stats.EventCount} {stats.SegmentCount} {stats.IndexMemoryBytes}"));
        return 0;
    }

    /// <summary>The resident set (VmRSS) on Linux; the working set elsewhere.</summary>
    private static long ResidentBytes()
    {
        if (OperatingSystem.IsLinux())
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }

        return Environment.WorkingSet;
    }
}
