namespace Batpak.Bench.Engines;

/// <summary>The workloads of one bench run.</summary>
internal enum Workload
{
    W1Append,
    W2Durable,
    W3PointRead,
    W4Streams,
    W5Scope,
    W5Kind,
    W6Reopen,
    W7Fold,
    W8Bytes,

    /// <summary>
    /// W3 by stream position: the event at <c>(entity, sequence)</c>. Only the PostgreSQL section measures it (Marten's
    /// read by event id is its slow path, so the comparison needs its by-stream read, too).
    /// </summary>
    W3ByStream,
}

/// <summary>
/// One engine under test. The runner calls, in order: <see cref="CreateForAppend"/> + <see cref="AppendAll"/> (W1),
/// <see cref="Close"/>, <see cref="ReopenProbe"/> in a child process (W6), <see cref="OpenExisting"/> + the read
/// workloads, <see cref="Close"/>, then <see cref="CreateForDurable"/> + <see cref="AppendDurable"/> + <see cref="Close"/> (W2).
/// Only the append/read calls are timed; opening and closing are not (except in W6). A store's location is a directory,
/// or for <see cref="RunsOnPostgres"/> engines the connection string of a fresh database.
/// </summary>
internal abstract class BenchEngine : IDisposable
{
    /// <summary>Starts every appender thread, then waits for all of them.</summary>
    protected static void RunToCompletion(Thread[] threads)
    {
        foreach (var thread in threads)
        {
            thread.Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }
    }

    /// <summary>
    /// W2's shape: <paramref name="concurrency"/> appender threads (named <c>Key-appender-t</c>), each taking the next
    /// event number until <paramref name="count"/> are taken; <paramref name="perThread"/> runs on each thread first
    /// and returns the action that appends event <c>i</c> (one acknowledgement when it returns). Returns the
    /// acknowledgements.
    /// </summary>
    protected long RunAppenders(int count, int concurrency, Func<Action<int>> perThread)
    {
        int next = -1;
        long acknowledged = 0;
        var threads = new Thread[concurrency];
        for (int t = 0; t < concurrency; t++)
        {
            threads[t] = new Thread(() =>
            {
                Action<int> append = perThread();
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                {
                    append(i);
                    Interlocked.Increment(ref acknowledged);
                }
            })
            { Name = Key + "-appender-" + t, IsBackground = true };
        }

        RunToCompletion(threads);
        return acknowledged;
    }

    public abstract string Name { get; }

    /// <summary>The command-line key (<c>--engines</c>, <c>reopen --engine</c>).</summary>
    public abstract string Key { get; }

    /// <summary>Why this build cannot run the engine (it was compiled without it), or null when it can.</summary>
    public virtual string? UnavailableReason => null;

    /// <summary>Whether the engine measures <paramref name="workload"/>; W3ByStream is for the PostgreSQL section only.</summary>
    public virtual bool Supports(Workload workload) => workload != Workload.W3ByStream || RunsOnPostgres;

    /// <summary>Why a workload <see cref="Supports"/> rejects is "n/a", for the report.</summary>
    public virtual string NotApplicableReason(Workload workload) =>
        workload == Workload.W3ByStream && !RunsOnPostgres ? "measured in the PostgreSQL section only" : "no index (raw log)";

    /// <summary>
    /// <see langword="true"/> for the PostgreSQL section's peers: the runner then passes each store's location as the
    /// connection string of a fresh database (instead of a directory), measures W8 with <c>pg_total_relation_size</c>
    /// and reports W6 as n/a (a server-side store has no local open to time).
    /// </summary>
    public virtual bool RunsOnPostgres => false;

    /// <summary>Untimed set-up before W1/W2 (per-dataset tables an application would hold anyway).</summary>
    public virtual void Prepare(Dataset data)
    {
    }

    /// <summary>Creates an empty store in <paramref name="directory"/> set up for bulk appends with an fsync every <paramref name="syncEvery"/> events.</summary>
    public abstract void CreateForAppend(string directory, int syncEvery);

    /// <summary>W1: appends every event of <paramref name="data"/> from one thread; returns when all are acknowledged and the last fsync is done.</summary>
    public abstract void AppendAll(Dataset data, int syncEvery);

    /// <summary>Creates an empty store in <paramref name="directory"/> set up for durable (fsync-acknowledged) appends.</summary>
    public abstract void CreateForDurable(string directory);

    /// <summary>W2: <paramref name="concurrency"/> appenders share <paramref name="count"/> events, each acknowledged after an fsync; returns the acknowledged count.</summary>
    public abstract long AppendDurable(Dataset data, int count, int concurrency);

    /// <summary>Opens the store W1 wrote, for the read workloads.</summary>
    public abstract void OpenExisting(string directory);

    /// <summary>W3: reads the events at <paramref name="indexes"/> (dataset order) by id; returns how many were found with the right payload length.</summary>
    public abstract long PointReads(Dataset data, int[] indexes);

    /// <summary>W3 by stream: reads the event at <c>(entity, sequence)</c> of each of <paramref name="indexes"/>; returns how many were found with the right payload length.</summary>
    public virtual long PointReadsByStream(Dataset data, int[] indexes) =>
        throw new NotSupportedException($"{Name} does not measure {Workload.W3ByStream}.");

    /// <summary>W4: reads every entity's stream in sequence order; returns the events read.</summary>
    public abstract long ReadAllStreams(Dataset data);

    /// <summary>W5: reads one scope's events; returns the count.</summary>
    public abstract long QueryScope(string scope);

    /// <summary>W5: reads one kind's events; returns the count.</summary>
    public abstract long QueryKind(ushort kind);

    /// <summary>W7: folds every entity's stream (sum of the payload amount) into <paramref name="sums"/>; returns the events folded.</summary>
    public abstract long FoldAll(Dataset data, long[] sums);

    /// <summary>W6, in a fresh process: opens the store until it can serve reads; returns the events it reports (or -1 when it cannot tell cheaply).</summary>
    public abstract long ReopenProbe(string directory, Dataset? data);

    /// <summary>After <see cref="ReopenProbe"/>: what the engine says it did while opening (for the report), or null.</summary>
    public virtual string? DescribeOpen() => null;

    /// <summary>After a workload: a remark for its measurement (retries, fallbacks), or null.</summary>
    public virtual string? DescribeWorkload(Workload workload) => null;

    /// <summary>Closes the open store, flushing what the engine flushes on close.</summary>
    public abstract void Close();

    /// <summary>A one-line note for the report (settings that matter for fairness).</summary>
    public abstract string Settings { get; }

    public void Dispose()
    {
        Close();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Reads every file under <paramref name="directory"/> once, so the OS page cache holds the store before a timed
    /// open or read (this VM trims its page cache over minutes; the workloads are documented as page-cache warm).
    /// </summary>
    public static long WarmPageCache(string directory)
    {
        byte[] buffer = new byte[1 << 20];
        long total = 0;
        foreach (string file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                total += read;
            }
        }

        return total;
    }

    /// <summary>
    /// W8's split of <paramref name="directory"/>'s bytes into the event log and the rest (index files, cursors,
    /// caches), for an engine whose log files can be told apart; null otherwise (W8 then reports the total alone).
    /// </summary>
    public virtual (long Log, long Other)? SplitBytes(string directory) => null;

    /// <summary>Bytes of every file under <paramref name="directory"/> (apparent size).</summary>
    public static long DirectoryBytes(string directory) =>
        Directory.Exists(directory)
            ? new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length)
            : 0;
}
