using System.Text;
using Batpak.Bench.Engines;

namespace Batpak.Bench;

/// <summary>
/// The PostgreSQL section of the report (results with <see cref="EngineResult.OnPostgres"/>): the peers side by side (in run order, so a Batpak-PG column sits next to
/// Marten and the raw Npgsql baseline), each engine's ratio to Marten and to raw, and the issue's targets for
/// Batpak-PG (&gt;= 3x Marten and &gt;= 70% of raw on W1-W4). Called by <see cref="ReportWriter"/> only.
/// </summary>
internal static partial class ReportWriter
{
    /// <summary>The display name of the Marten peer (<see cref="MartenEngine.Name"/>).</summary>
    public const string MartenName = "Marten";

    /// <summary>The display name of the raw Npgsql baseline (<see cref="NpgsqlRawEngine.Name"/>).</summary>
    public const string RawName = "Npgsql raw";

    /// <summary>The display name of the raw baseline that writes Batpak-PG's own rows (<see cref="NpgsqlRowsEngine.Name"/>).</summary>
    public const string RowsName = "Npgsql raw, Batpak's rows";

    /// <summary>The display name the Batpak PostgreSQL engine's bench column will use.</summary>
    public const string BatpakPgName = "Batpak-PG";

    private static readonly (Workload? Workload, string Label, string Unit, bool LowerIsBetter)[] s_postgresRows =
    [
        (Workload.W1Append, "W1 append (batches of 1000)", "events/s", false),
        (Workload.W2Durable, "W2 durable, concurrent", "acks/s", false),
        (Workload.W3PointRead, "W3 point read by event id", "reads/s", false),
        (Workload.W3ByStream, "W3 point read by (stream,seq)", "reads/s", false),
        (Workload.W4Streams, "W4 read all entity streams", "events/s", false),
        (Workload.W5Scope, "W5 query by scope", "events/s", false),
        (Workload.W5Kind, "W5 query by kind", "events/s", false),
        (Workload.W6Reopen, "W6 reopen (fresh process)", "events/s", false),
        (Workload.W7Fold, "W7 fold every entity", "events/s", false),
        (Workload.W8Bytes, "W8 relation bytes", "B/event", true),
        (null, "W1 client managed alloc", "B/append", true),
    ];

    /// <summary>
    /// The ratio columns: every engine against Marten, then every engine against raw (an engine never against itself,
    /// and Batpak's-rows floor only as a peer), then Batpak-PG against the floor of its own rows.
    /// </summary>
    private static List<(EngineResult Engine, EngineResult Peer)> PostgresPairs(List<EngineResult> results)
    {
        var pairs = new List<(EngineResult, EngineResult)>();
        foreach (string peerName in new[] { MartenName, RawName })
        {
            if (results.FirstOrDefault(r => r.Name == peerName) is { } peer)
            {
                pairs.AddRange(results.Where(r => r != peer && r.Name != RowsName).Select(r => (r, peer)));
            }
        }

        if (results.FirstOrDefault(r => r.Name == RowsName) is { } rows && results.FirstOrDefault(r => r.Name == BatpakPgName) is { } batpak)
        {
            pairs.Add((batpak, rows));
        }

        return pairs;
    }

    /// <summary>The PostgreSQL table's label of <paramref name="workload"/>.</summary>
    public static string PostgresLabel(Workload workload) => s_postgresRows.First(r => r.Workload == workload).Label;

    private static string ServerOf(List<EngineResult> results) =>
        results.Select(r => r.Server).FirstOrDefault(s => s is not null) ?? "none reached";

