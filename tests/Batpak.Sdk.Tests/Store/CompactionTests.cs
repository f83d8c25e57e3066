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
    public void Compact_MergeOnly_MergesAdjacentSealedSegmentsIntoFewerFiles_AndLeavesTheActiveSegmentAlone()
    {
        using var dir = new TempDirectory();
        List<AppendReceipt> receipts;
        using (EventStore store = OpenSmall(dir.Path))
        {
            receipts = Fill(store, 300);
        }

        // Reopened with room for four old segments per output, the sealed ones merge.
        using EventStore reopened = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 16384);
        int segmentsBefore = reopened.GetStats().SegmentCount;
        string active = dir.Combine($"{receipts[^1].Position.SegmentId:D6}.fbat");
        byte[] activeBytes = File.ReadAllBytes(active);

        CompactionResult result = reopened.Compact();

        Assert.True(result.SegmentsAfter < result.SegmentsBefore, $"{result.SegmentsBefore} segments became {result.SegmentsAfter}");
        Assert.Equal(segmentsBefore - result.SegmentsBefore + result.SegmentsAfter, reopened.GetStats().SegmentCount);
        Assert.Equal(activeBytes, File.ReadAllBytes(active));
        Assert.Equal(receipts.Select(r => r.EventId), reopened.ReadPage(0, 1000).Events.Select(e => e.Id));
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
            Assert.Equal(300 - expectedDropped.Count, store.Read(Region.All).Count());
            Assert.All(store.Read(Region.All).Where(e => e.Position.SegmentId < activeSegment), e => Assert.NotEqual(TestEvents.Updated, e.Kind));
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
            reopened.ReadPage(0, 1000).Events.Select(e => e.Id).Order());
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
        Assert.Equal(receipts.Select(r => r.EventId), reopened.ReadPage(0, 1000).Events.Select(e => e.Id));
        Assert.True(reopened.VerifyAll().IsValid);
    }
}
