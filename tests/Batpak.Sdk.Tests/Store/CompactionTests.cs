using System.Collections.Concurrent;
using System.Text;

namespace Batpak.Tests.Store;

public class CompactionTests
{
    private static readonly Coordinate s_alice = new("acct:alice", "bank");
    private static readonly Coordinate s_bob = new("acct:bob", "bank");

    private static EventStore OpenSmall(string path) => TestEvents.Open(path, o => o.SegmentMaxBytes = 4096);

    private static List<AppendReceipt> Fill(EventStore store, int count)
    {
        var receipts = new List<AppendReceipt>();
        for (int i = 0; i < count; i++)
        {
            receipts.Add(store.Append(i % 2 == 0 ? s_alice : s_bob, i % 3 == 0 ? TestEvents.Updated : TestEvents.Created, Encoding.UTF8.GetBytes($"event-{i:D4}-" + new string('x', 80))));
        }

        return receipts;
    }

    [Fact]
    public void Compact_MergeOnly_KeepsEveryEventReadableAndVerifiable_AlsoAfterReopen()
    {
        using var dir = new TempDirectory();
        List<AppendReceipt> receipts;
        using (EventStore store = OpenSmall(dir.Path))
        {
            receipts = Fill(store, 300);
            int segmentsBefore = store.GetStats().SegmentCount;

            // Merging needs room: let each output take two old segments.
            CompactionResult result = store.Compact();

            Assert.Equal(0, result.EventsDropped);
            Assert.True(result.SegmentsAfter <= result.SegmentsBefore);
            Assert.True(store.GetStats().SegmentCount <= segmentsBefore);
            Assert.Equal(receipts.Select(r => r.EventId), store.ReadAll(0, 1000).Events.Select(e => e.Id));
            Assert.True(store.VerifyAll().IsValid);
        }

        using EventStore reopened = OpenSmall(dir.Path);
        Assert.Equal(receipts.Select(r => r.EventId), reopened.ReadAll(0, 1000).Events.Select(e => e.Id));
        Assert.True(reopened.VerifyAll().IsValid);
    }

    [Fact]
    public void Compact_RetentionDrop_RemovesRejectedEventsFromSealedSegmentsOnly()
    {
        using var dir = new TempDirectory();
        List<AppendReceipt> receipts;
        int activeSegment;
        using (EventStore store = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 8192))
        {
            receipts = Fill(store, 300);
            activeSegment = receipts[^1].Position.SegmentId;
            CompactionResult result = store.Compact(new CompactionOptions { Retain = e => e.Kind != TestEvents.Updated });

            var expectedDropped = receipts.Where((r, i) => i % 3 == 0 && r.Position.SegmentId < activeSegment).ToList();
            Assert.Equal(expectedDropped.Count, result.EventsDropped);
            foreach (AppendReceipt dropped in expectedDropped)
            {
                Assert.False(store.TryGet(dropped.EventId, out _));
            }

            Assert.Equal(300 - expectedDropped.Count, store.GetStats().EventCount);
            Assert.Equal(300 - expectedDropped.Count, store.Query(Region.All).Count());
            Assert.All(store.Query(Region.All).Where(e => e.Position.SegmentId < activeSegment), e => Assert.NotEqual(TestEvents.Updated, e.Kind));
            ChainVerification chain = store.VerifyAll();
            Assert.True(chain.IsValid, chain.Failure);

            // Appends continue on top of the chain.
            AppendReceipt next = store.Append(s_alice, TestEvents.Created, TestEvents.Payload(1));
            Assert.Equal(150, next.EntitySequence);
        }

