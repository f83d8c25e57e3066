// Owns the store every Tamper*Tests class damages: how it is written (entities, a causal chain, an idempotency key,
// an atomic batch, a gate bypass, an entity with exactly one event), how it is compacted first when a test asks for
// it, what was acknowledged (the images every fault is judged against), and its pristine segment files with their
// header lengths and frame positions. The faults themselves and the oracle live in TamperHarness.cs.
using System.Text;
using Batpak.Storage;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Tests.Faults;

/// <summary>What happens to the fixture's sealed segments before the faults are applied.</summary>
public enum TamperCompaction
{
    /// <summary>Nothing: the segments as the writer left them.</summary>
    None,

    /// <summary><c>Compact()</c>: adjacent sealed segments merged, every event kept.</summary>
    Merge,

    /// <summary>Compaction whose retention predicate drops a few events.</summary>
    Drop,

    /// <summary>Compaction whose retention predicate tombstones the same few events.</summary>
    Tombstone,
}

/// <summary>Everything a read returns about one event. Two images are equal when every field is.</summary>
internal sealed record EventImage(
    EventId Id,
    long GlobalSequence,
    long EntitySequence,
    Coordinate Coordinate,
    EventKind Kind,
    string PayloadHex,
    EventFlags Flags,
    string? IdempotencyKey,
    string? BypassReason,
    EventId CorrelationId,
    EventId? CausationId,
    long TimestampMicroseconds,
    DagPosition Dag,
    EventHash PrevHash,
    EventHash Hash)
{
    public static EventImage Of(StoredEvent e) => new(
        e.Id, e.Header.GlobalSequence, e.Header.Position.Sequence, e.Coordinate, e.Kind, Convert.ToHexString(e.Payload.Span),
        e.Header.Flags, e.IdempotencyKey, e.BypassReason, e.Header.CorrelationId, e.Header.CausationId,
        e.Header.TimestampMicroseconds, e.Header.Position, e.Header.PrevHash, e.Header.Hash);

    /// <summary>The first field that differs from <paramref name="read"/>, as "field: expected -> read", or null.</summary>
    public string? FirstDifference(EventImage read)
    {
        (string Name, object? Expected, object? Read)[] fields =
        [
            ("EventId", Id, read.Id), ("GlobalSequence", GlobalSequence, read.GlobalSequence), ("EntitySequence", EntitySequence, read.EntitySequence),
            ("Coordinate", Coordinate, read.Coordinate), ("Kind", Kind, read.Kind), ("Payload", PayloadHex, read.PayloadHex), ("Flags", Flags, read.Flags),
            ("IdempotencyKey", IdempotencyKey, read.IdempotencyKey), ("BypassReason", BypassReason, read.BypassReason),
            ("CorrelationId", CorrelationId, read.CorrelationId), ("CausationId", CausationId, read.CausationId),
            ("Timestamp", TimestampMicroseconds, read.TimestampMicroseconds), ("DagPosition", Dag, read.Dag),
            ("PrevHash", PrevHash, read.PrevHash), ("Hash", Hash, read.Hash),
        ];
        foreach ((string name, object? expected, object? actual) in fields)
        {
            if (!Equals(expected, actual))
            {
                return $"{name}: {Show(expected)} -> {Show(actual)}";
            }
        }

        return null;
    }

    private static string Show(object? value) => value switch
    {
        null => "null",
        string { Length: > 24 } s => s[..24] + "...",
        _ => value.ToString() ?? "?",
    };
}

/// <summary>One frame of a pristine segment file, as <c>SegmentScanner.Scan</c> reports it.</summary>
internal readonly record struct FrameSpan(long GlobalSequence, EventId Id, long Offset, int Length)
{
    public long End => Offset + Length;
}

