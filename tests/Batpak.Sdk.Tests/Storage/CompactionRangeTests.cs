using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Batpak.Storage;

namespace Batpak.Tests.Storage;

/// <summary>
/// Open reads a compaction output's range (which segment ids it replaced) without decoding its dropped events; these
/// tests hold that read to the record's own bytes and keep deletion behind the full, MAC-checked decode.
/// </summary>
public class CompactionRangeTests
{
    private static readonly byte[] s_key = Encoding.UTF8.GetBytes("compaction-range-test-key-32byte");

    private static byte[] RecordBody(byte[]? key)
    {
        var dropped = new List<SegmentRecords.DroppedEvent>();
        for (int i = 0; i < 40; i++)
        {
            dropped.Add(new SegmentRecords.DroppedEvent(1000 + i, i, EventId.FromBytes(Guid.NewGuid().ToByteArray()), "acct:x", 7, EventHash.Zero, i % 2 == 0 ? "k" + i : null, (ulong)i));
        }

        using var writer = new PooledBufferWriter(256);
        var record = new SegmentRecords.CompactionRecord(3, 1000, 5_000_000_000, dropped, [1040, 1041]);
        SegmentRecords.WriteCompaction(writer, record, key);
        return writer.WrittenSpan[FrameFormat.FrameHeaderSize..].ToArray();
    }

    [Fact]
    public void PeekCompaction_ReadsTheRangeTheFullDecodeReads()
    {
        foreach (byte[]? key in new[] { null, s_key })
        {
            byte[] body = RecordBody(key);
            var full = (SegmentRecords.CompactionRecord)SegmentRecords.Decode(body, key);
            Assert.Equal(new SegmentRecords.CompactionRange(full.ReplacesFrom, full.FirstGlobal, full.NextGlobal), SegmentRecords.PeekCompaction(body));
            Assert.Equal(new SegmentRecords.CompactionRange(3, 1000, 5_000_000_000), SegmentRecords.PeekCompaction(body));
        }
    }

    [Fact]
    public void PeekCompaction_EveryCutOfTheRecordsFirstBytes_IsNullOrTheWholeRange_NeverAnException()
    {
        byte[] body = RecordBody(null);
        var expected = new SegmentRecords.CompactionRange(3, 1000, 5_000_000_000);
        const int RangeBytes = 15; // fixarray, tag, 3 (fixint), 1000 (uint16), 5e9 (uint64): MessagePack's shortest forms
        for (int length = 0; length <= 64; length++)
        {
            SegmentRecords.CompactionRange? peeked = SegmentRecords.PeekCompaction(body.AsSpan(0, length));
            Assert.True(length < RangeBytes ? peeked is null : peeked == expected, $"cut at {length}: {peeked}");
        }
    }

    [Fact]
    public void PeekCompaction_OfASeal_IsNull()
    {
        using var writer = new PooledBufferWriter(256);
        SegmentRecords.WriteSeal(writer, new SegmentRecords.Seal(3, 0, 10, EventHash.Zero));
        Assert.Null(SegmentRecords.PeekCompaction(writer.WrittenSpan[FrameFormat.FrameHeaderSize..]));
    }

    [Fact]
    public void Open_LeftoversNextToAnOutputWhoseRecordMacFails_DeletesNothing_AndFails()
    {
        using var dir = new TempDirectory();
        using var saved = new TempDirectory();
        using (EventStore store = TestEvents.Open(dir.Path, o => { o.SegmentMaxBytes = 4096; o.ChainKey = s_key; }))
        {
            for (int i = 0; i < 120; i++)
            {
                store.Append(new Coordinate(i % 2 == 0 ? "acct:alice" : "acct:bob", "bank"), TestEvents.Created, Encoding.UTF8.GetBytes($"event-{i:D4}-" + new string('x', 80)));
            }
        }

        File.Copy(dir.Combine("000001.fbat"), saved.Combine("000001.fbat"));
        File.Copy(dir.Combine("000002.fbat"), saved.Combine("000002.fbat"));
        using (EventStore store = TestEvents.Open(dir.Path, o => { o.SegmentMaxBytes = 1 << 20; o.ChainKey = s_key; }))
        {
            Assert.Equal(1, store.Compact().SegmentsAfter);
        }

        string output = Directory.GetFiles(dir.Path, "*.fbat").Order(StringComparer.Ordinal).First();
        File.Copy(saved.Combine("000001.fbat"), dir.Combine("000001.fbat"));
        File.Copy(saved.Combine("000002.fbat"), dir.Combine("000002.fbat"));
        FlipMacBit(output);
        byte[] before = File.ReadAllBytes(output);

        Assert.Throws<CorruptSegmentException>(() => TestEvents.Open(dir.Path, o => { o.SegmentMaxBytes = 4096; o.ChainKey = s_key; }).Dispose());
        Assert.True(File.Exists(dir.Combine("000001.fbat")), "a leftover was deleted on the word of a record whose MAC fails");
        Assert.True(File.Exists(dir.Combine("000002.fbat")), "a leftover was deleted on the word of a record whose MAC fails");
        Assert.Equal(before, File.ReadAllBytes(output));
    }

    /// <summary>Flips a bit of the output's compaction-record MAC (the record body's last 32 bytes) and makes the frame's CRC right again.</summary>
    private static void FlipMacBit(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        int headerLength = FrameFormat.TryReadSegmentHeader(file, out _, out _)!.Value.Length;
        Span<byte> frame = file.AsSpan(headerLength);
        int length = (int)BinaryPrimitives.ReadUInt32BigEndian(frame);
        Span<byte> body = frame.Slice(FrameFormat.FrameHeaderSize, length);
        Assert.NotNull(SegmentRecords.PeekCompaction(body));
        body[^5] ^= 0x10;
        BinaryPrimitives.WriteUInt32BigEndian(frame[4..], Crc32.HashToUInt32(body));
        File.WriteAllBytes(path, file);
    }
}
