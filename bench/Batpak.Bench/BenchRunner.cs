using System.Diagnostics;
using System.Globalization;
using Batpak.Bench.Engines;
using Batpak.Bench.Postgres;
using Npgsql;

namespace Batpak.Bench;

/// <summary>What one workload measured for one engine.</summary>
/// <param name="Value">The figure (events/s, reads/s, bytes/event ...), or NaN when not applicable or failed.</param>
/// <param name="Expected">The count the workload had to read back or write (-1: not checked).</param>
/// <param name="Actual">The count it did.</param>
/// <param name="Seconds">The timed section.</param>
/// <param name="Note">N/A reason, error, or a remark.</param>
internal sealed record Measurement(double Value, long Expected, long Actual, double Seconds, string? Note = null)
{
    public bool IsValid => !double.IsNaN(Value) && (Expected < 0 || Expected == Actual);

    public static Measurement NotApplicable(string reason) => new(double.NaN, -1, -1, 0, reason);

    public static Measurement Failed(string error) => new(double.NaN, -1, -1, 0, "error: " + error);
}

/// <summary>One engine's results.</summary>
internal sealed class EngineResult(string name, string settings)
{
    public string Name { get; } = name;

    public string Settings { get; } = settings;

    public Dictionary<Workload, Measurement> Measurements { get; } = [];

    /// <summary><see langword="true"/> for the PostgreSQL section's peers (<see cref="BenchEngine.RunsOnPostgres"/>).</summary>
    public bool OnPostgres { get; init; }

    /// <summary>For a PostgreSQL peer, the server it ran on (version and settings); null when none was reached (and for the embedded engines).</summary>
    public string? Server { get; set; }

    /// <summary>Managed bytes allocated (all threads) during W1, per event; payloads are pre-allocated.</summary>
    public Measurement? AllocationPerAppend { get; set; }

    /// <summary>W6 detail: open time in the fresh process, in ms.</summary>
    public double ReopenMilliseconds { get; set; } = double.NaN;
}

/// <summary>Outcome of the W6 child process.</summary>
internal readonly record struct ReopenOutcome(double Milliseconds, long Events, string? Error, string? Note = null);

/// <summary>
/// Runs every workload for every engine on the same dataset. The PostgreSQL peers (<see cref="BenchEngine.RunsOnPostgres"/>)
/// share one server, started on first use (<see cref="PgBenchServer.Start"/>) and stopped at the end of the run; each
/// gets a fresh database per store.
/// </summary>
/// <param name="config">Sizes and engines.</param>
/// <param name="log">Progress lines.</param>
/// <param name="reopen">W6's child process launcher (tests replace it).</param>
/// <param name="postgres">Starts or connects to the PostgreSQL server; default <see cref="PgBenchServer.Start"/>.</param>
internal sealed class BenchRunner(BenchConfig config, TextWriter log, Func<string, string, ReopenOutcome>? reopen = null, Func<TextWriter, PgBenchServer>? postgres = null)
{
    private readonly Func<TextWriter, PgBenchServer> _startPostgres = postgres ?? PgBenchServer.Start;
    private readonly Func<string, string, ReopenOutcome> _reopen = reopen ?? ((key, directory) => ReopenLauncher.Run(key, directory, config.ChainKey));
    private PgBenchServer? _postgres;
    private string? _postgresError;

    /// <param name="key">The engine's command-line key.</param>
    /// <param name="chainKey"><c>--chain-key</c>: Batpak's stores are keyed (the other engines ignore it).</param>
    public static BenchEngine CreateEngine(string key, bool chainKey = false) => key switch
    {
        "batpak" => new BatpakEngine(chainKey),
        "sqlite" => new SqliteEngine(),
        "litedb" => new LiteDbEngine(),
        "fasterlog" => new FasterLogEngine(),
        "batpak-pg" => new BatpakPgEngine(),
        "marten" => new MartenEngine(),
        "npgsql" => new NpgsqlRawEngine(),
        "npgsql-rows" => new NpgsqlRowsEngine(),
        _ => throw new ArgumentException($"Unknown engine '{key}'.", nameof(key)),
    };

