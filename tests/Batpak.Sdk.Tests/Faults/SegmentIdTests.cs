// Owns the regression tests for large segment ids: names past 999,999 (seven digits and more) are written and
// parsed, so a rotation past 999,999 keeps every acknowledged event across a reopen, and the last possible id is
// refused with a clear error instead of overflowing.
using Batpak.Storage;
using Xunit.Abstractions;

namespace Batpak.Tests.Faults;

public sealed class SegmentIdTests(ITestOutputHelper output)
{
    private static readonly Coordinate s_alice = new("acct:alice", "bank");

    [Theory]
    [InlineData(1, "000001.fbat")]
    [InlineData(42, "000042.fbat")]
    [InlineData(999_999, "999999.fbat")]
    [InlineData(1_000_000, "1000000.fbat")]
    [InlineData(int.MaxValue, "2147483647.fbat")]
    public void SegmentFileName_RoundTripsThroughTheParser(int id, string name)
    {
        Assert.Equal(name, FrameFormat.SegmentFileName(id));
        Assert.True(FrameFormat.TryParseSegmentFileName(name, out int parsed));
        Assert.Equal(id, parsed);
    }

    [Theory]
    [InlineData("0000042.fbat")] // a leading zero past six digits: not a name the store writes
    [InlineData("0999999.fbat")]
    [InlineData("00042.fbat")]
    [InlineData("000000.fbat")]
    [InlineData("0000000.fbat")]
    [InlineData("2147483648.fbat")] // past int.MaxValue
    [InlineData("99999999999.fbat")]
    [InlineData("+00042.fbat")]
    [InlineData("00004a.fbat")]
    [InlineData("000042.fbat.compact")]
    [InlineData("000042.FBAT")]
    [InlineData(".fbat")]
    public void TryParseSegmentFileName_RejectsNamesTheStoreDoesNotWrite(string name)
    {
        Assert.False(FrameFormat.TryParseSegmentFileName(name, out _));
    }

    [Fact]
    public void Rotate_PastSegment999999_ReopenKeepsEveryAcknowledgedEvent()
    {
        using var dir = new TempDirectory();
        StartAt(dir.Path, 999_999); // a store whose active segment is 999,999
        var acked = new List<(AppendReceipt Receipt, byte[] Payload)>();
        using (EventStore store = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 4096))
        {
            Assert.Equal(999_999, store.Writer.ActiveSegmentId);
            for (int i = 0; store.Writer.ActiveSegmentId < 1_000_001; i++)
            {
                byte[] payload = TestEvents.Payload(i).Concat(new byte[150]).ToArray();
                acked.Add((store.Append(s_alice, TestEvents.Created, payload), payload));
            }

            acked.Add((store.AppendBatch([new(s_alice, TestEvents.Updated, TestEvents.Payload(-1))])[0], TestEvents.Payload(-1)));
            Assert.Equal(1_000_001, store.Writer.ActiveSegmentId);
        }

        string[] files = Directory.GetFiles(dir.Path, "*.fbat").Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray();
        output.WriteLine($"{acked.Count} events in {string.Join(", ", files)}");
        Assert.Equal(["1000000.fbat", "1000001.fbat", "999998.fbat", "999999.fbat"], files);

        using EventStore reopened = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 4096);
        Assert.Equal(4, reopened.GetStats().SegmentCount);
        Assert.Equal(acked.Count, reopened.GetStats().EventCount);
        foreach ((AppendReceipt receipt, byte[] payload) in acked)
        {
            Assert.True(reopened.Get(receipt.EventId).Payload.Span.SequenceEqual(payload));
        }

        Assert.True(reopened.VerifyAll().IsValid);
        Assert.Equal(acked.Count, reopened.Append(s_alice, TestEvents.Created, new byte[10]).GlobalSequence);
        using EventStore readOnly = EventStore.OpenReadOnly(dir.Path);
        Assert.Equal(acked.Count + 1, readOnly.GetStats().EventCount);
    }

    [Fact]
    public void Rotate_FromTheLastPossibleSegmentId_IsRefusedNamingTheId_AndAcknowledgedEventsStay()
    {
        using var dir = new TempDirectory();
        StartAt(dir.Path, int.MaxValue);
        var acked = new List<AppendReceipt>();
        using (EventStore store = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 4096))
        {
            WriterCrashedException? refused = null;
            for (int i = 0; i < 100 && refused is null; i++)
            {
                try
                {
                    acked.Add(store.Append(s_alice, TestEvents.Created, new byte[200]));
                }
                catch (WriterCrashedException ex)
                {
                    refused = ex;
                }
            }

            Assert.NotNull(refused);
            output.WriteLine($"after {acked.Count} appends: {refused.Message}");
            Assert.Contains("2147483647", refused.Message, StringComparison.Ordinal);
            Assert.Equal(acked.Select(r => r.EventId), store.ReadPage(0).Events.Select(e => e.Id));
        }

        using EventStore reopened = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 4096);
        Assert.Equal(acked.Select(r => r.EventId), reopened.ReadPage(0).Events.Select(e => e.Id));
        Assert.Equal(2, reopened.GetStats().SegmentCount);
    }

    /// <summary>
    /// A store whose active segment is <paramref name="activeId"/>: as if every segment before it had been compacted
    /// into an empty one (a compaction output replacing ids 1.., covering no event, sealed), then the active segment.
    /// </summary>
    private static void StartAt(string directory, int activeId)
    {
        int compactedId = activeId - 1;
        using (var file = new PooledBufferWriter(256))
        {
            FrameFormat.WriteSegmentHeader(file, compactedId, 1_767_225_600_000_000, FrameFormat.SegmentFlagCompacted);
            SegmentRecords.WriteCompaction(file, new SegmentRecords.CompactionRecord(1, 0, 0, [], []), key: null);
            using var empty = new GlobalChain(key: null);
            SegmentRecords.WriteSeal(file, new SegmentRecords.Seal(compactedId, 0, 0, empty.Head()));
            File.WriteAllBytes(Path.Combine(directory, FrameFormat.SegmentFileName(compactedId)), file.WrittenSpan.ToArray());
        }

        StoreWriter.CreateSegment(directory, activeId, TimeProvider.System, keyCheck: 0, out _).Dispose();
    }
}