/// <summary>
/// A closed store of about 60 events over 4 to 6 segment files (the last one active, holding at least two events),
/// written once per test. The test damages copies of <see cref="Files"/>, never the pristine directory.
/// </summary>
internal sealed class TamperFixture : IDisposable
{
    public const long SegmentBytes = 4096;
    private const int MinEvents = 60;
    private static readonly Coordinate s_a = new("acct:a", "bank");
    private static readonly Coordinate s_b = new("acct:b", "bank");
    private static readonly Coordinate s_c = new("acct:c", "bank");
    private static readonly Coordinate s_log = new("audit:log", "ops");
    private static readonly Coordinate s_solo = new("solo:only", "ops");
    private static readonly Coordinate s_ended = new("acct:z", "bank"); // as long as acct:a..c: swapping it in moves no frame
    private static readonly Coordinate[] s_rotation = [s_a, s_b, s_c, s_log];
    private static readonly DateTimeOffset s_start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly ScratchDirectory _pristine = new();
    private ManualTimeProvider _time = new(s_start);
    private readonly Dictionary<string, int> _headerLengths = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<FrameSpan>> _frames = new(StringComparer.Ordinal);
    private HashSet<EventId> _rejected = []; // the events retention dropped or tombstoned

    private TamperFixture(TamperCompaction compaction)
    {
        try
        {
            Compaction = compaction;
            WriteAndLoad(compaction);
        }
        catch
        {
            _pristine.Dispose();
            throw;
        }
    }

    private void WriteAndLoad(TamperCompaction compaction)
    {
        List<Appended> appended = WriteWithAnEntityEndingASealedSegment();
        List<EventImage> acknowledged = compaction == TamperCompaction.None ? ReadBack() : Compact(compaction, appended);

        // A fresh open of the untouched files must give exactly what was acknowledged: the baseline every fault is judged against.
        Acknowledged = ReadBack();
        Assert.Equal(acknowledged, Acknowledged);
        CheckAgainstAppended(appended);

        foreach (string path in Directory.GetFiles(_pristine.Path, "*" + FrameFormat.SegmentExtension).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(path);
            Files[name] = File.ReadAllBytes(path);
            _headerLengths[name] = FrameFormat.TryReadSegmentHeader(path)!.Value.Length;
            _frames[name] = ScanFrames(path, name);
        }

        SegmentNames = [.. Files.Keys];
        Assert.InRange(SegmentNames.Count, compaction == TamperCompaction.None ? 4 : 3, 6);
        Assert.True(FramesOf(ActiveName).Count >= 2, $"the active segment {ActiveName} holds {FramesOf(ActiveName).Count} frames");
        Assert.Equal(Acknowledged.Count, SegmentNames.Sum(n => FramesOf(n).Count));
        if (compaction == TamperCompaction.None)
        {
            string endedSegment = SegmentNames.Single(n => FramesOf(n).Any(f => f.Id == EndedId));
            Assert.True(endedSegment != ActiveName && FramesOf(endedSegment)[^1].Id == EndedId, $"acct:z should be the last frame of a sealed segment: {Describe()}");
        }

        string soloSegment = SegmentNames.Single(n => FramesOf(n).Any(f => f.Id == SoloId));
        Assert.True(soloSegment != ActiveName && FramesOf(soloSegment)[0].Id != SoloId && FramesOf(soloSegment)[^1].Id != SoloId, $"the solo event should sit inside a sealed segment, not at an end of one: {Describe()}");
    }

    public TamperCompaction Compaction { get; }

    /// <summary>The events a read returned right after the fixture was written (and compacted), in global order.</summary>
    public IReadOnlyList<EventImage> Acknowledged { get; private set; } = [];

    /// <summary>The pristine segment files by name; never changed.</summary>
    public SortedDictionary<string, byte[]> Files { get; } = new(StringComparer.Ordinal);

    /// <summary>The segment file names, ascending; the last is the active segment.</summary>
    public IReadOnlyList<string> SegmentNames { get; private set; } = [];

    public string ActiveName => SegmentNames[^1];

    public IEnumerable<string> SealedNames => SegmentNames.Take(SegmentNames.Count - 1);

    /// <summary>A segment id no file has: one past the active segment.</summary>
    public int UnusedId => SegmentId(ActiveName) + 1;

    /// <summary>The id of the only event of an entity whose one event sits inside a sealed segment.</summary>
    public EventId SoloId { get; private set; }

