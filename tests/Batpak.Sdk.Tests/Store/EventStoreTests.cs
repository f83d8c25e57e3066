using System.Collections.Concurrent;
using System.Text;
using Batpak.Storage;

namespace Batpak.Tests.Store;

public class EventStoreTests
{
    private static readonly Coordinate s_alice = new("acct:alice", "bank");
    private static readonly Coordinate s_bob = new("acct:bob", "bank");
    private static readonly Coordinate s_log = new("audit:log", "ops");

    [Fact]
    public void Reopen_AfterThreeRotations_ReturnsEveryEventInOrder()
    {
        using var dir = new TempDirectory();
        var written = new List<AppendReceipt>();
        using (EventStore store = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 4096))
        {
            for (int i = 0; written.Count < 200; i++)
            {
                written.Add(store.Append(i % 2 == 0 ? s_alice : s_bob, TestEvents.Created, TestEvents.Payload(i)));
            }

            Assert.True(store.GetStats().SegmentCount >= 4, "the test needs at least 3 rotations");
        }

        using (EventStore reopened = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 4096))
        {
            EventPage page = reopened.ReadAll(0, 1000);
            Assert.True(page.IsEnd);
            Assert.Equal(written.Select(r => r.EventId), page.Events.Select(e => e.Id));
            Assert.Equal(Enumerable.Range(0, 200).Select(i => $"payload-{i}"), page.Events.Select(e => Encoding.UTF8.GetString(e.Payload.Span)));
            Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), reopened.Stream(s_alice.Entity).Select(e => e.Header.Position.Sequence));
            Assert.Equal(0, reopened.GetStats().Recovery.TruncatedBytes);

            // It keeps appending where it left off.
            AppendReceipt next = reopened.Append(s_alice, TestEvents.Updated, TestEvents.Payload(999));
            Assert.Equal(200, next.GlobalSequence);
            Assert.Equal(100, next.EntitySequence);
            Assert.True(reopened.Verify(s_alice.Entity).IsValid);
        }
    }

    [Fact]
    public void Append_ExpectedSequenceMismatch_ReportsExpectedAndActualAndAppendsNothing()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        store.Append(s_alice, TestEvents.Created, TestEvents.Payload(0), new AppendOptions { ExpectedSequence = AppendOptions.NoStream });
        store.Append(s_alice, TestEvents.Updated, TestEvents.Payload(1), new AppendOptions { ExpectedSequence = 0 });

        var ex = Assert.Throws<SequenceMismatchException>(() =>
            store.Append(s_alice, TestEvents.Updated, TestEvents.Payload(2), new AppendOptions { ExpectedSequence = 0 }));

        Assert.Equal("acct:alice", ex.Entity);
        Assert.Equal(0, ex.Expected);
        Assert.Equal(1, ex.Actual);
        Assert.Contains("expected", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, store.GetLastSequence(s_alice.Entity));
        Assert.Equal(2, store.GetStats().EventCount);
        Assert.Throws<SequenceMismatchException>(() =>
            store.Append(s_bob, TestEvents.Created, TestEvents.Payload(3), new AppendOptions { ExpectedSequence = 5 }));
    }

    [Fact]
    public void Append_DuplicateIdempotencyKey_ReturnsFirstReceiptAndStoresOneEvent_AlsoAfterReopen()
    {
        using var dir = new TempDirectory();
        var options = new AppendOptions { IdempotencyKey = "payment-42" };
        AppendReceipt first;
        using (EventStore store = TestEvents.Open(dir.Path))
        {
            first = store.Append(s_alice, TestEvents.Created, TestEvents.Payload(1), options);
            AppendReceipt second = store.Append(s_alice, TestEvents.Created, TestEvents.Payload(1), options);
            Assert.Equal(first, second);
            Assert.Single(store.Stream(s_alice.Entity));
            Assert.Equal("payment-42", store.Get(first.EventId).IdempotencyKey);
        }

        using (EventStore reopened = TestEvents.Open(dir.Path))
        {
            AppendReceipt third = reopened.Append(s_alice, TestEvents.Created, TestEvents.Payload(1), options);
            Assert.Equal(first, third);
            Assert.Equal(1, reopened.GetStats().EventCount);
        }
    }

    [Fact]
    public async Task AppendAsync_ConcurrentDuplicateKeys_StoreOneEvent()
    {
        using var dir = new TempDirectory();
        await using EventStore store = TestEvents.Open(dir.Path);
        var options = new AppendOptions { IdempotencyKey = "once" };
        AppendReceipt[] receipts = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            store.AppendAsync(s_alice, TestEvents.Created, TestEvents.Payload(1), options).AsTask()));

        Assert.Single(receipts.Distinct());
        Assert.Equal(1, store.GetStats().EventCount);
    }

    [Fact]
    public void Open_TruncatedLastFrame_DropsItReportsItAndKeepsAppending()
    {
        using var dir = new TempDirectory();
        AppendReceipt last;
        using (EventStore store = TestEvents.Open(dir.Path))
        {
            for (int i = 0; i < 9; i++)
            {
                store.Append(s_alice, TestEvents.Created, TestEvents.Payload(i));
            }

            last = store.Append(s_alice, TestEvents.Created, TestEvents.Payload(9));
        }

        string segment = dir.Combine("000001.fbat");
        long cut = last.Position.Offset + last.Position.Length - 5;
        using (var stream = new FileStream(segment, FileMode.Open))
        {
            stream.SetLength(cut);
        }

        using EventStore reopened = TestEvents.Open(dir.Path);
        RecoveryReport report = reopened.GetStats().Recovery;
        Assert.Equal(last.Position.Offset, report.TruncatedAtOffset);
        Assert.Equal(last.Position.Length - 5, report.TruncatedBytes);
        Assert.Contains("torn frame", report.TruncationReason, StringComparison.Ordinal);
        Assert.Equal(9, reopened.GetStats().EventCount);
        Assert.False(reopened.TryGet(last.EventId, out _));

        AppendReceipt next = reopened.Append(s_alice, TestEvents.Updated, TestEvents.Payload(100));
        Assert.Equal(9, next.EntitySequence);
        Assert.Equal(last.Position.Offset, next.Position.Offset);
        Assert.True(reopened.Verify(s_alice.Entity).IsValid);
    }

    [Fact]
    public void Open_FlippedByteInSealedSegment_ThrowsNamingSegmentAndOffset()
    {
        using var dir = new TempDirectory();
        AppendReceipt victim = default;
        using (EventStore store = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 4096))
        {
            for (int i = 0; i < 100; i++)
            {
                AppendReceipt r = store.Append(s_alice, TestEvents.Created, TestEvents.Payload(i));
                if (i == 5)
                {
                    victim = r;
                }
            }
        }

        Assert.Equal(1, victim.Position.SegmentId);
        FlipByte(dir.Combine("000001.fbat"), victim.Position.Offset + 20);

        var ex = Assert.Throws<CorruptSegmentException>(() => TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 4096));
        Assert.Equal(1, ex.SegmentId);
        Assert.Equal(victim.Position.Offset, ex.Offset);
        Assert.Contains("000001", ex.Message, StringComparison.Ordinal);
        Assert.Contains(victim.Position.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_FlippedByteInsideActiveSegmentWithGoodFramesAfter_ThrowsInsteadOfTruncating()
    {
        using var dir = new TempDirectory();
        AppendReceipt victim = default;
        using (EventStore store = TestEvents.Open(dir.Path))
        {
            for (int i = 0; i < 10; i++)
            {
                AppendReceipt r = store.Append(s_alice, TestEvents.Created, TestEvents.Payload(i));
                if (i == 3)
                {
                    victim = r;
                }
            }
        }

        FlipByte(dir.Combine("000001.fbat"), victim.Position.Offset + 30);

        var ex = Assert.Throws<CorruptSegmentException>(() => TestEvents.Open(dir.Path));
        Assert.Equal(victim.Position.Offset, ex.Offset);
        Assert.Contains("valid frames follow", ex.Message, StringComparison.Ordinal);
        Assert.True(new FileInfo(dir.Combine("000001.fbat")).Length > victim.Position.Offset + victim.Position.Length, "nothing may be cut away");
    }

    [Fact]
    public void Get_FrameCorruptedAfterOpen_ThrowsCorruptSegmentOnRead()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        AppendReceipt r = store.Append(s_alice, TestEvents.Created, TestEvents.Payload(1));
        FlipByte(dir.Combine("000001.fbat"), r.Position.Offset + 12);

        var ex = Assert.Throws<CorruptSegmentException>(() => store.Get(r.EventId));
        Assert.Equal(r.Position.Offset, ex.Offset);
        Assert.Contains("CRC", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_IntactChain_IsValid_TamperedPayloadWithFixedCrc_Fails()
    {
        using var dir = new TempDirectory();
        AppendReceipt tampered = default;
        using (EventStore store = TestEvents.Open(dir.Path))
        {
            for (int i = 0; i < 6; i++)
            {
                AppendReceipt r = store.Append(s_alice, TestEvents.Created, Encoding.UTF8.GetBytes($"amount={i}00"));
                store.Append(s_bob, TestEvents.Created, TestEvents.Payload(i));
                if (i == 2)
                {
                    tampered = r;
                }
            }

            ChainVerification ok = store.VerifyAll();
            Assert.True(ok.IsValid, ok.Failure);
            Assert.Equal(12, ok.EventsChecked);
        }

        // Rewrite "amount=200" as "amount=900" and recompute the CRC, as a forger would.
        string path = dir.Combine("000001.fbat");
        byte[] file = File.ReadAllBytes(path);
        Span<byte> frame = file.AsSpan((int)tampered.Position.Offset, tampered.Position.Length);
        int at = frame.IndexOf("amount=200"u8);
        Assert.True(at > 0);
        frame[at + 7] = (byte)'9';
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame[4..], System.IO.Hashing.Crc32.HashToUInt32(frame[8..]));
        File.WriteAllBytes(path, file);

        using EventStore reopened = TestEvents.Open(dir.Path);
        Assert.Equal("amount=900", Encoding.UTF8.GetString(reopened.Get(tampered.EventId).Payload.Span));
        ChainVerification bad = reopened.Verify(s_alice.Entity);
        Assert.False(bad.IsValid);
        Assert.Contains("sequence 2", bad.Failure, StringComparison.Ordinal);
        Assert.Contains("altered", bad.Failure, StringComparison.Ordinal);
        Assert.True(reopened.Verify(s_bob.Entity).IsValid);
        Assert.False(reopened.VerifyAll().IsValid);
    }

    [Fact]
    public void Append_EightThreadsConcurrently_LosesNothing()
    {
        using var dir = new TempDirectory();
        const int perThread = 500;
        var receipts = new ConcurrentBag<AppendReceipt>();
        using (EventStore store = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 64 * 1024))
        {
            Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
            {
                var mine = new Coordinate($"worker:{t}", "load");
                for (int i = 0; i < perThread; i++)
                {
                    receipts.Add(store.Append(i % 5 == 0 ? s_alice : mine, TestEvents.Created, TestEvents.Payload(t * perThread + i)));
                }
            });

            Assert.Equal(8 * perThread, store.GetStats().EventCount);
        }

        Assert.Equal(8 * perThread, receipts.Select(r => r.GlobalSequence).Distinct().Count());
        using EventStore reopened = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 64 * 1024);
        EventPage all = reopened.ReadAll(0, 10_000);
        Assert.Equal(8 * perThread, all.Events.Count);
        Assert.Equal(Enumerable.Range(0, 8 * perThread).Select(i => (long)i), all.Events.Select(e => e.Header.GlobalSequence));
        Assert.Equal(
            Enumerable.Range(0, 8 * perThread).Select(i => $"payload-{i}").Order(StringComparer.Ordinal),
            all.Events.Select(e => Encoding.UTF8.GetString(e.Payload.Span)).Order(StringComparer.Ordinal));
        Assert.Equal(Enumerable.Range(0, 8 * perThread / 5).Select(i => (long)i), reopened.Stream(s_alice.Entity).Select(e => e.Header.Position.Sequence));
        Assert.True(reopened.VerifyAll().IsValid);
    }

    [Fact]
    public void Read_FileHandleBudgetTwoWithTenSegments_ReadsEveryEvent()
    {
        using var dir = new TempDirectory();
        var ids = new List<EventId>();
        using (EventStore store = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 4096))
        {
            while (store.GetStats().SegmentCount < 10)
            {
                ids.Add(store.Append(new Coordinate($"e:{ids.Count % 7}", "s"), TestEvents.Created, new byte[100]).EventId);
            }
        }

        using EventStore reopened = TestEvents.Open(dir.Path, o =>
        {
            o.SegmentMaxBytes = 4096;
            o.FileHandleBudget = 2;
        });
        Assert.True(reopened.GetStats().SegmentCount >= 10);

        var random = new Random(7);
        foreach (EventId id in ids.OrderBy(_ => random.Next()))
        {
            Assert.Equal(id, reopened.Get(id).Id);
            Assert.True(reopened.Handles.Count <= 2);
        }

        Parallel.ForEach(ids, new ParallelOptions { MaxDegreeOfParallelism = 4 }, id => Assert.Equal(id, reopened.Get(id).Id));
        Assert.Equal(ids.Count, reopened.Query(Region.All).Count());
        Assert.True(reopened.Handles.Opens > 10, "the budget forced re-opens");
    }

    [Fact]
    public void Open_SecondStoreOnSameDirectory_ThrowsStoreLocked()
    {
        using var dir = new TempDirectory();
        using (EventStore first = TestEvents.Open(dir.Path))
        {
            var ex = Assert.Throws<StoreLockedException>(() => TestEvents.Open(dir.Path));
            Assert.Contains(first.DataDirectory, ex.Message, StringComparison.Ordinal);
        }

        using EventStore again = TestEvents.Open(dir.Path); // released on dispose
    }

    [Fact]
    public void AppendReaction_SetsCausationCorrelationAndDepth_WalkAncestorsAndByCorrelationFollowThem()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        AppendReceipt root = store.Append(s_alice, TestEvents.Created, TestEvents.Payload(0));
        AppendReceipt child = store.AppendReaction(root.EventId, s_bob, TestEvents.Updated, TestEvents.Payload(1));
        AppendReceipt grandchild = store.AppendReaction(child.EventId, s_log, TestEvents.Audit, TestEvents.Payload(2));
        AppendReceipt unrelated = store.Append(s_alice, TestEvents.Updated, TestEvents.Payload(3));

        StoredEvent g = store.Get(grandchild.EventId);
        Assert.Equal(child.EventId, g.Header.CausationId);
        Assert.Equal(root.EventId, g.Header.CorrelationId);
        Assert.Equal(2u, g.Header.Position.Depth);
        Assert.Equal(1u, store.Get(child.EventId).Header.Position.Depth);

        Assert.Equal(new[] { grandchild.EventId, child.EventId, root.EventId }, store.WalkAncestors(grandchild.EventId).Select(e => e.Id));
        Assert.Equal(new[] { grandchild.EventId, child.EventId }, store.WalkAncestors(grandchild.EventId, limit: 2).Select(e => e.Id));
        Assert.Equal(new[] { root.EventId, child.EventId, grandchild.EventId }, store.ByCorrelation(root.EventId).Select(e => e.Id));
        Assert.DoesNotContain(unrelated.EventId, store.ByCorrelation(root.EventId).Select(e => e.Id));

        var missing = new EventId(UInt128.MaxValue);
        Assert.Throws<EventNotFoundException>(() => store.AppendReaction(missing, s_alice, TestEvents.Updated, TestEvents.Payload(9)));
        Assert.Throws<EventNotFoundException>(() => store.WalkAncestors(missing));
        Assert.Equal(4, store.GetStats().EventCount);
    }

    [Fact]
    public void Query_ByScopeKindPrefixAndRanges_ReturnsMatchingEventsInGlobalOrder()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        store.Append(s_alice, TestEvents.Created, TestEvents.Payload(0));
        store.Append(s_bob, TestEvents.Created, TestEvents.Payload(1));
        store.Append(s_log, TestEvents.Audit, TestEvents.Payload(2));
        store.Append(s_alice, TestEvents.Updated, TestEvents.Payload(3));
        store.Append(new Coordinate("acct:carol", "other-bank"), TestEvents.Updated, TestEvents.Payload(4));

        static long[] Seqs(IEnumerable<StoredEvent> events) => events.Select(e => e.Header.GlobalSequence).ToArray();

        Assert.Equal(new long[] { 0, 1, 3 }, Seqs(store.ByScope("bank")));
        Assert.Equal(new long[] { 3, 4 }, Seqs(store.ByKind(TestEvents.Updated)));
        Assert.Equal(new long[] { 0, 1, 3, 4 }, Seqs(store.Query(Region.ForCategory(0x1))));
        Assert.Equal(new long[] { 0, 1, 3, 4 }, Seqs(store.Query(Region.ForEntityPrefix("acct:"))));
        Assert.Equal(new long[] { 3 }, Seqs(store.Query(Region.ForScope("bank").WithKinds(KindFilter.Exact(TestEvents.Updated)))));
        Assert.Equal(new long[] { 1, 2 }, Seqs(store.Query(Region.All.WithGlobalSequence(1, 2))));
        Assert.Equal(new long[] { 3 }, Seqs(store.Stream(s_alice.Entity, fromSequence: 1)));
        Assert.Empty(store.ByScope("nobody"));
        Assert.Empty(store.Stream("acct:nobody"));
    }

    [Fact]
    public void ReadAll_Paging_VisitsEveryEventOnce()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        for (int i = 0; i < 25; i++)
        {
            store.Append(s_alice, TestEvents.Created, TestEvents.Payload(i));
        }

        var seen = new List<long>();
        long next = 0;
        EventPage page;
        do
        {
            page = store.ReadAll(next, maxCount: 10);
            seen.AddRange(page.Events.Select(e => e.Header.GlobalSequence));
            next = page.NextGlobalSequence;
        }
        while (!page.IsEnd);

        Assert.Equal(Enumerable.Range(0, 25).Select(i => (long)i), seen);
        Assert.Empty(store.ReadAll(next).Events);
    }

    [Fact]
    public void Query_IsAConsistentViewAsOfTheCall()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        store.Append(s_alice, TestEvents.Created, TestEvents.Payload(0));
        IEnumerable<StoredEvent> query = store.Stream(s_alice.Entity);
        using IEnumerator<StoredEvent> e = query.GetEnumerator();
        Assert.True(e.MoveNext());
        store.Append(s_alice, TestEvents.Created, TestEvents.Payload(1));
        Assert.False(e.MoveNext());
    }

    [Fact]
    public void Snapshot_CopiesAConsistentStoreThatOpens()
    {
        using var dir = new TempDirectory();
        using var snapshotDir = new TempDirectory();
        string target = snapshotDir.Combine("copy");
        using EventStore store = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 4096);
        for (int i = 0; i < 80; i++)
        {
            store.Append(i % 3 == 0 ? s_bob : s_alice, TestEvents.Created, TestEvents.Payload(i));
        }

        store.Snapshot(target);
        store.Append(s_alice, TestEvents.Updated, TestEvents.Payload(1000)); // after the snapshot

        using EventStore copy = TestEvents.Open(target, o => o.SegmentMaxBytes = 4096);
        Assert.Equal(80, copy.GetStats().EventCount);
        Assert.True(copy.VerifyAll().IsValid);
        Assert.Equal(store.ReadAll(0, 80).Events.Select(e => e.Id), copy.ReadAll(0, 1000).Events.Select(e => e.Id));
        Assert.Throws<ArgumentException>(() => store.Snapshot(target)); // not empty
    }

    [Fact]
    public async Task Dispose_DrainsQueuedAppends_ThenRejectsNewOnes()
    {
        using var dir = new TempDirectory();
        EventStore store = TestEvents.Open(dir.Path);
        var pending = Enumerable.Range(0, 200).Select(i => store.AppendAsync(s_alice, TestEvents.Created, TestEvents.Payload(i)).AsTask()).ToList();
        store.Dispose();

        AppendReceipt[] receipts = await Task.WhenAll(pending);
        Assert.Equal(200, receipts.Select(r => r.GlobalSequence).Distinct().Count());
        Assert.Throws<ObjectDisposedException>(() => store.Append(s_alice, TestEvents.Created, TestEvents.Payload(0)));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.AppendAsync(s_alice, TestEvents.Created, TestEvents.Payload(0)));

        using EventStore reopened = TestEvents.Open(dir.Path);
        Assert.Equal(200, reopened.GetStats().EventCount);
    }

    [Fact]
    public async Task AppendAsync_IsDurable_AndSharesFsyncsAcrossConcurrentAppenders()
    {
        using var dir = new TempDirectory();
        await using EventStore store = TestEvents.Open(dir.Path, o => o.SyncEveryNEvents = 1_000_000);
        long before = store.GetStats().SyncCount;
        await Task.WhenAll(Enumerable.Range(0, 32).Select(async t =>
        {
            for (int i = 0; i < 20; i++)
            {
                await store.AppendAsync(new Coordinate($"w:{t}", "s"), TestEvents.Created, TestEvents.Payload(i));
            }
        }));

        StoreStats stats = store.GetStats();
        Assert.Equal(640, stats.EventCount);
        long syncs = stats.SyncCount - before;
        Assert.True(syncs >= 1, "durable appends must fsync");
        Assert.True(syncs < 640, $"group commit should share fsyncs; got {syncs} for 640 appends");
    }

    [Fact]
    public void Append_NonDurableWithinSyncWindow_DoesNotFsyncEveryEvent_SyncForcesOne()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path, o => o.SyncEveryNEvents = 100);
        long before = store.GetStats().SyncCount;
        for (int i = 0; i < 250; i++)
        {
            store.Append(s_alice, TestEvents.Created, TestEvents.Payload(i));
        }

        long afterAppends = store.GetStats().SyncCount - before;
        Assert.InRange(afterAppends, 2, 3);
        store.Sync();
        Assert.Equal(afterAppends + 1, store.GetStats().SyncCount - before);
    }

    [Fact]
    public void Append_BadInput_ThrowsClearTypedErrors()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path, o => o.MaxEventBytes = 2048);
        Assert.Throws<ArgumentException>(() => store.Append(default, TestEvents.Created, TestEvents.Payload(0)));
        var tooLarge = Assert.Throws<EventTooLargeException>(() => store.Append(s_alice, TestEvents.Created, new byte[4096]));
        Assert.Equal(2048, tooLarge.MaxBytes);
        var frameTooLarge = Assert.Throws<EventTooLargeException>(() => store.Append(s_alice, TestEvents.Created, new byte[2040]));
        Assert.True(frameTooLarge.ActualBytes > 2048);
        Assert.Throws<ArgumentException>(() => store.Append(s_alice, EventKind.FromValue(0x0001), TestEvents.Payload(0)));
        Assert.Throws<ArgumentException>(() => store.Append(s_alice, TestEvents.Created, TestEvents.Payload(0), new AppendOptions { Flags = EventFlags.Bypassed }));
        Assert.Throws<ArgumentException>(() => store.Append(s_alice, TestEvents.Created, TestEvents.Payload(0), new AppendOptions { IdempotencyKey = "" }));
        Assert.Equal(0, store.GetStats().EventCount);
        Assert.Equal(0, store.Append(s_alice, TestEvents.Created, new byte[1000]).GlobalSequence);
    }

    [Fact]
    public void Append_UsesInjectedClock_ForTimestampsAndHybridLogicalClock()
    {
        using var dir = new TempDirectory();
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using EventStore store = TestEvents.Open(dir.Path, time: clock);
        StoredEvent a = store.Get(store.Append(s_alice, TestEvents.Created, TestEvents.Payload(0)).EventId);
        StoredEvent b = store.Get(store.Append(s_alice, TestEvents.Created, TestEvents.Payload(1)).EventId);
        clock.Advance(TimeSpan.FromMilliseconds(5));
        StoredEvent c = store.Get(store.Append(s_alice, TestEvents.Created, TestEvents.Payload(2)).EventId);
        clock.Set(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero)); // the clock steps backwards
        StoredEvent d = store.Get(store.Append(s_alice, TestEvents.Created, TestEvents.Payload(3)).EventId);

        Assert.Equal(1767225600000000, a.Header.TimestampMicroseconds);
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), a.Header.Timestamp);
        Assert.Equal((1767225600000L, 0u), (a.Header.Position.WallMilliseconds, a.Header.Position.Counter));
        Assert.Equal((1767225600000L, 1u), (b.Header.Position.WallMilliseconds, b.Header.Position.Counter));
        Assert.Equal((1767225600005L, 0u), (c.Header.Position.WallMilliseconds, c.Header.Position.Counter));
        Assert.True(d.Header.Position.CompareClock(c.Header.Position) > 0, "the hybrid clock never goes backwards");
        Assert.True(a.Id < b.Id && b.Id < c.Id && c.Id < d.Id, "ids are monotonic even when the clock steps back");
    }

    private static void FlipByte(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        int value = stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(value ^ 0x40));
    }
}
