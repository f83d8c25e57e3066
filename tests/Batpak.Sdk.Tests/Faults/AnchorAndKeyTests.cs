using Batpak.Storage;
using Xunit.Abstractions;

namespace Batpak.Tests.Faults;

/// <summary>
/// Anchors (<see cref="IEventStore.GetHead"/>, <see cref="IEventStore.VerifyAll(StoreHead)"/>), keyed chains
/// (<see cref="BatpakOptions.ChainKey"/>) and what compaction must keep: idempotency keys, entity sequences, the
/// global chain.
/// </summary>
public class AnchorAndKeyTests(ITestOutputHelper output)
{
    private static readonly byte[] s_key = Enumerable.Range(1, 32).Select(i => (byte)(i * 7)).ToArray();

    private static EventStore Open(string dir, byte[]? key = null) =>
        TestEvents.Open(dir, o =>
        {
            o.SegmentMaxBytes = 4096;
            o.ChainKey = key;
        });

    private static List<AppendReceipt> Fill(EventStore store, int count, int entities = 5)
    {
        var receipts = new List<AppendReceipt>();
        for (int i = 0; i < count; i++)
        {
            receipts.Add(store.Append(new Coordinate($"e:{i % entities}", "s"), TestEvents.Created, TestEvents.Payload(i), new AppendOptions { IdempotencyKey = i % 4 == 0 ? $"k-{i}" : null }));
        }

        return receipts;
    }

    [Fact]
    public void VerifyAll_WithAnAnchor_DetectsEveryCutOfTheLogsEnd_WhichOpenCannotSee()
    {
        using var dir = new TempDirectory();
        StoreHead anchor;
        using (EventStore store = Open(dir.Path))
        {
            Fill(store, 40);
            anchor = store.GetHead();
            Assert.Equal(40, anchor.NextGlobalSequence);
            Assert.True(store.VerifyAll(anchor).IsValid);
        }

        string active = Directory.GetFiles(dir.Path, "*.fbat").Max()!;
        byte[] pristine = File.ReadAllBytes(active);
        var boundaries = new List<long>();
        using (var handle = File.OpenHandle(active))
        {
            SegmentScanner.Scan(handle, int.Parse(Path.GetFileNameWithoutExtension(active), System.Globalization.CultureInfo.InvariantCulture), isLast: true, (ref FrameFormat.FrameFields _, DiskPosition p) => boundaries.Add(p.Offset));
        }

        Assert.NotEmpty(boundaries);
        int detected = 0;
        foreach (long cut in boundaries)
        {
            File.WriteAllBytes(active, pristine.AsSpan(0, (int)cut).ToArray());
            using EventStore reopened = Open(dir.Path);
            Assert.True(reopened.VerifyAll().IsValid, "without the anchor a cut at a frame boundary looks like a shorter log");
            ChainVerification withAnchor = reopened.VerifyAll(anchor);
            Assert.False(withAnchor.IsValid);
            Assert.Contains("end of the log is gone", withAnchor.Failure, StringComparison.Ordinal);
            detected++;
        }

        File.WriteAllBytes(active, pristine);
        using (EventStore intact = Open(dir.Path))
        {
            Assert.True(intact.VerifyAll(anchor).IsValid);
            Assert.False(intact.VerifyAll(anchor with { Digest = EventHash.Zero }).IsValid);
        }

        output.WriteLine($"log-end cuts: {boundaries.Count} points tried, {detected} detected with the anchor, 0 undetected");
    }

    [Fact]
    public void GetHead_IsUnchangedByCompaction_AndAnAnchorTakenBeforeItStillVerifies()
    {
        using var dir = new TempDirectory();
        using EventStore store = Open(dir.Path);
        Fill(store, 120);
        StoreHead before = store.GetHead();
        CompactionResult merged = store.Compact();
        Assert.Equal(before, store.GetHead());
        CompactionResult dropped = store.Compact(new CompactionOptions { Retain = e => e.Header.GlobalSequence % 3 != 0 });
        Assert.True(dropped.EventsDropped > 0);
        Assert.Equal(before, store.GetHead());
        Assert.True(store.VerifyAll(before).IsValid, store.VerifyAll(before).Failure);
        store.Dispose();

        using EventStore reopened = Open(dir.Path);
        Assert.Equal(before, reopened.GetHead());
        Assert.True(reopened.VerifyAll(before).IsValid, reopened.VerifyAll(before).Failure);
        output.WriteLine($"compactions: {merged.SegmentsBefore}->{merged.SegmentsAfter} segments, {dropped.EventsDropped} dropped; head unchanged");
    }