    /// <summary>The id of the only event of an entity whose one event is the last frame of a sealed segment (before any compaction).</summary>
    public EventId EndedId { get; private set; }

    public static TamperFixture Build(TamperCompaction compaction = TamperCompaction.None) => new(compaction);

    public static int SegmentId(string name) => FrameFormat.TryParseSegmentFileName(name, out int id) ? id : throw new ArgumentException(name, nameof(name));

    /// <summary>The length of the segment header of a pristine file, as the format reports it (whatever its layout).</summary>
    public int HeaderLength(string name) => _headerLengths[name];

    public IReadOnlyList<FrameSpan> FramesOf(string name) => _frames[name];

    public EventStore Open(string directory) => TestEvents.Open(directory, o => o.SegmentMaxBytes = SegmentBytes, _time);

    public string Describe() => $"{Compaction} fixture: {Acknowledged.Count} events in {SegmentNames.Count} segments ({string.Join(", ", SegmentNames.Select(n => $"{n}: {FramesOf(n).Count}"))})";

    public void Dispose() => _pristine.Dispose();

    private sealed record Appended(AppendReceipt Receipt, Coordinate Coordinate, EventKind Kind, byte[] Payload, EventFlags Flags, string? Key, string? Bypass, EventId? Cause, EventId Correlation);

    /// <summary>
    /// Writes the script once into a scratch directory to learn which plain append ends a sealed segment (the second
    /// one when it can), then writes it for real with that append's entity replaced by one of the same length that has
    /// no other event: the layout is the same, and a cut at that frame's start leaves no later event of its entity to
    /// notice it.
    /// </summary>
    private List<Appended> WriteWithAnEntityEndingASealedSegment()
    {
        Dictionary<int, int> stepOf = [];
        List<Appended> trial;
        using (var scratch = new ScratchDirectory())
        {
            trial = Write(scratch.Path, substituteStep: -1, stepOf);
        }

        int activeId = trial[^1].Receipt.Position.SegmentId;
        Appended? last = Enumerable.Range(2, Math.Max(0, activeId - 2))
            .Select(id => trial.Last(a => a.Receipt.Position.SegmentId == id))
            .FirstOrDefault(a => a.Key is null && a.Cause is null && a.Flags == EventFlags.None && (a.Coordinate == s_a || a.Coordinate == s_b || a.Coordinate == s_c) && stepOf[(int)a.Receipt.GlobalSequence] >= 0);
        Assert.True(last is not null, "no sealed segment ends with a plain append");
        _time = new ManualTimeProvider(s_start);
        List<Appended> appended = Write(_pristine.Path, stepOf[(int)last.Receipt.GlobalSequence], []);
        EndedId = appended[(int)last.Receipt.GlobalSequence].Receipt.EventId;
        Assert.Equal(last.Receipt.Position, appended[(int)last.Receipt.GlobalSequence].Receipt.Position);
        return appended;
    }

