using System.Security.Cryptography;
using Batpak.Storage;

namespace Batpak.Tests.Golden;

/// <summary>
/// Pins the on-disk format version 2 (docs/FORMAT.md) byte for byte. A change that alters these bytes breaks every
/// existing store: bump the format version instead. Rewrite the baselines only on purpose, with
/// <c>BATPAK_UPDATE_GOLDEN=1 dotnet test</c>.
/// </summary>
public class GoldenFormatTests
{
    private static readonly string s_goldenDirectory = Path.Combine(AppContext.BaseDirectory, "Golden");

    [Fact]
    public void SegmentHeader_Version2_MatchesBaseline()
    {
        using var writer = new PooledBufferWriter(64);
        int length = FrameFormat.WriteSegmentHeader(writer, segmentId: 7, createdMicroseconds: 1767225600000000);
        Assert.Equal(writer.WrittenCount, length);
        AssertMatchesBaseline("segment-header-v2.hex", writer.WrittenSpan);

        FrameFormat.SegmentHeader? parsed = FrameFormat.TryReadSegmentHeader(writer.WrittenSpan, out string? problem);
        Assert.Null(problem);
        Assert.Equal(new FrameFormat.SegmentHeader(2, 0, 1767225600000000, 7, length, 7), parsed);
    }

    [Fact]
    public void SegmentHeader_Version2Keyed_MatchesBaseline_AndCarriesTheKeyCheck()
    {
        byte[] key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        using var writer = new PooledBufferWriter(64);
        int length = FrameFormat.WriteSegmentHeader(writer, segmentId: 7, createdMicroseconds: 1767225600000000, FrameFormat.SegmentFlagCompacted, ChainHashing.KeyCheck(key));
        AssertMatchesBaseline("segment-header-v2-keyed.hex", writer.WrittenSpan);
        FrameFormat.SegmentHeader? parsed = FrameFormat.TryReadSegmentHeader(writer.WrittenSpan, out string? problem);
        Assert.Null(problem);
        Assert.Equal(new FrameFormat.SegmentHeader(2, FrameFormat.SegmentFlagCompacted | FrameFormat.SegmentFlagKeyed, 1767225600000000, 7, length, 7, ChainHashing.KeyCheck(key)), parsed);
    }

    [Fact]
    public void SegmentHeader_Version1_StillParses()
    {
        byte[] v1 = Convert.FromHexString(File.ReadAllText(Path.Combine(s_goldenDirectory, "segment-header-v1.hex")).Trim());
        FrameFormat.SegmentHeader? parsed = FrameFormat.TryReadSegmentHeader(v1, out string? problem);
        Assert.Null(problem);
        Assert.Equal(new FrameFormat.SegmentHeader(1, 0, 1767225600000000, 7, v1.Length, 7), parsed);
    }