        using EventStore reopened = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 8192);
        ChainVerification reopenedChain = reopened.VerifyAll();
        Assert.True(reopenedChain.IsValid, reopenedChain.Failure);
        Assert.Equal(150, reopened.GetLastSequence(s_alice.Entity));
        Assert.Equal(receipts.Where((r, i) => !(i % 3 == 0 && r.Position.SegmentId < activeSegment)).Select(r => r.EventId).Append(reopened.Stream(s_alice.Entity).Last().Id).Order(),
            reopened.ReadAll(0, 1000).Events.Select(e => e.Id).Order());
    }

    [Fact]
    public void Compact_Tombstone_KeepsMarkersThatReadersAndCursorsSee_AndTheChainStaysValid()
    {
        using var dir = new TempDirectory();
        using EventStore store = OpenSmall(dir.Path);
        List<AppendReceipt> receipts = Fill(store, 200);
        CompactionResult result = store.Compact(new CompactionOptions { Retain = e => e.Coordinate != s_bob, Mode = CompactionMode.Tombstone });

        Assert.True(result.EventsTombstoned > 0);
        Assert.Equal(0, result.EventsDropped);
        StoredEvent tombstone = store.Get(receipts[1].EventId); // bob's first event
        Assert.True(tombstone.Header.Flags.HasFlag(EventFlags.Tombstone));
        Assert.True(tombstone.Payload.IsEmpty);
        Assert.Equal(receipts[1].Hash, tombstone.Header.Hash);

        using EventCursor cursor = store.OpenCursor(Region.ForEntity(s_bob.Entity));
        IReadOnlyList<StoredEvent> seen = cursor.Poll(1000);
        Assert.Equal(100, seen.Count);
        Assert.Contains(seen, e => e.Header.Flags.HasFlag(EventFlags.Tombstone));
        ChainVerification chain = store.VerifyAll();
        Assert.True(chain.IsValid, chain.Failure);
    }

    [Fact]
    public async Task Compact_WhileAppendingAndReading_LosesNothingAndNeverFailsAReader()
    {
        using var dir = new TempDirectory();
        using EventStore store = OpenSmall(dir.Path);
        Fill(store, 200);
        var errors = new ConcurrentQueue<Exception>();
        var appended = new ConcurrentBag<EventId>();
        using var stop = new CancellationTokenSource();
        Task writer = Task.Run(() =>
        {
            int i = 0;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    appended.Add(store.Append(new Coordinate($"live:{i % 5}", "bank"), TestEvents.Created, new byte[120]).EventId);
                    i++;
                }
                catch (Exception ex)
                {
                    errors.Enqueue(ex);
                }
            }
        });
        Task reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    Assert.True(store.Stream(s_alice.Entity).Count() == 100);
                    foreach (StoredEvent e in store.ReadAll(0, 500).Events)
                    {
                        Assert.True(store.TryGet(e.Id, out _));
                    }
                }
                catch (Exception ex)
                {
                    errors.Enqueue(ex);
                }
            }
        });

        for (int round = 0; round < 3; round++)
        {
            store.Compact();
            await Task.Delay(50);
        }

        stop.Cancel();
        await Task.WhenAll(writer, reader);
        Assert.Empty(errors);
        Assert.Equal(200 + appended.Count, store.GetStats().EventCount);
        Assert.All(appended, id => Assert.True(store.TryGet(id, out _)));
        Assert.True(store.VerifyAll().IsValid);
    }

    [Fact]
    public void Open_AfterCrashBeforeRename_DeletesTheTemporaryOutput()
    {
        using var dir = new TempDirectory();
        List<AppendReceipt> receipts;
        using (EventStore store = OpenSmall(dir.Path))
        {
            receipts = Fill(store, 100);
        }

        File.WriteAllBytes(dir.Combine("000002.fbat.compact"), [1, 2, 3]);
        using EventStore reopened = OpenSmall(dir.Path);
        Assert.False(File.Exists(dir.Combine("000002.fbat.compact")));
        Assert.Equal(100, reopened.GetStats().EventCount);
    }

    [Fact]
    public void Open_AfterCrashBetweenRenameAndDelete_DropsTheReplacedSegments()
    {
        using var dir = new TempDirectory();
        using var saved = new TempDirectory();
        List<AppendReceipt> receipts;
        using (EventStore store = OpenSmall(dir.Path))
        {
            receipts = Fill(store, 120);
        }

        Assert.True(File.Exists(dir.Combine("000004.fbat")));
        File.Copy(dir.Combine("000001.fbat"), saved.Combine("000001.fbat"));
        File.Copy(dir.Combine("000002.fbat"), saved.Combine("000002.fbat"));
        using (EventStore store = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 1 << 20))
        {
            CompactionResult result = store.Compact();
            Assert.Equal(1, result.SegmentsAfter);
            Assert.True(result.SegmentsBefore >= 3);
        }

        // Simulate the crash: the replaced segments are back, next to the output that replaced them.
        Assert.False(File.Exists(dir.Combine("000001.fbat")));
        File.Copy(saved.Combine("000001.fbat"), dir.Combine("000001.fbat"));
        File.Copy(saved.Combine("000002.fbat"), dir.Combine("000002.fbat"));

        using EventStore reopened = OpenSmall(dir.Path);
        Assert.False(File.Exists(dir.Combine("000001.fbat")));
        Assert.False(File.Exists(dir.Combine("000002.fbat")));
        Assert.Equal(receipts.Select(r => r.EventId), reopened.ReadAll(0, 1000).Events.Select(e => e.Id));
        Assert.True(reopened.VerifyAll().IsValid);
    }
}
