using System.Text;

namespace Batpak.Tests.Store;

public class EventStoreTests
{
    private static readonly Coordinate s_alice = new("acct:alice", "bank");
    private static readonly Coordinate s_bob = new("acct:bob", "bank");

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
            EventPage page = reopened.ReadPage(0, 1000);
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
        Assert.Equal(ids.Count, reopened.Read(Region.All).Count());
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