    [Fact]
    public void IdempotencyKeys_And_EntitySequences_SurviveDropCompactionAndReopen()
    {
        using var dir = new TempDirectory();
        List<AppendReceipt> receipts;
        using (EventStore store = Open(dir.Path))
        {
            receipts = Fill(store, 120);
            store.Compact(new CompactionOptions { Retain = e => e.IdempotencyKey is null });
        }

        using (EventStore reopened = Open(dir.Path))
        {
            for (int i = 0; i < 120; i += 4)
            {
                // The keyed events are gone; retrying any of them returns the original receipt and appends nothing.
                AppendReceipt again = reopened.Append(new Coordinate($"e:{i % 5}", "s"), TestEvents.Created, TestEvents.Payload(i), new AppendOptions { IdempotencyKey = $"k-{i}" });
                Assert.Equal(receipts[i].EventId, again.EventId);
                Assert.Equal(receipts[i].GlobalSequence, again.GlobalSequence);
            }

            Assert.Equal(120, reopened.GetHead().NextGlobalSequence);

            // The dropped event's fingerprint survives too: the same key with another payload or entity is a conflict.
            Assert.Throws<IdempotencyConflictException>(() => reopened.Append(new Coordinate("e:0", "s"), TestEvents.Created, TestEvents.Payload(999), new AppendOptions { IdempotencyKey = "k-0" }));
            Assert.Throws<IdempotencyConflictException>(() => reopened.Append(new Coordinate("e:1", "s"), TestEvents.Created, TestEvents.Payload(0), new AppendOptions { IdempotencyKey = "k-0" }));

            // Entity 0's last event (119 is e:4; 115 is e:0 and keyless) — every entity continues after its true last sequence.
            for (int e = 0; e < 5; e++)
            {
                long last = receipts.Where((r, i) => i % 5 == e).Max(r => r.EntitySequence);
                Assert.Equal(last, reopened.GetLastSequence($"e:{e}"));
                Assert.Equal(last + 1, reopened.Append(new Coordinate($"e:{e}", "s"), TestEvents.Updated, [1]).EntitySequence);
            }

            Assert.True(reopened.VerifyAll().IsValid, reopened.VerifyAll().Failure);
        }
    }

    [Fact]
    public void Tombstones_ReadEmpty_VerifyValid_AndSurviveReopen()
    {
        using var dir = new TempDirectory();
        List<AppendReceipt> receipts;
        using (EventStore store = Open(dir.Path))
        {
            receipts = Fill(store, 60);
            CompactionResult result = store.Compact(new CompactionOptions { Retain = e => e.Header.GlobalSequence % 2 == 0, Mode = CompactionMode.Tombstone });
            Assert.True(result.EventsTombstoned > 0);
        }

        using EventStore reopened = Open(dir.Path);
        Assert.True(reopened.VerifyAll().IsValid, reopened.VerifyAll().Failure);
        int tombstones = 0;
        foreach (AppendReceipt r in receipts)
        {
            if (!reopened.TryGet(r.EventId, out StoredEvent? e) || (e.Header.Flags & EventFlags.Tombstone) == 0)
            {
                continue;
            }

            Assert.True(e.Payload.IsEmpty);
            Assert.Equal(r.Hash, e.Header.Hash);
            tombstones++;
        }

        Assert.True(tombstones > 0);
    }

    [Fact]
    public void ChainKey_MissingWrongOrUnexpected_IsRefusedAtOpen_AndChangesNothing()
    {
        using var dir = new TempDirectory();
        using (EventStore store = Open(dir.Path, s_key))
        {
            Fill(store, 30);
            Assert.True(store.VerifyAll().IsValid);
        }

        Dictionary<string, byte[]> before = Directory.GetFiles(dir.Path, "*.fbat").ToDictionary(f => f, File.ReadAllBytes);
        var missing = Assert.Throws<ChainKeyMismatchException>(() => Open(dir.Path));
        Assert.True(missing.StoreIsKeyed);
        Assert.Throws<ChainKeyMismatchException>(() => Open(dir.Path, [.. s_key.Reverse()]));
        Assert.Throws<ChainKeyMismatchException>(() => EventStore.OpenReadOnly(dir.Path));
        foreach ((string file, byte[] bytes) in before)
        {
            Assert.Equal(bytes, File.ReadAllBytes(file));
        }

        using EventStore readOnly = EventStore.OpenReadOnly(new BatpakOptions { DataDirectory = dir.Path, ChainKey = s_key });
        Assert.True(readOnly.VerifyAll().IsValid);

        using var plain = new TempDirectory();
        using (EventStore store = Open(plain.Path))
        {
            Fill(store, 3);
        }

        Assert.False(Assert.Throws<ChainKeyMismatchException>(() => Open(plain.Path, s_key)).StoreIsKeyed);
        Assert.Throws<ArgumentOutOfRangeException>(() => Open(plain.Path, new byte[8]));
    }

    [Fact]
    public void KeyedChain_AnEventRewrittenWithItsUnkeyedHashRecomputed_FailsVerification()
    {
        using var dir = new TempDirectory();
        List<AppendReceipt> receipts;
        using (EventStore store = Open(dir.Path, s_key))
        {
            receipts = Fill(store, 10);
        }

        // An attacker who knows the format but not the key: change a payload, recompute the link with SHA-256 (and
        // every later link of the entity) and the CRC. Verification under the key must fail.
        string path = Path.Combine(dir.Path, "000001.fbat");
        byte[] file = File.ReadAllBytes(path);
        int header = FrameFormat.TryReadSegmentHeader(path)!.Value.Length;
        int length = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(header));
        FrameFormat.FrameFields fields = FrameFormat.ReadBody(file.AsMemory(header + 8, length), out ReadOnlyMemory<byte> payload);
        byte[] forged = [.. payload.ToArray().Reverse()];
        using (var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256))
        {
            fields.Hash = FrameFormat.ComputeHash(sha, fields, forged);
        }

        using var frame = new PooledBufferWriter(256);
        FrameFormat.WriteFrame(frame, fields, forged);
        Assert.Equal(length + 8, frame.WrittenCount);
        frame.WrittenSpan.CopyTo(file.AsSpan(header));
        File.WriteAllBytes(path, file);

        // Open does not recompute hashes, but the forged hash breaks the next link of the entity; either way the
        // keyed store never reports the forgery as valid.
        try
        {
            using EventStore reopened = Open(dir.Path, s_key);
            Assert.False(reopened.VerifyAll().IsValid);
            Assert.False(reopened.Verify(receipts[0].EventId == fields.EventId ? "e:0" : "e:0").IsValid);
        }
        catch (CorruptSegmentException ex)
        {
            output.WriteLine("detected at open: " + ex.Message);
        }
    }
}