    /// <summary>Writes the fixture's script; the plain append of <paramref name="substituteStep"/> goes to <c>acct:z</c>. Fills <paramref name="stepOf"/> (global sequence to script step; -1 inside a batch).</summary>
    private List<Appended> Write(string directory, int substituteStep, Dictionary<int, int> stepOf)
    {
        var appended = new List<Appended>();
        using EventStore store = Open(directory);

        Appended Single(Coordinate c, EventKind kind, AppendOptions? options = null)
        {
            byte[] payload = Payload(appended.Count);
            options ??= AppendOptions.Default;
            AppendReceipt receipt = store.Append(c, kind, payload, options);
            Tick(appended.Count);
            return Add(receipt, c, kind, payload, options, cause: null, correlation: receipt.EventId);
        }

        Appended Reaction(Appended cause, Coordinate c)
        {
            byte[] payload = Payload(appended.Count);
            AppendReceipt receipt = store.AppendReaction(cause.Receipt.EventId, c, TestEvents.Audit, payload);
            Tick(appended.Count);
            return Add(receipt, c, TestEvents.Audit, payload, AppendOptions.Default, cause.Receipt.EventId, cause.Correlation);
        }

        Appended Add(AppendReceipt receipt, Coordinate c, EventKind kind, byte[] payload, AppendOptions options, EventId? cause, EventId correlation)
        {
            var written = new Appended(receipt, c, kind, payload, options.Flags, options.IdempotencyKey, options.BypassReason, cause, correlation);
            appended.Add(written);
            return written;
        }

        Appended? root = null, reaction = null;
        for (int step = 0; appended.Count < MinEvents || appended.Count(a => a.Receipt.Position.SegmentId == appended[^1].Receipt.Position.SegmentId) < 2; step++)
        {
            Coordinate next = step == substituteStep ? s_ended : s_rotation[step % s_rotation.Length];
            int before = appended.Count;
            switch (step)
            {
                case 4:
                    root = Single(s_a, TestEvents.Created);
                    break;
                case 5:
                    reaction = Reaction(root!, s_log);
                    break;
                case 6:
                    Reaction(reaction!, s_c); // a chain of depth 2: correlation inherited from the root
                    break;
                case 9:
                    Single(s_b, TestEvents.Updated, new AppendOptions { IdempotencyKey = "order-9" });
                    break;
                case 17:
                    SoloId = Single(s_solo, TestEvents.Created).Receipt.EventId;
                    break;
                case 21:
                    byte[] p0 = Payload(appended.Count), p1 = Payload(appended.Count + 1), p2 = Payload(appended.Count + 2);
                    EventData[] batch = [new(s_a, TestEvents.Created, p0), new(s_log, TestEvents.Audit, p1), new(s_b, TestEvents.Updated, p2, new AppendOptions { IdempotencyKey = "batch-key" })];
                    IReadOnlyList<AppendReceipt> receipts = store.AppendBatch(batch);
                    Tick(appended.Count);
                    for (int i = 0; i < 3; i++)
                    {
                        Add(receipts[i], batch[i].Coordinate, batch[i].Kind, batch[i].Payload.ToArray(), batch[i].Options ?? AppendOptions.Default, null, receipts[i].EventId);
                    }

                    break;
                case 27:
                    Single(s_c, TestEvents.Updated, new AppendOptions { BypassReason = "gate bypassed by ops", Flags = EventFlags.Bypassed });
                    break;
                case 31:
                    Single(s_a, TestEvents.Updated, new AppendOptions { Flags = EventFlags.RequiresAck | EventFlags.Replay });
                    break;
                case 38:
                    Reaction(root!, s_b); // a late reaction to an event in the first segment
                    break;
                case 44:
                    Single(s_log, TestEvents.Audit, new AppendOptions { IdempotencyKey = "audit-44", Flags = EventFlags.Transactional });
                    break;
                default:
                    Single(next, step % 3 == 0 ? TestEvents.Created : TestEvents.Updated);
                    break;
            }

            for (int i = before; i < appended.Count; i++)
            {
                stepOf[(int)appended[i].Receipt.GlobalSequence] = appended.Count - before == 1 ? step : -1;
            }
        }

        return appended;
    }

    /// <summary>Moves the clock: mostly 1 ms a step (HLC counter 0), sometimes not at all (counter above 0).</summary>
    private void Tick(int n) => _time.Advance(n % 4 == 3 ? TimeSpan.Zero : TimeSpan.FromMicroseconds(1000 + (n * 37 % 500)));

    /// <summary>Payloads of 70 to 240 bytes: with its header fields a frame takes about 300 bytes, so 60 events take 5 segments.</summary>
    private static byte[] Payload(int n) => Encoding.UTF8.GetBytes($"event-{n}:" + new string((char)('a' + (n % 26)), 60 + (n * 53 % 170)));

