using System.Globalization;
using System.Text;
using Batpak.Bench.Engines;

namespace Batpak.Bench;

/// <summary>
/// Turns results into the console table and the Markdown report: the embedded engines' table here, the PostgreSQL
/// section (results with <see cref="EngineResult.OnPostgres"/>) in ReportWriter.Postgres.cs.
/// </summary>
internal static partial class ReportWriter
{
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    /// <summary>The rows of the table: every workload plus the allocation row (null workload).</summary>
    private static readonly (Workload? Workload, string Label, string Unit, bool LowerIsBetter)[] s_rows =
    [
        (Workload.W1Append, "W1 append (sync/1000)", "events/s", false),
        (Workload.W2Durable, "W2 durable, concurrent", "acks/s", false),
        (Workload.W3PointRead, "W3 point read by id", "reads/s", false),
        (Workload.W4Streams, "W4 read all entity streams", "events/s", false),
        (Workload.W5Scope, "W5 query by scope", "events/s", false),
        (Workload.W5Kind, "W5 query by kind", "events/s", false),
        (Workload.W6Reopen, "W6 reopen (fresh process)", "events/s", false),
        (Workload.W7Fold, "W7 fold every entity", "events/s", false),
        (Workload.W8Bytes, "W8 bytes on disk", "B/event", true),
        (null, "W1 managed alloc", "B/append", true),
    ];

    public static string Label(Workload workload) =>
        s_rows.FirstOrDefault(r => r.Workload == workload).Label ?? s_postgresRows.First(r => r.Workload == workload).Label;

    public static string Format(Workload workload, Measurement m)
    {
        if (double.IsNaN(m.Value))
        {
            return m.Note is { } note && note.StartsWith("error", StringComparison.Ordinal) ? "error" : "N/A";
        }

        var row = s_rows.FirstOrDefault(r => r.Workload == workload);
        return FormatValue(m.Value, row.Unit ?? s_postgresRows.First(r => r.Workload == workload).Unit);
    }

    private static string FormatValue(double value, string unit) =>
        unit.StartsWith("B/", StringComparison.Ordinal) ? value.ToString("N1", s_inv) : value.ToString("N0", s_inv);

    private static Measurement? Get(EngineResult r, Workload? w) => w is { } x ? r.Measurements.GetValueOrDefault(x) : r.AllocationPerAppend;

    private static string Cell(EngineResult r, Workload? w) => Cell(r, w, s_rows.First(row => row.Workload == w).Unit);

    private static string Cell(EngineResult r, Workload? w, string unit)
    {
        var m = Get(r, w);
        if (m is null)
        {
            return "N/A";
        }

        if (double.IsNaN(m.Value))
        {
            return m.Note is { } note && note.StartsWith("error", StringComparison.Ordinal) ? "error" : "N/A";
        }

        string text = FormatValue(m.Value, unit);
        if (!m.IsValid)
        {
            text += string.Create(s_inv, $" (MISMATCH {m.Actual}/{m.Expected})");
        }

        return text;
    }

    /// <summary>Batpak's advantage over <paramref name="peer"/>: &gt; 1 means Batpak is better (faster, or smaller for bytes/alloc).</summary>
    private static string Ratio(EngineResult batpak, EngineResult peer, Workload? w, bool lowerIsBetter)
    {
        var b = Get(batpak, w);
        var p = Get(peer, w);
        if (b is null || p is null || double.IsNaN(b.Value) || double.IsNaN(p.Value) || !b.IsValid || !p.IsValid)
        {
            return "-";
        }

        double ratio = lowerIsBetter ? p.Value / b.Value : b.Value / p.Value;
        return double.IsFinite(ratio) ? ratio.ToString("0.00", s_inv) + "x" : "-";
    }

    /// <summary>The Markdown report: the embedded table, then the PostgreSQL section when the run had PostgreSQL peers.</summary>
    public static string Markdown(BenchConfig config, IReadOnlyList<EngineResult> results)
    {
        var (embedded, postgres) = Split(results);
        if (postgres.Count == 0)
        {
            return EmbeddedMarkdown(config, results);
        }

        return (embedded.Count > 0 ? EmbeddedMarkdown(config, embedded) + "\n" : $"Workload sizes: {config.Describe()}{(config.Quick ? " (--quick)" : "")}\n\n")
            + PostgresMarkdown(postgres);
    }

    /// <summary>The embedded engines' results, and the PostgreSQL peers', each in run order.</summary>
    private static (List<EngineResult> Embedded, List<EngineResult> Postgres) Split(IReadOnlyList<EngineResult> results) =>
        (results.Where(r => !r.OnPostgres).ToList(), results.Where(r => r.OnPostgres).ToList());