    private static string PostgresText(List<EngineResult> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine("PostgreSQL section").AppendLine("Server: " + ServerOf(results));
        sb.Append(s_inv, $"{"Workload",-32}{"Unit",-10}");
        foreach (var r in results)
        {
            sb.Append(s_inv, $"{r.Name,18}");
        }

        sb.AppendLine();
        foreach (var row in s_postgresRows)
        {
            sb.Append(s_inv, $"{row.Label,-32}{row.Unit,-10}");
            foreach (var r in results)
            {
                sb.Append(s_inv, $"{Cell(r, row.Workload, row.Unit),18}");
            }

            sb.AppendLine();
        }

        var pairs = PostgresPairs(results);
        if (pairs.Count > 0)
        {
            sb.AppendLine().AppendLine("Ratios (>1 = the first engine is better):");
            sb.Append(s_inv, $"{"",-42}");
            foreach (var (engine, peer) in pairs)
            {
                sb.Append(s_inv, $"{engine.Name + " / " + peer.Name,26}");
            }

            sb.AppendLine();
            foreach (var row in s_postgresRows)
            {
                sb.Append(s_inv, $"{row.Label,-42}");
                foreach (var (engine, peer) in pairs)
                {
                    sb.Append(s_inv, $"{Ratio(engine, peer, row.Workload, row.LowerIsBetter),26}");
                }

                sb.AppendLine();
            }
        }

        return sb.ToString();
    }

    private static string PostgresMarkdown(List<EngineResult> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine("## PostgreSQL").AppendLine();
        sb.AppendLine(s_inv, $"Server: {ServerOf(results)}.").AppendLine();
        sb.Append("| Workload | Unit |");
        foreach (var r in results)
        {
            sb.Append(' ').Append(r.Name).Append(" |");
        }

        sb.AppendLine().Append("|---|---|").AppendLine(string.Concat(results.Select(_ => "---:|")));
        foreach (var row in s_postgresRows)
        {
            sb.Append(s_inv, $"| {row.Label} | {row.Unit} |");
            foreach (var r in results)
            {
                sb.Append(' ').Append(Cell(r, row.Workload, row.Unit)).Append(" |");
            }

            sb.AppendLine();
        }

        var pairs = PostgresPairs(results);
        if (pairs.Count > 0)
        {
            sb.AppendLine().AppendLine("Ratios (> 1 means the first engine is faster, or smaller for bytes/alloc; '-' = not comparable):").AppendLine();
            sb.Append("| Workload |").AppendJoin("", pairs.Select(p => $" {p.Engine.Name} / {p.Peer.Name} |"));
            sb.AppendLine().Append("|---|").AppendLine(string.Concat(pairs.Select(_ => "---:|")));
            foreach (var row in s_postgresRows)
            {
                sb.Append(s_inv, $"| {row.Label} |");
                foreach (var (engine, peer) in pairs)
                {
                    sb.Append(' ').Append(Ratio(engine, peer, row.Workload, row.LowerIsBetter)).Append(" |");
                }

                sb.AppendLine();
            }
        }

        sb.AppendLine().AppendLine("Notes:").AppendLine();
        foreach (var r in results)
        {
            sb.AppendLine(s_inv, $"- **{r.Name}**: {r.Settings}.");
            var notes = r.Measurements.Values.Select(m => m.Note).Distinct().ToList();
            if (r.Measurements.Values.All(m => double.IsNaN(m.Value)) && notes.Count == 1 && notes[0] is { } only)
            {
                sb.AppendLine(s_inv, $"  - not run: {only}.");
                continue;
            }

            // Every remark: n/a reasons, retries, W8's total, errors and count mismatches.
            foreach (var (w, m) in r.Measurements.OrderBy(kv => kv.Key))
            {
                bool mismatch = !double.IsNaN(m.Value) && !m.IsValid;
                if (m.Note is { } note || mismatch)
                {
                    sb.AppendLine(s_inv, $"  - {PostgresLabel(w)}: {m.Note}{(mismatch ? $" (COUNT MISMATCH: {m.Actual} of {m.Expected})" : "")}.");
                }
            }
        }

        sb.AppendLine("- All peers run on the same server in the same run, one after another; each gets a fresh database per store (W1's, read by W3-W7, and W2's).");
        sb.AppendLine("- Untimed between phases: after W1, VACUUM (ANALYZE) and CHECKPOINT on its database (statistics and visibility map as autovacuum would leave them; no peer pays for another's dirty buffers); before W2, a CHECKPOINT.");
        sb.AppendLine("- W2 opens its connections (one per appender) inside the timed section, for every peer alike.");
        sb.AppendLine("- W3 by (stream, seq) reads the same random events as W3 by id, addressed by entity and per-entity sequence: Marten's read by event id is its slow path, so both are shown.");
        sb.AppendLine("- W6 is n/a: a server-side store has no local open to time (a fresh process only connects).");
        sb.AppendLine("- W8 is pg_total_relation_size (heap, indexes, TOAST) summed over the W1 database's tables after W1, divided by the events; WAL and the catalog are not counted.");
        sb.AppendLine("- W1 client managed alloc is GC.GetTotalAllocatedBytes in this process across W1 divided by events (the server's memory is not counted).");
        return sb.ToString();
    }

