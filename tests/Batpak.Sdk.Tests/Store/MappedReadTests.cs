using System.Buffers.Binary;
using System.Text;
using Batpak.Storage;

namespace Batpak.Tests.Store;

/// <summary>
/// Reads of sealed segments decode frames in place from the memory mapping: they return exactly what positional
/// reads return, and every check of the buffered path (length field, CRC, decoding, event id) still holds.
/// </summary>
public class MappedReadTests
{
    private const long SegmentBytes = 4096;
    private static readonly Coordinate s_alice = new("acct:alice", "bank");
    private static readonly Coordinate s_bob = new("acct:bob", "bank");

    private static EventStore Open(TempDirectory dir) => TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = SegmentBytes);

    /// <summary>Appends <paramref name="count"/> events of varied payload sizes, some keyed, some reactions; at least two segments get sealed.</summary>
    private static List<(AppendReceipt Receipt, byte[] Payload)> Fill(EventStore store, int count)
    {
        var written = new List<(AppendReceipt, byte[])>();
        for (int i = 0; i < count; i++)
        {
            byte[] payload = Encoding.UTF8.GetBytes($"payload-{i}-" + new string((char)('a' + (i % 26)), i * 13 % 300));
            AppendOptions? options = i % 5 == 0 ? new AppendOptions { IdempotencyKey = $"key-{i}" } : null;
            AppendReceipt receipt = i % 7 == 3
                ? store.AppendReaction(written[^1].Item1.EventId, s_bob, TestEvents.Updated, payload, options)
                : store.Append(i % 2 == 0 ? s_alice : s_bob, TestEvents.Created, payload, options);
            written.Add((receipt, payload));
        }

        Assert.True(store.GetStats().SegmentCount >= 3, "the test needs at least two sealed segments");
        return written;
    }

    private static bool IsMapped(EventStore store, DiskPosition position)
    {
        using FileHandleCache.Lease lease = store.Handles.Rent(position.SegmentId);
        return lease.TryGetMapped(position.Offset, position.Length, out _);
    }

    [Fact]
    public void Get_EventsOfMappedSealedSegments_MatchPositionalReadsAndWhatWasWritten()
    {
        using var dir = new TempDirectory();
        using EventStore store = Open(dir);
        List<(AppendReceipt Receipt, byte[] Payload)> written = Fill(store, 160);
        int active = written[^1].Receipt.Position.SegmentId;
        Assert.True(IsMapped(store, written[0].Receipt.Position), "a sealed segment is read through its mapping");
        Assert.False(IsMapped(store, written[^1].Receipt.Position), "the active segment is not mapped");

        // A read-only store maps nothing: every read of it is a positional read into a buffer.
        using EventStore positional = EventStore.OpenReadOnly(dir.Path);
        Assert.False(IsMapped(positional, written[0].Receipt.Position));

        List<StoredEvent> all = store.ReadPage(0, 1000).Events.ToList(); // the session path
        Assert.Equal(written.Count, all.Count);
        int mapped = 0;
        for (int i = 0; i < written.Count; i++)
        {
            (AppendReceipt receipt, byte[] payload) = written[i];
            StoredEvent read = store.Get(receipt.EventId);
            StoredEvent expected = positional.Get(receipt.EventId);
            foreach (StoredEvent e in new[] { read, all[i] })
            {
                Assert.Equal(expected.Header, e.Header);
                Assert.Equal(expected.Coordinate, e.Coordinate);
                Assert.Equal(expected.Position, e.Position);
                Assert.Equal(expected.IdempotencyKey, e.IdempotencyKey);
                Assert.Equal(expected.BypassReason, e.BypassReason);
                Assert.Equal(payload, e.Payload.ToArray());
            }

            Assert.Equal(receipt.Position, read.Position);
            Assert.Equal(receipt.Hash, read.Header.Hash);
            Assert.Equal(i % 5 == 0 ? $"key-{i}" : null, read.IdempotencyKey);
            mapped += receipt.Position.SegmentId < active ? 1 : 0;
        }

        Assert.True(mapped > 0 && mapped < written.Count, "both mapped and unmapped reads are compared");
        ChainVerification chain = store.VerifyAll();
        Assert.True(chain.IsValid, chain.Failure);
    }

    [Fact]
    public void Get_PayloadOfAMappedRead_IsACopyThatOutlivesTheMapping()
    {
        using var dir = new TempDirectory();
        List<(AppendReceipt Receipt, byte[] Payload)> written;
        StoredEvent read;
        using (EventStore store = Open(dir))
        {
            written = Fill(store, 120);
            Assert.True(IsMapped(store, written[1].Receipt.Position));
            read = store.Get(written[1].Receipt.EventId);
        }

        // The store (and its mappings) are gone; the payload must not have pointed into them.
        Assert.Equal(written[1].Payload, read.Payload.ToArray());
    }

    [Theory]
    [InlineData(2, "length field")] // the frame's length field
    [InlineData(6, "CRC")] // the stored CRC
    [InlineData(12, "CRC")] // the body
    public void Get_BitFlipInAFrameOfAMappedSealedSegment_ThrowsCorruptSegment(int at, string reason)
    {
        using var dir = new TempDirectory();
        using EventStore store = Open(dir);
        List<(AppendReceipt Receipt, byte[] Payload)> written = Fill(store, 120);
        DiskPosition victim = written[3].Receipt.Position;
        Assert.Equal(written[3].Payload, store.Get(written[3].Receipt.EventId).Payload.ToArray()); // mapped now
        Assert.True(IsMapped(store, victim));

        Patch(dir, victim, frame => frame[at] ^= 0x10);

        var ex = Assert.Throws<CorruptSegmentException>(() => store.Get(written[3].Receipt.EventId));
        Assert.Equal(victim.SegmentId, ex.SegmentId);
        Assert.Equal(victim.Offset, ex.Offset);
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        Assert.Throws<CorruptSegmentException>(() => store.ReadPage(0, 1000).Events.ToList());
        Assert.Equal(written[4].Payload, store.Get(written[4].Receipt.EventId).Payload.ToArray()); // its neighbour is intact
    }

    [Fact]
    public void Get_FrameOfAnotherEventInAMappedSealedSegment_ThrowsCorruptSegmentNamingBothEvents()
    {
        using var dir = new TempDirectory();
        using EventStore store = Open(dir);
        var written = new List<AppendReceipt>();
        for (int i = 0; i < 120; i++)
        {
            written.Add(store.Append(s_alice, TestEvents.Created, TestEvents.Payload(100 + i))); // payloads of one length
        }

        Assert.True(store.GetStats().SegmentCount >= 2, "the test needs a sealed segment");
        AppendReceipt victim = written[2];
        AppendReceipt other = written.First(r => r.EventId != victim.EventId && r.Position.SegmentId == victim.Position.SegmentId && r.Position.Length == victim.Position.Length);
        Assert.True(IsMapped(store, victim.Position));

        // A whole, valid frame of the same length, but of another event: its CRC and body are fine.
        byte[] otherFrame = ReadFrame(dir, other.Position);
        Patch(dir, victim.Position, frame => otherFrame.CopyTo(frame));

        var ex = Assert.Throws<CorruptSegmentException>(() => store.Get(victim.EventId));
        Assert.Equal(victim.Position.Offset, ex.Offset);
        Assert.Contains($"holds event {other.EventId}", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"expects {victim.EventId}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Get_MalformedBodyWithAGoodCrcInAMappedSealedSegment_ThrowsCorruptSegment()
    {
        using var dir = new TempDirectory();
        using EventStore store = Open(dir);
        List<(AppendReceipt Receipt, byte[] Payload)> written = Fill(store, 120);
        DiskPosition victim = written[5].Receipt.Position;
        Assert.True(IsMapped(store, victim));

        // 0xC1 is never used by MessagePack: the fast reader refuses it and the general reader reports it.
        Patch(dir, victim, frame =>
        {
            frame[FrameFormat.FrameHeaderSize] = 0xC1;
            BinaryPrimitives.WriteUInt32BigEndian(frame[4..], System.IO.Hashing.Crc32.HashToUInt32(frame[FrameFormat.FrameHeaderSize..]));
        });

        var ex = Assert.Throws<CorruptSegmentException>(() => store.Get(written[5].Receipt.EventId));
        Assert.Equal(victim.Offset, ex.Offset);
        Assert.Contains("does not decode", ex.Message, StringComparison.Ordinal);
        Assert.IsType<FormatException>(ex.InnerException);
    }

    private delegate void FrameEdit(Span<byte> frame);

    private static string SegmentPath(TempDirectory dir, int segmentId) => dir.Combine(FrameFormat.SegmentFileName(segmentId));

    private static byte[] ReadFrame(TempDirectory dir, DiskPosition position)
    {
        using var stream = new FileStream(SegmentPath(dir, position.SegmentId), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        byte[] frame = new byte[position.Length];
        stream.Position = position.Offset;
        stream.ReadExactly(frame);
        return frame;
    }

    /// <summary>Rewrites one frame in place (the file keeps its inode, so an existing mapping sees the change).</summary>
    private static void Patch(TempDirectory dir, DiskPosition position, FrameEdit edit)
    {
        byte[] frame = ReadFrame(dir, position);
        edit(frame);
        using var stream = new FileStream(SegmentPath(dir, position.SegmentId), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        stream.Position = position.Offset;
        stream.Write(frame);
    }
}