    private static string EmbeddedMarkdown(BenchConfig config, IReadOnlyList<EngineResult> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine(s_inv, $"Workload sizes: {config.Describe()}{(config.Quick ? " (--quick)" : "")}").AppendLine();
        sb.Append("| Workload | Unit |");
        foreach (var r in results)
        {
            sb.Append(' ').Append(r.Name).Append(" |");
        }

        sb.AppendLine().Append("|---|---|");
        foreach (var _ in results)
        {
            sb.Append("---:|");
        }

        sb.AppendLine();
        foreach (var row in s_rows)
        {
            sb.Append(s_inv, $"| {row.Label} | {row.Unit} |");
            foreach (var r in results)
            {
                sb.Append(' ').Append(Cell(r, row.Workload)).Append(" |");
            }

            sb.AppendLine();
        }

        var batpak = results.FirstOrDefault(r => r.Name == "Batpak");
        var peers = results.Where(r => r != batpak).ToList();
        if (batpak is not null && peers.Count > 0)
        {
            sb.AppendLine().AppendLine("Ratios vs Batpak (Batpak's advantage: > 1 means Batpak is faster, or smaller for bytes/alloc; '-' = not comparable):").AppendLine();
            sb.Append("| Workload |");
            foreach (var p in peers)
            {
                sb.Append(s_inv, $" Batpak vs {p.Name} |");
            }

            sb.AppendLine().Append("|---|");
            foreach (var _ in peers)
            {
                sb.Append("---:|");
            }

            sb.AppendLine();
            foreach (var row in s_rows)
            {
                sb.Append(s_inv, $"| {row.Label} |");
                foreach (var p in peers)
                {
                    sb.Append(' ').Append(Ratio(batpak, p, row.Workload, row.LowerIsBetter)).Append(" |");
                }

                sb.AppendLine();
            }
        }

        sb.AppendLine().AppendLine("Notes:").AppendLine();
        foreach (var r in results)
        {
            sb.AppendLine(s_inv, $"- **{r.Name}**: {r.Settings}.");
            if (!double.IsNaN(r.ReopenMilliseconds))
            {
                sb.AppendLine(s_inv, $"  - W6 open time in the fresh process: {r.ReopenMilliseconds:F1} ms{(r.Measurements.TryGetValue(Workload.W6Reopen, out var n6) && n6.Note is { } n6Note && n6Note.Contains("recovery", StringComparison.Ordinal) ? " (" + n6Note + ")" : "")}{(r.Measurements.TryGetValue(Workload.W6Reopen, out var w6) && w6.Expected < 0 ? " (no event count reported: a raw log has no index to rebuild; events/s = dataset events / open time)" : "")}.");
            }

            foreach (var (w, m) in r.Measurements.OrderBy(kv => kv.Key))
            {
                bool mismatch = !double.IsNaN(m.Value) && !m.IsValid;
                if (m.Note is { } note && (note.StartsWith("error", StringComparison.Ordinal) || mismatch))
                {
                    sb.AppendLine(s_inv, $"  - {Label(w)}: {note}{(mismatch ? $" (count {m.Actual} of {m.Expected})" : "")}.");
                }
            }
        }

        sb.AppendLine("- W2 counts acknowledged appends only; every engine gets the same first N events of the dataset.");
        sb.AppendLine("- W6 is timed inside a fresh process (this executable, `reopen` subcommand): open until the engine can serve reads, JIT included, OS page cache warm (the harness reads every file of the store once before W6 and before the reads).");
        sb.AppendLine("- W7 for FasterLog is one full scan grouped by the entity number inside the payload (it has no per-entity index); the others fold entity by entity through their stream read.");
        sb.AppendLine("- W8 is the apparent size of every file in the W1 store directory after close, divided by the event count (SQLite: WAL checkpointed on close); for Batpak its note splits it into segment files and index and other files.");
        sb.AppendLine("- W1 managed alloc is GC.GetTotalAllocatedBytes (all threads) across W1 divided by events; payloads are allocated before timing, so this is what the engine and its client API allocate per append.");
        sb.AppendLine("- Peers store id, entity, seq, scope, kind, timestamp and payload; Batpak additionally stores correlation/causation ids, HLC position, flags and a SHA-256 hash chain link (prev + hash) per event, and CRC-checks every frame it reads.");
        return sb.ToString();
    }

    /// <summary>A plain console rendering of the same tables.</summary>
    public static string Text(IReadOnlyList<EngineResult> results)
    {
        var (embedded, postgres) = Split(results);
        if (postgres.Count == 0)
        {
            return EmbeddedText(results);
        }

        return (embedded.Count > 0 ? EmbeddedText(embedded) + "\n" : "") + PostgresText(postgres);
    }

