// Owns the regression test for a full disk at segment rotation (ENOSPC while creating the next segment): callers
// fail with WriterCrashedException instead of hanging, nothing is left behind that breaks later rotations, Dispose
// returns, and the store opens (also read-only) and reads every acknowledged event while the disk is still full.
using System.Text;
using Xunit.Abstractions;

namespace Batpak.Tests.Faults;

public sealed class RotationDiskFullTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);

    private enum Trigger
    {
        Append,
        AppendAsync,
        AppendBatch,
    }

    [SkippableFact]
    public void Rotate_DiskFull_FailsTheCallersInsteadOfHanging_AndTheStoreReopensAndReadsWhileFull()
    {
        using var dir = new TempDirectory();
        using Tmpfs? tmpfs = Tmpfs.TryMount(dir.Combine("tmpfs"), "256k", out string why);
        Skip.If(tmpfs is null, $"mounting a 256 KiB tmpfs failed ({why}); run as root on Linux to test a full disk.");

        int points = 4 * FaultSettings.Scale;
        int checkedEvents = 0;
        int lost = 0;
        for (int point = 0; point < points; point++)
        {
            var trigger = (Trigger)(point % 3);
            int segmentsBefore = 1 + (point % 2);
            int fillAt = 4096 + 300 + ((point % 4) * 900); // bytes into the active segment when the disk fills
            (int c, int l) = RunPoint(tmpfs.Path, point, trigger, segmentsBefore, fillAt);
            checkedEvents += c;
            lost += l;
        }

        output.WriteLine($"ENOSPC at rotation: {points} points tried, {checkedEvents} acknowledged checked, {lost} lost");
        Assert.Equal(0, lost);
    }

    private (int Checked, int Lost) RunPoint(string mount, int point, Trigger trigger, int segmentsBefore, int fillAt)
    {
        string data = Path.Combine(mount, $"store{point}");
        string filler = Path.Combine(mount, "filler");
        void Configure(BatpakOptions o)
        {
            o.SegmentMaxBytes = 8 * 1024;
            o.WriterRestartLimit = 1000;
        }

        var acked = new List<(AppendReceipt Receipt, byte[] Payload)>();
        var coordinate = new Coordinate($"acct:{point}", "bank");
        int n = 0;
        byte[] NextPayload() => Encoding.UTF8.GetBytes($"point {point} event {n++} " + new string('x', 180));

        int activeId;
        EventStore store = TestEvents.Open(data, Configure);
        try
        {
            // Fill segments until the active one is past its first page (so its bytes up to the rotation are allocated).
            while (store.GetStats().SegmentCount < segmentsBefore || ActiveLength(store) < fillAt)
            {
                byte[] p = NextPayload();
                acked.Add((store.Append(coordinate, TestEvents.Created, p), p));
            }

            Tmpfs.Fill(filler);
            int rotations = 0;
            store.Writer.FaultInjector = op => rotations += op == "rotate" ? 1 : 0;

            // Appends that still fit succeed; the first that needs a new segment fails, and must not hang.
            WriterCrashedException? crash = null;
            for (int i = 0; i < 100 && crash is null; i++)
            {
                int before = rotations;
                byte[][] payloads = trigger == Trigger.AppendBatch ? [NextPayload(), NextPayload()] : [NextPayload()];
                try
                {
                    AppendReceipt[] receipts = Bounded($"{trigger} on a full disk", () => AppendWith(store, trigger, coordinate, payloads));
                    acked.AddRange(receipts.Zip(payloads));
                }
                catch (WriterCrashedException ex)
                {
                    crash = ex;
                    Assert.True(rotations > before, $"point {point}: the failure was not at a rotation: {ex}");
                }
            }

            Assert.NotNull(crash);
            IOException io = Assert.IsAssignableFrom<IOException>(crash.InnerException);
            output.WriteLine($"point {point} ({trigger}, {segmentsBefore} segments, filled at {fillAt}): {acked.Count} acknowledged, then {io.Message}");

            // Every kind fails fast too while the disk is full, once it needs the rotation (a smaller append may still fit).
            foreach (Trigger again in Enum.GetValues<Trigger>())
            {
                bool failed = false;
                for (int i = 0; i < 40 && !failed; i++)
                {
                    byte[] p = NextPayload();
                    try
                    {
                        acked.Add((Bounded($"{again} again", () => AppendWith(store, again, coordinate, [p]))[0], p));
                    }
                    catch (WriterCrashedException)
                    {
                        failed = true;
                    }
                }

                Assert.True(failed, $"point {point}: {again} never needed the rotation");
            }

            AssertHasAll($"point {point}, read-only on the full disk", () => EventStore.OpenReadOnly(data), acked);

            // Space comes back: the writer resumes in place and later rotations work.
            File.Delete(filler);
            int segments = store.GetStats().SegmentCount;
            while (store.GetStats().SegmentCount < segments + 2)
            {
                byte[] p = NextPayload();
                acked.Add((Bounded("append after space came back", () => store.Append(coordinate, TestEvents.Created, p)), p));
            }

            // Full again, with the active segment nearly full: Dispose returns, and the store opens and reads.
            while (ActiveLength(store) < 8 * 1024 - 600)
            {
                byte[] p = NextPayload();
                acked.Add((store.Append(coordinate, TestEvents.Created, p), p));
            }

            Tmpfs.Fill(filler);
            activeId = store.Writer.ActiveSegmentId;
        }
        finally
        {
            Bounded("Dispose on a full disk", () =>
            {
                store.Dispose();
                return 0;
            });
        }

        // What a crash while creating the next segment leaves: an empty file. Open must not need to recreate it.
        File.Create(Path.Combine(data, Batpak.Storage.FrameFormat.SegmentFileName(activeId + 1))).Dispose();
        AssertHasAll($"point {point}, read-only on the full disk", () => EventStore.OpenReadOnly(data), acked);
        AssertHasAll($"point {point}, reopened on the full disk", () => TestEvents.Open(data, Configure), acked, reopened =>
            Assert.Throws<WriterCrashedException>(() => Bounded("append after reopening on the full disk", () => AppendWith(reopened, Trigger.Append, coordinate, [new byte[1000]]))));
        File.Delete(filler);
        int lost = AssertHasAll($"point {point}, reopened with space", () => TestEvents.Open(data, Configure), acked, reopened =>
            Assert.Equal(acked.Count, reopened.Append(new Coordinate("acct:after", "bank"), TestEvents.Created, new byte[10]).GlobalSequence));
        Directory.Delete(data, recursive: true);
        return (acked.Count, lost);
    }

    private static AppendReceipt[] AppendWith(EventStore store, Trigger trigger, Coordinate coordinate, byte[][] payloads) => trigger switch
    {
        Trigger.Append => [store.Append(coordinate, TestEvents.Created, payloads[0])],
        Trigger.AppendAsync => [store.AppendAsync(coordinate, TestEvents.Created, payloads[0]).AsTask().GetAwaiter().GetResult()],
        _ => store.AppendBatch(payloads.Select(p => new EventData(coordinate, TestEvents.Created, p)).ToArray()).ToArray(),
    };

    /// <summary>Runs <paramref name="action"/> on the thread pool and fails the test when it takes longer than the bound.</summary>
    private static T Bounded<T>(string what, Func<T> action) => BoundedCall.Run(what, s_bound, action);

    private static long ActiveLength(EventStore store) =>
        new FileInfo(Path.Combine(store.DataDirectory, Batpak.Storage.FrameFormat.SegmentFileName(store.Writer.ActiveSegmentId))).Length;

    /// <summary>Opens the store, checks that every acknowledged event is there with its payload, and returns how many are missing.</summary>
    private static int AssertHasAll(string what, Func<EventStore> open, List<(AppendReceipt Receipt, byte[] Payload)> acked, Action<EventStore>? then = null)
    {
        using EventStore store = Bounded(what + ": open", open);
        int lost = 0;
        foreach ((AppendReceipt receipt, byte[] payload) in acked)
        {
            if (!store.TryGet(receipt.EventId, out StoredEvent? e))
            {
                lost++;
                continue;
            }

            Assert.True(e.Payload.Span.SequenceEqual(payload), $"{what}: event {receipt.GlobalSequence} has another payload");
        }

        Assert.True(lost == 0, $"{what}: {lost} of {acked.Count} acknowledged events are missing");
        Assert.Equal(acked.Count, store.GetStats().EventCount);
        Assert.True(store.VerifyAll().IsValid, what);
        then?.Invoke(store);

        return lost;
    }
}
