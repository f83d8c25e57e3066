using System.Diagnostics;
using System.Globalization;

namespace Batpak.Bench;

/// <summary>
/// W6: reopens a store in a fresh process (this executable, <c>reopen</c> subcommand) so no warm in-process state
/// (index, caches, JIT-ed engine code) helps. The child times only the open (until the engine can serve reads) and
/// prints <c>REOPEN &lt;ms&gt; &lt;events&gt;</c>. The OS page cache stays warm (dropping it needs root and would disturb
/// other work on the machine), so this is a warm-cache cold start.
/// </summary>
internal static class ReopenLauncher
{
    public const string Marker = "REOPEN";
    public const string NoteMarker = "REOPEN-NOTE";

    public static ReopenOutcome Run(string engineKey, string directory, bool chainKey = false)
    {
        ChildProcess.Outcome child = ChildProcess.Start(
            chainKey ? ["reopen", "--engine", engineKey, "--dir", directory, "--chain-key"] : ["reopen", "--engine", engineKey, "--dir", directory],
            TimeSpan.FromMinutes(10));
        if (child.ExitCode is null)
        {
            return new ReopenOutcome(double.NaN, -1, "reopen child timed out");
        }

        string stdout = child.Stdout;
        ReopenOutcome? outcome = null;
        string? note = null;
        foreach (string line in stdout.Split('\n'))
        {
            string[] parts = line.Trim().Split(' ');
            if (parts.Length == 3 && parts[0] == Marker)
            {
                outcome = new ReopenOutcome(
                    double.Parse(parts[1], CultureInfo.InvariantCulture),
                    long.Parse(parts[2], CultureInfo.InvariantCulture),
                    null);
            }
            else if (parts[0] == NoteMarker)
            {
                note = line.Trim()[(NoteMarker.Length + 1)..];
            }
        }

        if (outcome is { } found)
        {
            return found with { Note = note };
        }

        return new ReopenOutcome(double.NaN, -1, $"reopen child exited {child.ExitCode}: {stdout.Trim()} {child.Stderr.Trim()}".Trim());
    }

    /// <summary>The child side: open, time, print, close.</summary>
    public static int ChildMain(string engineKey, string directory, TextWriter output, bool chainKey = false)
    {
        using var engine = BenchRunner.CreateEngine(engineKey, chainKey);
        long start = Stopwatch.GetTimestamp();
        long events = engine.ReopenProbe(directory, null);
        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Marker} {ms:R} {events}"));
        if (engine.DescribeOpen() is { } detail)
        {
            output.WriteLine(NoteMarker + " " + detail);
        }

        return 0;
    }
}