    [Fact]
    public void Records_MatchBaseline_AndDecode()
    {
        using var writer = new PooledBufferWriter(256);
        var seal = new SegmentRecords.Seal(7, 100, 164, EventHash.FromBytes(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
        SegmentRecords.WriteSeal(writer, seal);
        AssertMatchesBaseline("seal-v2.hex", writer.WrittenSpan);
        Assert.True(FrameFormat.CrcMatches(writer.WrittenSpan));
        Assert.Equal(seal, SegmentRecords.Decode(writer.WrittenSpan[FrameFormat.FrameHeaderSize..], key: null));

        writer.Reset();
        var dropped = new SegmentRecords.DroppedEvent(101, 3, SampleFields().EventId, "order:1", 0x1001, seal.Head, "key-1", 0x1234_5678_9ABC_DEF0);
        var record = new SegmentRecords.CompactionRecord(5, 100, 164, [dropped], [102, 140]);
        byte[] key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        SegmentRecords.WriteCompaction(writer, record, key);
        AssertMatchesBaseline("compaction-record-v2-keyed.hex", writer.WrittenSpan);
        var decoded = (SegmentRecords.CompactionRecord)SegmentRecords.Decode(writer.WrittenSpan[FrameFormat.FrameHeaderSize..], key);
        Assert.Equal((record.ReplacesFrom, record.FirstGlobal, record.NextGlobal), (decoded.ReplacesFrom, decoded.FirstGlobal, decoded.NextGlobal));
        Assert.Equal(record.Dropped, decoded.Dropped);
        Assert.Equal(record.Tombstones, decoded.Tombstones);
        Assert.Throws<FormatException>(() => SegmentRecords.Decode(writer.WrittenSpan[FrameFormat.FrameHeaderSize..], [.. key.Reverse()]));
    }

    [Fact]
    public void Frame_Version2_MatchesBaseline_AndDecodesToTheSameFields()
    {
        FrameFormat.FrameFields fields = SampleFields();
        byte[] payload = [0x82, 0xA1, 0x61, 0x01, 0xA1, 0x62, 0xC3]; // {"a":1,"b":true}
        using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            fields.Hash = FrameFormat.ComputeHash(sha, fields, payload);
        }

        AssertMatchesBaseline("frame-hash-v2.hex", fields.Hash.ToArray());

        using var writer = new PooledBufferWriter(256);
        int length = FrameFormat.WriteFrame(writer, fields, payload);
        AssertMatchesBaseline("frame-v2.hex", writer.WrittenSpan);

        Assert.True(FrameFormat.CrcMatches(writer.WrittenSpan));
        FrameFormat.FrameFields decoded = FrameFormat.ReadBody(writer.WrittenMemory[FrameFormat.FrameHeaderSize..length], out ReadOnlyMemory<byte> decodedPayload);
        Assert.Equal(payload, decodedPayload.ToArray());
        Assert.Equal(fields.EventId, decoded.EventId);
        Assert.Equal(fields.CausationId, decoded.CausationId);
        Assert.Equal(fields.Hash, decoded.Hash);
        Assert.Equal(fields.PrevHash, decoded.PrevHash);
        Assert.Equal(fields.Entity, decoded.Entity);
        Assert.Equal(fields.IdempotencyKey, decoded.IdempotencyKey);
        Assert.Equal(fields.BypassReason, decoded.BypassReason);
        Assert.Equal((fields.GlobalSequence, fields.EntitySequence, fields.TimestampMicroseconds, fields.WallMilliseconds, fields.Counter, fields.Depth, fields.Kind, fields.Flags),
            (decoded.GlobalSequence, decoded.EntitySequence, decoded.TimestampMicroseconds, decoded.WallMilliseconds, decoded.Counter, decoded.Depth, decoded.Kind, decoded.Flags));
    }

    [Theory]
    [InlineData(10)]
    [InlineData(5000)] // above the one-shot buffer: hashed incrementally
    public void ComputeHash_IsSha256OfTheDocumentedVersion2Input_ForSmallAndLargePayloads(int payloadLength)
    {
        FrameFormat.FrameFields fields = SampleFields();
        byte[] payload = Enumerable.Range(0, payloadLength).Select(i => (byte)i).ToArray();
        var expected = new List<byte>();
        expected.AddRange(fields.PrevHash.ToArray());
        foreach (EventId id in new[] { fields.EventId, fields.CorrelationId, fields.CausationId })
        {
            byte[] idBytes = new byte[16];
            id.WriteBytes(idBytes);
            expected.AddRange(idBytes);
        }

        void Big(long value, int size)
        {
            for (int i = size - 1; i >= 0; i--)
            {
                expected.Add((byte)(value >> (8 * i)));
            }
        }

        Big(fields.GlobalSequence, 8);
        Big(fields.TimestampMicroseconds, 8);
        Big(fields.EntitySequence, 8);
        Big(fields.Depth, 4);
        Big(fields.Kind, 2);
        Big(fields.Flags & ~(int)EventFlags.Tombstone, 2);
        Big(fields.WallMilliseconds, 8);
        Big(fields.Counter, 4);
        foreach (string? text in new[] { fields.Entity, fields.Scope, fields.IdempotencyKey, fields.BypassReason })
        {
            if (text is null)
            {
                Big(-1, 4);
                continue;
            }

            byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(text);
            Big(utf8.Length, 4);
            expected.AddRange(utf8);
        }

        Big(payload.Length, 4);
        expected.AddRange(payload);

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(expected.ToArray())), FrameFormat.ComputeHash(sha, fields, payload).ToString());
    }

    [Fact]
    public void ReadBody_EveryTruncationAndByteFlipOfAValidBody_DecodesTheSameOrThrowsFormatException()
    {
        FrameFormat.FrameFields fields = SampleFields();
        using var writer = new PooledBufferWriter(256);
        FrameFormat.WriteFrame(writer, fields, [9, 8, 7]);
        byte[] body = writer.WrittenSpan[FrameFormat.FrameHeaderSize..].ToArray();

        for (int length = 0; length < body.Length; length++)
        {
            Assert.Throws<FormatException>(() => FrameFormat.ReadBody(body.AsMemory(0, length), out _));
        }

        var random = new Random(11);
        for (int i = 0; i < 2000; i++)
        {
            byte[] damaged = (byte[])body.Clone();
            damaged[random.Next(damaged.Length)] ^= (byte)(1 << random.Next(8));
            try
            {
                FrameFormat.FrameFields read = FrameFormat.ReadBody(damaged, out ReadOnlyMemory<byte> payload);
                Assert.True(payload.Length <= damaged.Length);
                Assert.True(read.GlobalSequence >= 0 && read.EntitySequence >= 0);
            }
            catch (FormatException)
            {
                // the documented outcome for a malformed body
            }
        }
    }

    [Fact]
    public void Frame_WithExtraTrailingFields_StillDecodes()
    {
        // Forward compatibility: a later minor version may append fields; version-1 readers skip them.
        FrameFormat.FrameFields fields = SampleFields();
        using var writer = new PooledBufferWriter(256);
        FrameFormat.WriteFrame(writer, fields, [1, 2, 3]);
        byte[] body = writer.WrittenSpan[FrameFormat.FrameHeaderSize..].ToArray();
        Assert.Equal(0xDC, body[0] & 0xFF); // array16 header: 0xDC 0x00 0x13 (19 fields)
        body[2] = 20;
        byte[] extended = [.. body, 0xA3, (byte)'n', (byte)'e', (byte)'w'];
        FrameFormat.FrameFields decoded = FrameFormat.ReadBody(extended, out ReadOnlyMemory<byte> payload);
        Assert.Equal(new byte[] { 1, 2, 3 }, payload.ToArray());
        Assert.Equal(fields.BypassReason, decoded.BypassReason);
    }

    [Fact]
    public void ReadBody_SpanAndMemoryOverloads_DecodeTheSameFieldsAndPayload()
    {
        FrameFormat.FrameFields fields = SampleFields();
        using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            fields.Hash = FrameFormat.ComputeHash(sha, fields, [5, 6, 7, 8]);
        }

        using var writer = new PooledBufferWriter(256);
        FrameFormat.WriteFrame(writer, fields, [5, 6, 7, 8]);
        byte[] body = writer.WrittenSpan[FrameFormat.FrameHeaderSize..].ToArray();

        // Padding around the body: the payload position is relative to the body, not to whatever holds it.
        byte[] padded = [0xEE, 0xEE, .. body, 0xEE];
        foreach (bool skipCoordinate in new[] { false, true })
        {
            FrameFormat.FrameFields fromMemory = FrameFormat.ReadBody(body.AsMemory(), out ReadOnlyMemory<byte> payload, skipCoordinate: skipCoordinate);
            FrameFormat.FrameFields fromSpan = FrameFormat.ReadBody(padded.AsSpan(2, body.Length), out int payloadStart, out int payloadLength, skipCoordinate: skipCoordinate);
            Assert.Equal(fromMemory, fromSpan);
            Assert.Equal(new byte[] { 5, 6, 7, 8 }, body.AsSpan(payloadStart, payloadLength).ToArray());
            Assert.Equal(payload.ToArray(), body.AsSpan(payloadStart, payloadLength).ToArray());
            Assert.Equal(skipCoordinate ? string.Empty : fields.Entity, fromSpan.Entity);
            Assert.Equal(fields.Hash, fromSpan.Hash);
        }

        var interner = new StringInterner();
        FrameFormat.FrameFields interned = FrameFormat.ReadBody(body, out _, out _, interner);
        Assert.Same(interned.Entity, FrameFormat.ReadBody(body, out _, out _, interner).Entity);
    }

    [Fact]
    public void ReadBody_SpanOverload_EveryTruncationAndByteFlip_AgreesWithTheMemoryOverloadOrThrowsFormatException()
    {
        FrameFormat.FrameFields fields = SampleFields();
        using var writer = new PooledBufferWriter(256);
        FrameFormat.WriteFrame(writer, fields, [9, 8, 7]);
        byte[] body = writer.WrittenSpan[FrameFormat.FrameHeaderSize..].ToArray();

        for (int length = 0; length < body.Length; length++)
        {
            Assert.Throws<FormatException>(() => FrameFormat.ReadBody(body.AsSpan(0, length), out _, out _));
        }

        var random = new Random(12);
        int decoded = 0;
        for (int i = 0; i < 2000; i++)
        {
            byte[] damaged = (byte[])body.Clone();
            damaged[random.Next(damaged.Length)] ^= (byte)(1 << random.Next(8));
            FrameFormat.FrameFields fromMemory;
            ReadOnlyMemory<byte> payload;
            try
            {
                fromMemory = FrameFormat.ReadBody(damaged.AsMemory(), out payload);
            }
            catch (FormatException)
            {
                Assert.Throws<FormatException>(() => FrameFormat.ReadBody(damaged.AsSpan(), out _, out _));
                continue;
            }

            FrameFormat.FrameFields fromSpan = FrameFormat.ReadBody(damaged.AsSpan(), out int payloadStart, out int payloadLength);
            Assert.Equal(fromMemory, fromSpan);
            Assert.Equal(payload.ToArray(), damaged.AsSpan(payloadStart, payloadLength).ToArray());
            decoded++;
        }

        Assert.True(decoded > 0, "some flips (in the payload, say) leave a decodable body");
    }

    public static TheoryData<string, byte[]> MalformedBodies() => new()
    {
        { "empty", [] },
        { "never-used type code", [0xC1] },
        { "bin length past the end", [0xDC, 0x00, 0x13, 0x00, 0xC6, 0xFF, 0xFF, 0xFF, 0xF0, 0x01] },
        { "integer out of range", [0xDC, 0x00, 0x13, 0x00, 0xC4, 0x10, .. new byte[16], 0xC4, 0x10, .. new byte[16], 0xC0, 0x00, 0x00, 0xCF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] },
        { "three fields", [0x93, 0x01, 0x02, 0x03] },
        { "a map, not an array", [0x81, 0x01, 0x02] },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public void ReadBody_MalformedBody_ThrowsFormatExceptionThroughBothOverloads(string what, byte[] body)
    {
        Assert.Throws<FormatException>(() => FrameFormat.ReadBody(body.AsMemory(), out _));
        FormatException ex = Assert.Throws<FormatException>(() => FrameFormat.ReadBody(body.AsSpan(), out _, out _));
        Assert.False(string.IsNullOrEmpty(ex.Message), what);
    }

    [Fact]
    public void ReadBody_SpanOverload_FrameWithExtraTrailingFields_TakesTheGeneralReaderAndFindsThePayload()
    {
        FrameFormat.FrameFields fields = SampleFields();
        using var writer = new PooledBufferWriter(256);
        FrameFormat.WriteFrame(writer, fields, [1, 2, 3]);
        byte[] body = writer.WrittenSpan[FrameFormat.FrameHeaderSize..].ToArray();
        body[2] = 20; // one field more than this version writes: the fast reader declines
        byte[] extended = [.. body, 0xA3, (byte)'n', (byte)'e', (byte)'w'];
        FrameFormat.FrameFields fromSpan = FrameFormat.ReadBody(extended.AsSpan(), out int payloadStart, out int payloadLength);
        FrameFormat.FrameFields fromMemory = FrameFormat.ReadBody(extended.AsMemory(), out ReadOnlyMemory<byte> payload);
        Assert.Equal(new byte[] { 1, 2, 3 }, extended.AsSpan(payloadStart, payloadLength).ToArray());
        Assert.Equal(payload.ToArray(), extended.AsSpan(payloadStart, payloadLength).ToArray());
        Assert.Equal(fromMemory, fromSpan);
        Assert.Equal(fields.BypassReason, fromSpan.BypassReason);
    }

    private static FrameFormat.FrameFields SampleFields() => new()
    {
        GlobalSequence = 41,
        EventId = EventId.Parse("019b76da-a800-7000-8000-000000000001"),
        CorrelationId = EventId.Parse("019b76da-a800-7000-8000-000000000000"),
        CausationId = EventId.Parse("019b76da-a800-7000-8000-000000000000"),
        TimestampMicroseconds = 1767225600000123,
        WallMilliseconds = 1767225600000,
        Counter = 2,
        Depth = 1,
        EntitySequence = 5,
        Kind = 0x1002,
        Flags = (ushort)EventFlags.RequiresAck,
        PrevHash = EventHash.FromBytes(Enumerable.Repeat((byte)0xAB, 32).ToArray()),
        Entity = "order:507",
        Scope = "tenant:acme",
        IdempotencyKey = "key-1",
        BypassReason = null,
    };

    private static void AssertMatchesBaseline(string name, ReadOnlySpan<byte> actual)
    {
        string actualHex = Convert.ToHexStringLower(actual);
        if (Environment.GetEnvironmentVariable("BATPAK_UPDATE_GOLDEN") == "1")
        {
            string source = Path.Combine(FindSourceGoldenDirectory(), name);
            File.WriteAllText(source, actualHex + "\n");
            return;
        }

        string path = Path.Combine(s_goldenDirectory, name);
        Assert.True(File.Exists(path), $"Missing baseline {name}; create it with BATPAK_UPDATE_GOLDEN=1.");
        Assert.Equal(File.ReadAllText(path).Trim(), actualHex);
    }

    private static string FindSourceGoldenDirectory()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Batpak.Sdk.Tests.csproj")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return Path.Combine(dir ?? throw new InvalidOperationException("tests/Batpak.Sdk.Tests not found above the test binaries"), "Golden");
    }
}