    public IReadOnlyList<EngineResult> Run()
    {
        config.Validate();
        log.WriteLine($"Generating dataset: {config.Describe()}");
        var data = Dataset.Generate(config.Events, config.Entities, config.Scopes, config.PayloadBytes, config.Seed);
        var readIndexes = data.RandomEventIndexes(config.Reads, config.Seed + 1);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {data.Count:N0} events, {data.PayloadBytes / (double)data.Count:F1} payload bytes/event avg"));

        string runRoot = Path.Combine(config.Root, "run-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-" + Stopwatch.GetTimestamp().ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(runRoot);
        var results = new List<EngineResult>();
        try
        {
            foreach (string key in config.Engines)
            {
                results.Add(RunEngine(key, data, readIndexes, Path.Combine(runRoot, key)));
            }
        }
        finally
        {
            if (!config.Keep)
            {
                TryDelete(runRoot);
            }

            _postgres?.Dispose();
            _postgres = null;
        }

        return results;
    }

    private EngineResult RunEngine(string key, Dataset data, int[] readIndexes, string directory)
    {
        using var engine = CreateEngine(key, config.ChainKey);
        var result = new EngineResult(engine.Name, engine.Settings) { OnPostgres = engine.RunsOnPostgres };
        log.WriteLine($"== {engine.Name}");
        if (engine.UnavailableReason is { } unavailable)
        {
            foreach (var w in Enum.GetValues<Workload>())
            {
                result.Measurements[w] = Measurement.NotApplicable("engine not in this build");
            }

            log.WriteLine("   skipped: " + unavailable);
            return result;
        }

        string w1Dir = Path.Combine(directory, "w1");
        string w2Dir = Path.Combine(directory, "w2");
        bool postgres = engine.RunsOnPostgres;
        if (postgres)
        {
            try
            {
                if (_postgresError is not null)
                {
                    throw new InvalidOperationException(_postgresError);
                }

                try
                {
                    _postgres ??= _startPostgres(log);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    _postgresError = ex.Message; // the next PostgreSQL peer of this run does not try again
                    throw;
                }

                result.Server = _postgres.Description;
                w1Dir = _postgres.CreateDatabase(key, "w1");
                w2Dir = _postgres.CreateDatabase(key, "w2");
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                foreach (var w in Enum.GetValues<Workload>())
                {
                    result.Measurements[w] = Measurement.Failed("no PostgreSQL server: " + ex.Message);
                }

                log.WriteLine("   no PostgreSQL server: " + ex);
                return result;
            }
        }

        bool w1Ok = false;
        if (postgres)
        {
            WarmUp(engine, key);
        }

        // W1 append + W8 bytes on disk.
        try
        {
            engine.Prepare(data);
            engine.CreateForAppend(w1Dir, config.SyncEvery);
            Settle();
            long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            long start = Stopwatch.GetTimestamp();
            engine.AppendAll(data, config.SyncEvery);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            engine.Close();
            result.Measurements[Workload.W1Append] = new Measurement(data.Count / seconds, data.Count, data.Count, seconds);
            result.AllocationPerAppend = new Measurement(allocated / (double)data.Count, -1, -1, seconds);
            long bytes = postgres ? PgBenchServer.RelationBytes(w1Dir) : BenchEngine.DirectoryBytes(w1Dir);
            string split = !postgres && engine.SplitBytes(w1Dir) is { } parts
                ? string.Create(CultureInfo.InvariantCulture, $"; segments {parts.Log:N0} bytes ({parts.Log / (double)data.Count:F1} B/event), index and other files {parts.Other:N0} bytes ({parts.Other / (double)data.Count:F1} B/event)")
                : "";
            result.Measurements[Workload.W8Bytes] = new Measurement(bytes / (double)data.Count, -1, -1, 0, bytes.ToString("N0", CultureInfo.InvariantCulture) + " bytes total" + (postgres ? " (pg_total_relation_size of the database's tables)" : "") + split);
            if (postgres)
            {
                PgBenchServer.Settle(w1Dir, vacuum: true); // untimed: VACUUM (ANALYZE) + CHECKPOINT before the reads
            }

            w1Ok = true;
            Report(Workload.W1Append, result);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            result.Measurements[Workload.W1Append] = Measurement.Failed(ex.Message);
            log.WriteLine("   W1 failed: " + ex);
            engine.Close();
        }

        // W6 reopen in a fresh process.
        if (w1Ok && !engine.Supports(Workload.W6Reopen))
        {
            result.Measurements[Workload.W6Reopen] = Measurement.NotApplicable(engine.NotApplicableReason(Workload.W6Reopen));
        }
        else if (w1Ok)
        {
            BenchEngine.WarmPageCache(w1Dir);
            var outcome = _reopen(engine.Key, w1Dir);
            if (outcome.Error is not null)
            {
                result.Measurements[Workload.W6Reopen] = Measurement.Failed(outcome.Error);
            }
            else
            {
                double seconds = outcome.Milliseconds / 1000;
                result.ReopenMilliseconds = outcome.Milliseconds;
                result.Measurements[Workload.W6Reopen] = new Measurement(
                    data.Count / seconds,
                    outcome.Events < 0 ? -1 : data.Count,
                    outcome.Events,
                    seconds,
                    string.Create(CultureInfo.InvariantCulture, $"{outcome.Milliseconds:F1} ms") + (outcome.Events < 0 ? "; engine does not report a count (no index to build)" : null) + (outcome.Note is null ? null : "; " + outcome.Note));
            }

            Report(Workload.W6Reopen, result);
        }

        // Reads on the W1 store.
        if (w1Ok)
        {
            try
            {
                if (!postgres)
                {
                    BenchEngine.WarmPageCache(w1Dir);
                }

                engine.OpenExisting(w1Dir);
                Measure(engine, result, Workload.W3PointRead, config.Reads, () => engine.PointReads(data, readIndexes));
                Measure(engine, result, Workload.W3ByStream, config.Reads, () => engine.PointReadsByStream(data, readIndexes));
                Measure(engine, result, Workload.W4Streams, data.Count, () => engine.ReadAllStreams(data));
                Measure(engine, result, Workload.W5Scope, data.Count, () => data.Scopes.Sum(engine.QueryScope));
                Measure(engine, result, Workload.W5Kind, data.Count, () => Dataset.KindValues.Sum(k => engine.QueryKind(k)));
                var sums = new long[data.EntityCount];
                Measure(engine, result, Workload.W7Fold, data.Count, () =>
                {
                    long folded = engine.FoldAll(data, sums);
                    return sums.AsSpan().SequenceEqual(data.SumPerEntity) ? folded : -folded;
                });
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                log.WriteLine("   read phase failed: " + ex);
                foreach (var w in new[] { Workload.W3PointRead, Workload.W3ByStream, Workload.W4Streams, Workload.W5Scope, Workload.W5Kind, Workload.W7Fold })
                {
                    result.Measurements.TryAdd(w, Measurement.Failed(ex.Message));
                }
            }
            finally
            {
                engine.Close();
            }
        }

        // W2 durable appends on a fresh store.
        try
        {
            if (postgres)
            {
                PgBenchServer.Settle(w2Dir, vacuum: false);
            }

            engine.CreateForDurable(w2Dir);
            Settle();
            long start = Stopwatch.GetTimestamp();
            long acknowledged = engine.AppendDurable(data, config.DurableEvents, config.Concurrency);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            result.Measurements[Workload.W2Durable] = new Measurement(acknowledged / seconds, config.DurableEvents, acknowledged, seconds, engine.DescribeWorkload(Workload.W2Durable));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            result.Measurements[Workload.W2Durable] = Measurement.Failed(ex.Message);
            log.WriteLine("   W2 failed: " + ex);
        }
        finally
        {
            engine.Close();
        }

        Report(Workload.W2Durable, result);
        if (postgres && !config.Keep)
        {
            try
            {
                _postgres?.DropDatabases();
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
            {
                log.WriteLine("   could not drop this peer's databases: " + ex.Message);
            }
        }

        foreach (var w in Enum.GetValues<Workload>())
        {
            result.Measurements.TryAdd(w, Measurement.NotApplicable(w1Ok ? "n/a" : "W1 failed"));
        }

        return result;
    }

    /// <summary>
    /// Untimed, for every PostgreSQL peer alike: W1's code on 40 batches in a throwaway database, then a pause, so
    /// that the first peer of a run does not pay the process's first use of Npgsql inside its timed W1 (the JIT's
    /// tier-up needs 30 calls of a per-batch method and a background compile; with five batches of warm-up the
    /// first peer still measured 25-30% below its figure in last place). A failure here is left for the timed W1.
    /// </summary>
    private void WarmUp(BenchEngine engine, string key)
    {
        try
        {
            var warm = Dataset.Generate(Math.Min(config.Events, 40 * config.SyncEvery), config.Entities, config.Scopes, config.PayloadBytes, config.Seed + 2);
            engine.Prepare(warm);
            engine.CreateForAppend(_postgres!.CreateDatabase(key, "warm"), config.SyncEvery);
            engine.AppendAll(warm, config.SyncEvery);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            log.WriteLine("   warm-up failed: " + ex.Message);
        }
        finally
        {
            engine.Close();
        }

        Thread.Sleep(1000); // the tiered JIT's background compiles land
    }

    private void Measure(BenchEngine engine, EngineResult result, Workload workload, long expected, Func<long> body)
    {
        if (!engine.Supports(workload))
        {
            result.Measurements[workload] = Measurement.NotApplicable(engine.NotApplicableReason(workload));
            return;
        }

        Settle();
        long start = Stopwatch.GetTimestamp();
        long actual = body();
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        result.Measurements[workload] = new Measurement(Math.Abs(actual) / seconds, expected, actual, seconds, actual < 0 ? "fold sums differ from the dataset" : null);
        Report(workload, result);
    }

    private void Report(Workload workload, EngineResult result)
    {
        if (result.Measurements.TryGetValue(workload, out var m))
        {
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"   {(result.OnPostgres ? ReportWriter.PostgresLabel(workload) : ReportWriter.Label(workload)),-28} {ReportWriter.Format(workload, m),16}  ({m.Seconds:F3} s{(m.IsValid || double.IsNaN(m.Value) ? "" : $", COUNT MISMATCH {m.Actual}/{m.Expected}")}{(m.Note is null ? "" : "; " + m.Note)})"));
        }
    }

    /// <summary>Lets background work of the previous step finish so it is not charged to the next one.</summary>
    private static void Settle()
    {
#pragma warning disable RS0030 // A benchmark harness collects between timed sections on purpose.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
#pragma warning restore RS0030
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