    /// <summary>The issue's targets for Batpak-PG on W1-W4: &gt;= 3x Marten and &gt;= 70% of the raw baseline.</summary>
    public static string PostgresTargets(IReadOnlyList<EngineResult> results)
    {
        var batpak = results.FirstOrDefault(r => r.Name == BatpakPgName);
        var marten = results.FirstOrDefault(r => r.Name == MartenName);
        var raw = results.FirstOrDefault(r => r.Name == RawName);
        if (batpak is null || batpak.Measurements.Values.All(m => double.IsNaN(m.Value)))
        {
            return results.Any(r => r.OnPostgres)
                ? $"PostgreSQL targets: not evaluated (no {BatpakPgName} figures in this run{(batpak?.Measurements.GetValueOrDefault(Workload.W1Append)?.Note is { } note ? ": " + note : "")}; they are {BatpakPgName} >= 3x {MartenName} and >= 70% of {RawName} on W1-W4).\n"
                : "";
        }

        static double? Value(EngineResult? r, Workload w) =>
            r?.Measurements.GetValueOrDefault(w) is { IsValid: true } m && !double.IsNaN(m.Value) ? m.Value : null;

        var sb = new StringBuilder("| PostgreSQL target | Result |\n|---|---|\n");
        void Against(string name, double? value, double? peer, double factor, string peerLabel)
        {
            if (value is not { } v || peer is not { } p || p <= 0)
            {
                sb.AppendLine(s_inv, $"| {name} | not measured |");
                return;
            }

            double x = v / p;
            sb.AppendLine(x >= factor
                ? string.Create(s_inv, $"| {name} | **met**: {x:0.00}x {peerLabel} |")
                : string.Create(s_inv, $"| {name} | **missed**: {x:0.00}x {peerLabel} (needs {factor:0.##}x: {factor * p:N0}, {factor * p - v:N0} short) |"));
        }

        foreach (var w in new[] { Workload.W1Append, Workload.W2Durable, Workload.W3PointRead, Workload.W4Streams })
        {
            double? martenValue = Value(marten, w);
            string martenLabel = MartenName;
            if (w == Workload.W3PointRead && Value(marten, Workload.W3ByStream) is { } byStream && (martenValue is null || byStream > martenValue))
            {
                // The fair W3 comparison is against Marten's faster point read: by (stream, version) here.
                martenValue = byStream;
                martenLabel = MartenName + " (by stream, its faster W3)";
            }

            string label = PostgresLabel(w);
            Against(label + " >= 3x " + MartenName, Value(batpak, w), martenValue, 3, martenLabel);
            Against(label + " >= 70% of " + RawName, Value(batpak, w), Value(raw, w), 0.7, RawName);
        }

        // Not one of the issue's targets: what the engine costs over the SQL of its own rows (the same 70% bar).
        var rows = results.FirstOrDefault(r => r.Name == RowsName);
        foreach (var w in new[] { Workload.W1Append, Workload.W2Durable })
        {
            if (Value(rows, w) is not null)
            {
                Against(PostgresLabel(w) + " >= 70% of " + RowsName + " (engine over its own SQL)", Value(batpak, w), Value(rows, w), 0.7, RowsName);
            }
        }

        return sb.ToString();
    }
}
