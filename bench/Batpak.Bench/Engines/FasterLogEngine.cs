using FASTER.core;

namespace Batpak.Bench.Engines;

/// <summary>
/// Microsoft FASTER's <see cref="FasterLog"/>: a raw append-only log with no index, the append upper bound. It
/// stores only the payload bytes (no coordinate, id, header or hash). It cannot read by id, stream one entity or
/// query scope/kind without a full scan, so those workloads are N/A; W7 is done as one full scan that groups by the
/// entity number embedded in the payload.
/// </summary>
internal sealed class FasterLogEngine : BenchEngine
{
    private FasterLogSettings? _settings;
    private FasterLog? _log;

    public override string Name => "FasterLog";

    public override string Key => "fasterlog";

    public override string Settings => "Microsoft.FASTER.Core 2.6.5 FasterLog, local device (FileOptions.WriteThrough = O_SYNC writes), 4 MiB pages, 64 MiB memory; W1 Commit(spinWait) every 1,000 enqueues; W2 EnqueueAndWaitForCommitAsync with AutoCommit; payload bytes only, no index";

    public override bool Supports(Workload workload) =>
        workload is not (Workload.W3PointRead or Workload.W3ByStream or Workload.W4Streams or Workload.W5Scope or Workload.W5Kind);

    private FasterLog Log => _log ?? throw new InvalidOperationException("Store not open.");

    private void Open(string directory, bool autoCommit)
    {
        Directory.CreateDirectory(directory);
        var device = Devices.CreateLogDevice(Path.Combine(directory, "events.log"), preallocateFile: false, deleteOnClose: false);
        _settings = new FasterLogSettings
        {
            LogDevice = device,
            LogCommitDir = Path.Combine(directory, "commits"),
            PageSize = 1L << 22,
            MemorySize = 1L << 26,
            SegmentSize = 1L << 30,
            AutoCommit = autoCommit,
        };
        _log = new FasterLog(_settings);
    }

    public override void CreateForAppend(string directory, int syncEvery) => Open(directory, autoCommit: false);

    public override void CreateForDurable(string directory) => Open(directory, autoCommit: true);

    public override void AppendAll(Dataset data, int syncEvery)
    {
        var log = Log;
        for (int i = 0; i < data.Count; i++)
        {
            log.Enqueue(data.Payloads[i]);
            if ((i + 1) % syncEvery == 0)
            {
                log.Commit(spinWait: true);
            }
        }

        log.Commit(spinWait: true);
    }

    public override long AppendDurable(Dataset data, int count, int concurrency)
    {
        var log = Log;
        int next = -1;
        long acknowledged = 0;
        var tasks = new Task[concurrency];
        for (int t = 0; t < concurrency; t++)
        {
            tasks[t] = Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                {
                    await log.EnqueueAndWaitForCommitAsync(data.Payloads[i]).ConfigureAwait(false);
                    Interlocked.Increment(ref acknowledged);
                }
            });
        }

        Task.WaitAll(tasks);
        return acknowledged;
    }

    public override void OpenExisting(string directory) => Open(directory, autoCommit: false);

    public override long PointReads(Dataset data, int[] indexes) => throw new NotSupportedException();

    public override long ReadAllStreams(Dataset data) => throw new NotSupportedException();

    public override long QueryScope(string scope) => throw new NotSupportedException();

    public override long QueryKind(ushort kind) => throw new NotSupportedException();

    public override long FoldAll(Dataset data, long[] sums)
    {
        var log = Log;
        Array.Clear(sums);
        long read = 0;
        using var iterator = log.Scan(log.BeginAddress, log.TailAddress);
        while (iterator.GetNext(out byte[] entry, out int length, out _))
        {
            var payload = entry.AsSpan(0, length);
            int entity = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(payload[11..]);
            sums[entity] += Dataset.ReadAmount(payload);
            read++;
        }

        return read;
    }

    public override long ReopenProbe(string directory, Dataset? data)
    {
        Open(directory, autoCommit: false);
        return Log.TailAddress > Log.BeginAddress ? -1 : 0;
    }

    public override void Close()
    {
        _log?.Dispose();
        _log = null;
        _settings?.LogDevice?.Dispose();
        _settings?.Dispose();
        _settings = null;
    }
}