    private static string EmbeddedText(IReadOnlyList<EngineResult> results)
    {
        var sb = new StringBuilder();
        sb.Append(s_inv, $"{"Workload",-30}{"Unit",-10}");
        foreach (var r in results)
        {
            sb.Append(s_inv, $"{r.Name,18}");
        }

        sb.AppendLine();
        foreach (var row in s_rows)
        {
            sb.Append(s_inv, $"{row.Label,-30}{row.Unit,-10}");
            foreach (var r in results)
            {
                sb.Append(s_inv, $"{Cell(r, row.Workload),18}");
            }

            sb.AppendLine();
        }

        var batpak = results.FirstOrDefault(r => r.Name == "Batpak");
        if (batpak is not null)
        {
            sb.AppendLine().AppendLine("Batpak advantage (>1 = Batpak better):");
            foreach (var row in s_rows)
            {
                sb.Append(s_inv, $"{row.Label,-30}{"",-10}");
                foreach (var r in results)
                {
                    sb.Append(s_inv, $"{(r == batpak ? "1.00x" : Ratio(batpak, r, row.Workload, row.LowerIsBetter)),18}");
                }

                sb.AppendLine();
            }
        }

        return sb.ToString();
    }

    /// <summary>The project's targets for Batpak, each met or missed and by how much.</summary>
    public static string Targets(IReadOnlyList<EngineResult> results)
    {
        var batpak = results.FirstOrDefault(r => r.Name == "Batpak");
        var sqlite = results.FirstOrDefault(r => r.Name == "SQLite");
        var sb = new StringBuilder();
        if (batpak is null || batpak.Measurements.Values.All(m => double.IsNaN(m.Value)))
        {
            return "Targets: not evaluated (no Batpak figures in this run).\n";
        }

        void AtLeast(string name, Measurement? m, double target, string unit)
        {
            if (m is null || double.IsNaN(m.Value) || !m.IsValid)
            {
                sb.AppendLine(s_inv, $"| {name} | not measured |");
                return;
            }

            double delta = (m.Value / target) - 1;
            sb.AppendLine(m.Value >= target
                ? string.Create(s_inv, $"| {name} | **met**: {m.Value:N0} {unit} ({delta:+0%} over) |")
                : string.Create(s_inv, $"| {name} | **missed**: {m.Value:N0} {unit}, {-delta:0%} short ({target - m.Value:N0} {unit} below) |"));
        }

        void AtMost(string name, Measurement? m, double target, string unit)
        {
            if (m is null || double.IsNaN(m.Value))
            {
                sb.AppendLine(s_inv, $"| {name} | not measured |");
                return;
            }

            sb.AppendLine(m.Value <= target
                ? string.Create(s_inv, $"| {name} | **met**: {m.Value:N1} {unit} ({target - m.Value:N1} {unit} under) |")
                : string.Create(s_inv, $"| {name} | **missed**: {m.Value:N1} {unit}, {m.Value - target:N1} {unit} over{(target > 0 ? $" ({(m.Value / target) - 1:0%})" : "")} |"));
        }

        sb.AppendLine("| Target | Result |").AppendLine("|---|---|");
        var w1 = batpak.Measurements.GetValueOrDefault(Workload.W1Append);
        AtLeast("W1 >= 400,000 events/s", w1, 400_000, "events/s");
        var s1 = sqlite?.Measurements.GetValueOrDefault(Workload.W1Append);
        if (w1 is not null && s1 is not null && !double.IsNaN(w1.Value) && !double.IsNaN(s1.Value))
        {
            double x = w1.Value / s1.Value;
            sb.AppendLine(x >= 3
                ? string.Create(s_inv, $"| W1 >= 3x SQLite | **met**: {x:0.00}x |")
                : string.Create(s_inv, $"| W1 >= 3x SQLite | **missed**: {x:0.00}x (needs {3 * s1.Value:N0} events/s, {3 * s1.Value - w1.Value:N0} short) |"));
        }
        else
        {
            sb.AppendLine("| W1 >= 3x SQLite | not measured |");
        }

        AtLeast("W2 >= 30,000 durable acks/s", batpak.Measurements.GetValueOrDefault(Workload.W2Durable), 30_000, "acks/s");
        AtLeast("W3 >= 600,000 reads/s", batpak.Measurements.GetValueOrDefault(Workload.W3PointRead), 600_000, "reads/s");
        AtLeast("W4 >= 1,500,000 events/s", batpak.Measurements.GetValueOrDefault(Workload.W4Streams), 1_500_000, "events/s");
        AtLeast("W6 >= 1,000,000 events/s reopened", batpak.Measurements.GetValueOrDefault(Workload.W6Reopen), 1_000_000, "events/s");
        AtMost("W8 <= 350 bytes/event", batpak.Measurements.GetValueOrDefault(Workload.W8Bytes), 350, "B/event");
        // The 0 B target is about the append path, which BenchmarkDotNet's memory diagnoser measures per call
        // (`micro --filter *Append*`); W1's figure divides everything W1 allocated, opening the store and one index
        // object per new entity included, by the events.
        Measurement? alloc = batpak.AllocationPerAppend;
        sb.AppendLine(alloc is null || double.IsNaN(alloc.Value)
            ? "| 0 B allocated per append | W1 not measured; see the micro-benchmarks (`micro --filter *Append*`) |"
            : string.Create(s_inv, $"| 0 B allocated per append | judged by the micro-benchmarks (`micro --filter *Append*`); W1 as a whole: {alloc.Value:N1} B/event, store opening and new entities included |"));
        return sb.ToString();
    }
}