    private List<EventImage> Compact(TamperCompaction compaction, List<Appended> appended)
    {
        // Reopened with twice the segment size, so pairs of adjacent sealed segments merge into one file.
        int activeId = appended[^1].Receipt.Position.SegmentId;
        HashSet<EventId> rejected = [.. RejectedByRetention(appended, activeId)];
        using EventStore store = TestEvents.Open(_pristine.Path, o => o.SegmentMaxBytes = (2 * SegmentBytes) + 1024, _time);
        CompactionOptions options = compaction switch
        {
            TamperCompaction.Merge => new CompactionOptions(),
            TamperCompaction.Drop => new CompactionOptions { Retain = e => !rejected.Contains(e.Id), Mode = CompactionMode.Drop },
            _ => new CompactionOptions { Retain = e => !rejected.Contains(e.Id), Mode = CompactionMode.Tombstone },
        };
        CompactionResult result = store.Compact(options);
        Assert.True(result.SegmentsBefore > result.SegmentsAfter, $"compaction merged nothing: {result}");
        Assert.Equal(compaction == TamperCompaction.Drop ? rejected.Count : 0, result.EventsDropped);
        Assert.Equal(compaction == TamperCompaction.Tombstone ? rejected.Count : 0, result.EventsTombstoned);
        if (compaction != TamperCompaction.Merge)
        {
            _rejected = rejected;
        }

        return [.. store.ReadPage(0, 100_000).Events.Select(EventImage.Of)];
    }

    /// <summary>A few events of sealed segments: two in a row of one entity, an entity's first event, and the middle of the batch.</summary>
    private static IEnumerable<EventId> RejectedByRetention(List<Appended> appended, int activeId)
    {
        List<Appended> sealedEvents = [.. appended.Where(a => a.Receipt.Position.SegmentId < activeId)];
        foreach (Appended a in sealedEvents)
        {
            bool pick = (a.Coordinate == s_b && a.Receipt.EntitySequence is 1 or 2)
                || (a.Coordinate == s_c && a.Receipt.EntitySequence == 0)
                || (a.Coordinate == s_log && a.Receipt.EntitySequence == 3)
                || (a.Key == "batch-key");
            if (pick)
            {
                yield return a.Receipt.EventId;
            }
        }
    }

    private List<EventImage> ReadBack()
    {
        using EventStore store = Open(_pristine.Path);
        ChainVerification chain = store.VerifyAll();
        Assert.True(chain.IsValid, $"the pristine fixture does not verify: {chain.Failure}");
        List<StoredEvent> all = store.ReadPage(0, 100_000).Events.ToList();
        Assert.All(all, e => Assert.Equal(EventImage.Of(e), EventImage.Of(store.Get(e.Id))));
        return [.. all.Select(EventImage.Of)];
    }

    /// <summary>Every acknowledged event reads back as it was appended (compaction's changes applied); dropped ones are gone.</summary>
    private void CheckAgainstAppended(List<Appended> appended)
    {
        Dictionary<EventId, EventImage> byId = Acknowledged.ToDictionary(e => e.Id);
        foreach (Appended a in appended)
        {
            bool rejected = _rejected.Contains(a.Receipt.EventId);
            if (rejected && Compaction == TamperCompaction.Drop)
            {
                Assert.False(byId.ContainsKey(a.Receipt.EventId));
                continue;
            }

            bool tombstone = rejected && Compaction == TamperCompaction.Tombstone;
            EventImage e = byId[a.Receipt.EventId];
            Assert.Equal((a.Receipt.GlobalSequence, a.Receipt.EntitySequence, a.Receipt.Hash), (e.GlobalSequence, e.EntitySequence, e.Hash));
            Assert.Equal((a.Coordinate, a.Kind, tombstone ? string.Empty : Convert.ToHexString(a.Payload)), (e.Coordinate, e.Kind, e.PayloadHex));
            Assert.Equal((tombstone ? a.Flags | EventFlags.Tombstone : a.Flags, a.Key, a.Bypass), (e.Flags, e.IdempotencyKey, e.BypassReason));
            Assert.Equal((a.Correlation, a.Cause), (e.CorrelationId, e.CausationId));
        }
    }

    private static List<FrameSpan> ScanFrames(string path, string name)
    {
        var frames = new List<FrameSpan>();
        using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        SegmentScanner.Scan(handle, SegmentId(name), isLast: true, (ref FrameFormat.FrameFields f, DiskPosition p) => frames.Add(new FrameSpan(f.GlobalSequence, f.EventId, p.Offset, p.Length)));
        frames.Sort((x, y) => x.Offset.CompareTo(y.Offset));
        return frames;
    }
}
