using System.Buffers.Binary;
using System.Text;
using Xunit.Abstractions;

namespace Batpak.Tests.Faults;

/// <summary>
/// Torn and corrupt files: every outcome of opening damaged data is either a repair the format documents (a torn
/// tail of the active segment cut and reported, a torn header of the active segment recreated) or a
/// <see cref="CorruptSegmentException"/> naming the segment and offset; never another exception type, and never an
/// earlier good event silently gone.
/// </summary>
public sealed class CorruptionTests(ITestOutputHelper output)
{
    private const long SegmentBytes = 4096;
    private static readonly Coordinate[] s_entities = [new("acct:alice", "bank"), new("acct:bob", "bank"), new("audit:log", "ops")];

    private sealed record Written(AppendReceipt Receipt, string Entity, byte[] Payload);

    /// <summary>A store written once; its segment files are kept in memory and restored before each damage.</summary>
    private sealed class Fixture : IDisposable
    {
        private readonly TempDirectory _dir = new();

        public Fixture(int events, Func<int, bool>? batchAt = null)
        {
            using (EventStore store = Open())
            {
                for (int i = 0; Events.Count < events; i++)
                {
                    Coordinate c = s_entities[i % s_entities.Length];
                    byte[] payload = Encoding.UTF8.GetBytes($"payload-{i}-" + new string((char)('a' + (i % 26)), 40 + (i * 7 % 90)));
                    if (batchAt?.Invoke(Events.Count) == true)
                    {
                        EventData[] batch = [new(c, TestEvents.Created, payload), new(s_entities[(i + 1) % 3], TestEvents.Updated, payload), new(c, TestEvents.Audit, payload)];
                        IReadOnlyList<AppendReceipt> receipts = store.AppendBatch(batch);
                        for (int k = 0; k < receipts.Count; k++)
                        {
                            Events.Add(new Written(receipts[k], batch[k].Coordinate.Entity, payload));
                        }
                    }
                    else
                    {
                        Events.Add(new Written(store.Append(c, TestEvents.Created, payload), c.Entity, payload));
                    }
                }
            }

            foreach (string file in Directory.GetFiles(_dir.Path, "*.fbat"))
            {
                Files[int.Parse(System.IO.Path.GetFileNameWithoutExtension(file), System.Globalization.CultureInfo.InvariantCulture)] = File.ReadAllBytes(file);
            }
        }

        public string Path => _dir.Path;

        public List<Written> Events { get; } = new();

        public SortedDictionary<int, byte[]> Files { get; } = new();

        public int LastId => Files.Keys.Max();

        public int HeaderLength(int segmentId) => 8 + (int)BinaryPrimitives.ReadUInt32BigEndian(Files[segmentId].AsSpan(4)) + Batpak.Storage.FrameFormat.SegmentHeaderCrcSize;

        public string SegmentPath(int id) => System.IO.Path.Combine(_dir.Path, $"{id:D6}.fbat");

        public EventStore Open() => TestEvents.Open(_dir.Path, o => o.SegmentMaxBytes = SegmentBytes);

        /// <summary>Restores every segment as written, then lets <paramref name="damage"/> change the files.</summary>
        public void Restore(Action<Fixture>? damage = null)
        {
            foreach (string file in Directory.GetFiles(_dir.Path, "*.fbat"))
            {
                File.Delete(file);
            }

            foreach ((int id, byte[] bytes) in Files)
            {
                File.WriteAllBytes(SegmentPath(id), bytes);
            }

            damage?.Invoke(this);
        }

        public void Dispose() => _dir.Dispose();
    }

    /// <summary>The store holds exactly <paramref name="expected"/> (ids, order, payloads), its chains verify, and it appends.</summary>
    private static void AssertHolds(EventStore store, IReadOnlyList<Written> expected, string context)
    {
        List<StoredEvent> all = store.ReadPage(0, 100_000).Events.ToList();
        Assert.True(expected.Count == all.Count, $"{context}: expected {expected.Count} events, found {all.Count}; recovery: {store.GetStats().Recovery}");
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Receipt.EventId, all[i].Id);
            Assert.Equal(expected[i].Entity, all[i].Coordinate.Entity);
            Assert.True(expected[i].Payload.AsSpan().SequenceEqual(all[i].Payload.Span), $"{context}: payload of event {i} differs");
        }

        ChainVerification chain = store.VerifyAll();
        Assert.True(chain.IsValid, $"{context}: {chain.Failure}");
        AppendReceipt next = store.Append(s_entities[0], TestEvents.Updated, TestEvents.Payload(7));
        Assert.Equal(expected.Count, next.GlobalSequence);
        Assert.Equal(next.EventId, store.Get(next.EventId).Id);
    }

    [Fact]
    public void Open_ActiveSegmentCutAtEveryOffsetOfItsLastFrame_RecoversEarlierEventsAndReportsTheCut()
    {
        using var fixture = new Fixture(40);
        Written last = fixture.Events[^1];
        Assert.True(last.Receipt.Position.SegmentId == fixture.LastId && fixture.LastId > 1, "the fixture needs a sealed segment and a last frame in the active one");
        long start = last.Receipt.Position.Offset;
        int length = last.Receipt.Position.Length;
        List<Written> before = fixture.Events.GetRange(0, fixture.Events.Count - 1);
        for (long cut = start; cut < start + length; cut++)
        {
            fixture.Restore(f => Truncate(f.SegmentPath(f.LastId), cut));
            using EventStore store = fixture.Open();
            RecoveryReport report = store.GetStats().Recovery;
            if (cut == start)
            {
                Assert.Null(report.TruncationReason); // the frame is simply not there: a clean end
            }
            else
            {
                Assert.Equal(start, report.TruncatedAtOffset);
                Assert.Equal(cut - start, report.TruncatedBytes);
                Assert.Contains($"at offset {start}", report.TruncationReason, StringComparison.Ordinal);
                Assert.Equal(start, new FileInfo(fixture.SegmentPath(fixture.LastId)).Length); // cut back to the last good frame
            }

            AssertHolds(store, before, $"cut at {cut}");
        }

        output.WriteLine($"{length} cuts of a {length}-byte frame at offset {start} of segment {fixture.LastId}");
    }

    [Fact]
    public void Open_ActiveSegmentCutAtEveryOffsetOfALastBatch_DropsTheWholeBatch()
    {
        using var fixture = new Fixture(22, batchAt: n => n == 19);
        Assert.Equal(22, fixture.Events.Count);
        List<Written> batch = fixture.Events.GetRange(19, 3);
        Assert.All(batch, w => Assert.Equal(fixture.LastId, w.Receipt.Position.SegmentId));
        long start = batch[0].Receipt.Position.Offset;
        long end = batch[^1].Receipt.Position.Offset + batch[^1].Receipt.Position.Length;
        List<Written> before = fixture.Events.GetRange(0, 19);
        for (long cut = start + 1; cut < end; cut++)
        {
            fixture.Restore(f => Truncate(f.SegmentPath(f.LastId), cut));
            using EventStore store = fixture.Open();
            RecoveryReport report = store.GetStats().Recovery;
            Assert.Equal(start, report.TruncatedAtOffset);
            Assert.Equal(cut - start, report.TruncatedBytes);
            if (cut >= batch[1].Receipt.Position.Offset)
            {
                // Once the batch's first frame is whole, the scanner knows it is cutting a batch.
                Assert.Contains("batch", report.TruncationReason, StringComparison.Ordinal);
            }

            AssertHolds(store, before, $"cut at {cut}");
        }
    }

    [Fact]
    public void Open_RandomBitFlips_ThrowCorruptSegmentNamingTheFrameOrCutOnlyTheLastFrame()
    {
        int seed = FaultSettings.Seed();
        int flips = 60 * FaultSettings.Scale;
        output.WriteLine($"seed {seed}, {flips} flips");
        var random = new Random(seed);
        using var fixture = new Fixture(45);
        Assert.True(fixture.LastId >= 3, "the fixture needs two sealed segments");
        int corrupt = 0, cut = 0, harmless = 0;
        for (int n = 0; n < flips; n++)
        {
            // Half the flips hit the active segment, half a sealed one; one in eight lands in a segment header.
            int segment = random.Next(2) == 0 ? fixture.LastId : 1 + random.Next(fixture.LastId - 1);
            byte[] file = fixture.Files[segment];
            int headerLength = fixture.HeaderLength(segment);
            int offset = random.Next(8) == 0 ? random.Next(headerLength) : headerLength + random.Next(file.Length - headerLength);
            int bit = random.Next(8);
            string context = $"flip {n}: segment {segment}, offset {offset}, bit {bit} (seed {seed})";
            fixture.Restore(f => FlipBit(f.SegmentPath(segment), offset, bit));
            Written? hit = fixture.Events.FirstOrDefault(w => w.Receipt.Position.SegmentId == segment && offset >= w.Receipt.Position.Offset && offset < w.Receipt.Position.Offset + w.Receipt.Position.Length);
            EventStore store;
            try
            {
                store = fixture.Open();
            }
            catch (CorruptSegmentException ex)
            {
                corrupt++;
                Assert.True(segment == ex.SegmentId, $"{context}: the exception names segment {ex.SegmentId}: {ex.Message}");
                if (hit is not null)
                {
                    Assert.True(hit.Receipt.Position.Offset == ex.Offset, $"{context}: the exception names offset {ex.Offset}, the damaged frame starts at {hit.Receipt.Position.Offset}: {ex.Message}");
                }

                continue;
            }

            using (store)
            {
                RecoveryReport report = store.GetStats().Recovery;
                if (report.TruncationReason is null)
                {
                    // Only the header's informational fields (created time, reserved flags) carry no checksum.
                    Assert.True(hit is null && offset < headerLength, $"{context}: a damaged frame went unnoticed");
                    harmless++;
                    AssertHolds(store, fixture.Events, context);
                    continue;
                }

                // The documented repair: a bad last frame of the active segment is a torn tail.
                Assert.True(hit is not null && segment == fixture.LastId && hit == fixture.Events[^1], $"{context}: recovery cut data that was not the active segment's last frame: {report}");
                Assert.Equal(hit.Receipt.Position.Offset, report.TruncatedAtOffset);
                cut++;
                AssertHolds(store, fixture.Events.GetRange(0, fixture.Events.Count - 1), context);
            }
        }

        output.WriteLine($"{corrupt} refused with CorruptSegmentException, {cut} cut as a torn last frame, {harmless} harmless header flips");
    }

    [Theory]
    [InlineData(0, 4)] // length + 2^28: claims more bytes than the file has (looked like a torn frame)
    [InlineData(3, 6)] // length + or - 64: ends inside the next frame
    [InlineData(3, 0)] // length +/- 1
    public void Open_FlippedLengthFieldOfAMiddleFrameInTheActiveSegment_ThrowsInsteadOfCuttingLaterFrames(int lengthByte, int bit)
    {
        // Regression: recovery used to look for a good frame only where the damaged length said the frame ends, so
        // one flipped length bit made every later acknowledged frame of the active segment look like a torn tail.
        using var fixture = new Fixture(45);
        Written victim = fixture.Events.Where(w => w.Receipt.Position.SegmentId == fixture.LastId).SkipLast(2).Last();
        fixture.Restore(f => FlipBit(f.SegmentPath(f.LastId), (int)victim.Receipt.Position.Offset + lengthByte, bit));
        var ex = Assert.Throws<CorruptSegmentException>(() => fixture.Open().Dispose());
        Assert.Equal(fixture.LastId, ex.SegmentId);
        Assert.Equal(victim.Receipt.Position.Offset, ex.Offset);
        Assert.Contains("valid frames follow", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, byte[]> CrcValidMalformedBodies() => new()
    {
        // An id whose bin32 length runs past the end: MessagePackReader threw ArgumentOutOfRangeException.
        { "bin length past the end", [0xDC, 0x00, 0x13, 0x00, 0xC6, 0xFF, 0xFF, 0xFF, 0xF0, 0x01] },
        // A uint64 where a u32 counter belongs: OverflowException.
        { "integer out of range", [0xDC, 0x00, 0x13, 0x00, 0xC4, 0x10, .. new byte[16], 0xC4, 0x10, .. new byte[16], 0xC0, 0x00, 0x00, 0xCF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] },
        // Too few fields.
        { "three fields", [0x93, 0x01, 0x02, 0x03] },
        // Twenty fields whose extra one nests arrays a hundred thousand deep (skipped, not decoded).
        { "deeply nested extra field", GoodBodyWithExtraField([.. Enumerable.Repeat((byte)0x91, 100_000), 0xC0]) },
    };

    [Theory]
    [MemberData(nameof(CrcValidMalformedBodies))]
    public void Open_FrameWithGoodCrcButMalformedBody_ThrowsCorruptSegment(string what, byte[] body)
    {
        using var fixture = new Fixture(30);
        byte[] frame = new byte[8 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)body.Length);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), System.IO.Hashing.Crc32.HashToUInt32(body));
        body.CopyTo(frame, 8);
        foreach (bool sealedSegment in new[] { false, true })
        {
            // In a sealed segment the frame goes before the seal, which must stay the last frame.
            int segment = sealedSegment ? 1 : fixture.LastId;
            long at = sealedSegment ? SealOffset(fixture.Files[segment]) : fixture.Files[segment].Length;
            fixture.Restore(f => File.WriteAllBytes(f.SegmentPath(segment), [.. f.Files[segment].AsSpan(0, (int)at), .. frame, .. f.Files[segment].AsSpan((int)at)]));
            var ex = Assert.Throws<CorruptSegmentException>(() => fixture.Open().Dispose());
            Assert.Equal(segment, ex.SegmentId);
            Assert.Equal(at, ex.Offset);
            output.WriteLine($"{what}: {ex.Message}");
        }
    }

    /// <summary>The offset of a sealed segment's last frame, its seal.</summary>
    private static long SealOffset(byte[] segment)
    {
        long offset = 8 + (int)BinaryPrimitives.ReadUInt32BigEndian(segment.AsSpan(4)) + Batpak.Storage.FrameFormat.SegmentHeaderCrcSize;
        long last = offset;
        while (offset < segment.Length)
        {
            last = offset;
            offset += 8 + BinaryPrimitives.ReadUInt32BigEndian(segment.AsSpan((int)offset));
        }

        return last;
    }

    private static byte[] GoodBodyWithExtraField(byte[] extra)
    {
        using var dir = new TempDirectory();
        using (EventStore store = TestEvents.Open(dir.Path))
        {
            store.Append(s_entities[0], TestEvents.Created, TestEvents.Payload(1));
        }

        byte[] file = File.ReadAllBytes(System.IO.Path.Combine(dir.Path, "000001.fbat"));
        int header = 8 + (int)BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(4)) + Batpak.Storage.FrameFormat.SegmentHeaderCrcSize;
        byte[] body = file.AsSpan(header + 8).ToArray();
        Assert.Equal(0x13, body[2]);
        body[2] = 0x14; // 20 fields
        return [.. body, .. extra];
    }

    [Fact]
    public void Open_TornHeaderOfNewActiveSegment_RecreatesItAtEveryCut()
    {
        using var fixture = new Fixture(30);
        int next = fixture.LastId + 1;
        int headerLength = fixture.HeaderLength(fixture.LastId);
        for (int cut = 0; cut < headerLength; cut++)
        {
            // A crash while creating the next segment: its header is written in one write, so it is torn at most.
            fixture.Restore(f => File.WriteAllBytes(f.SegmentPath(next), f.Files[f.LastId].AsSpan(0, cut).ToArray()));
            using EventStore store = fixture.Open();
            RecoveryReport report = store.GetStats().Recovery;
            Assert.Equal(0, report.TruncatedAtOffset);
            Assert.Equal(cut, report.TruncatedBytes);
            Assert.Contains("header", report.TruncationReason, StringComparison.Ordinal);
            AssertHolds(store, fixture.Events, $"header cut at {cut}");
            Assert.Equal(next, store.ReadPage(fixture.Events.Count).Events[0].Position.SegmentId);
        }
    }

    [Fact]
    public void Open_ActiveSegmentWithFramesButDamagedHeaderLength_ThrowsInsteadOfRecreatingIt()
    {
        using var fixture = new Fixture(30);
        int last = fixture.LastId;
        foreach (uint claimed in new uint[] { 0, 5, 40, 2000, 4000, 5000, uint.MaxValue })
        {
            fixture.Restore(f =>
            {
                byte[] bytes = (byte[])f.Files[last].Clone();
                BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), claimed);
                File.WriteAllBytes(f.SegmentPath(last), bytes);
            });
            var ex = Assert.Throws<CorruptSegmentException>(() => fixture.Open().Dispose());
            Assert.Equal(last, ex.SegmentId);
            output.WriteLine($"header length {claimed}: {ex.Message}");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Open_WrongMagic_ThrowsCorruptSegmentAtOffsetZero(bool sealedSegment)
    {
        using var fixture = new Fixture(30);
        int segment = sealedSegment ? 1 : fixture.LastId;
        fixture.Restore(f => Patch(f.SegmentPath(segment), 0, "FBAX"u8));
        var ex = Assert.Throws<CorruptSegmentException>(() => fixture.Open().Dispose());
        Assert.Equal(segment, ex.SegmentId);
        Assert.Equal(0, ex.Offset);
        Assert.Contains("magic", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, (byte)0x03)]
    [InlineData(false, (byte)0x03)]
    [InlineData(true, (byte)0x7F)]
    [InlineData(false, (byte)0xCD)] // a uint16 marker: version 0x???? with the following bytes
    public void Open_WrongVersion_ThrowsCorruptSegmentNamingTheVersion(bool sealedSegment, byte version)
    {
        using var fixture = new Fixture(30);
        int segment = sealedSegment ? 1 : fixture.LastId;
        Assert.Equal(0x95, fixture.Files[segment][8]); // the header is a 5-field array; the version follows it
        fixture.Restore(f =>
        {
            // The header's checksum is recomputed, so the version check itself is what refuses the file.
            byte[] file = File.ReadAllBytes(f.SegmentPath(segment));
            file[9] = version;
            int headerLength = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(4));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(8 + headerLength), System.IO.Hashing.Crc32.HashToUInt32(file.AsSpan(8, headerLength)));
            File.WriteAllBytes(f.SegmentPath(segment), file);
        });
        var ex = Assert.Throws<CorruptSegmentException>(() => fixture.Open().Dispose());
        Assert.Equal(segment, ex.SegmentId);
        Assert.Equal(0, ex.Offset);
        output.WriteLine(ex.Message);
        if (version < 0x80)
        {
            Assert.Contains($"version {version}", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Open_HeaderNamingAnotherSegment_ThrowsCorruptSegment()
    {
        using var fixture = new Fixture(30);
        fixture.Restore(f => File.WriteAllBytes(f.SegmentPath(2), f.Files[1]));
        var ex = Assert.Throws<CorruptSegmentException>(() => fixture.Open().Dispose());
        Assert.Equal(2, ex.SegmentId);
        Assert.Contains("header names segment 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_ZeroLengthSealedSegment_ThrowsCorruptSegment()
    {
        using var fixture = new Fixture(30);
        fixture.Restore(f => File.WriteAllBytes(f.SegmentPath(1), []));
        var ex = Assert.Throws<CorruptSegmentException>(() => fixture.Open().Dispose());
        Assert.Equal(1, ex.SegmentId);
        Assert.Equal(0, ex.Offset);
    }

    [Fact]
    public void Open_ZeroLengthActiveSegment_IsRecreatedAndEarlierEventsKept()
    {
        using var fixture = new Fixture(30);
        fixture.Restore(f => File.WriteAllBytes(f.SegmentPath(f.LastId + 1), []));
        using EventStore store = fixture.Open();
        Assert.Contains("header", store.GetStats().Recovery.TruncationReason, StringComparison.Ordinal);
        AssertHolds(store, fixture.Events, "zero-length active segment");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Open_GarbageSegmentFile_ThrowsCorruptSegment(bool sealedSegment)
    {
        using var fixture = new Fixture(30);
        var random = new Random(12345);
        for (int n = 0; n < 20; n++)
        {
            byte[] garbage = new byte[1 + random.Next(5000)];
            random.NextBytes(garbage);
            int segment = sealedSegment ? 2 : fixture.LastId + 1;
            fixture.Restore(f => File.WriteAllBytes(f.SegmentPath(segment), garbage));
            var ex = Assert.Throws<CorruptSegmentException>(() => fixture.Open().Dispose());

            // A garbage file after the active segment: the segment before it, now not the last, has no seal, which
            // is reported first.
            Assert.True(ex.SegmentId == segment || (!sealedSegment && ex.SegmentId == segment - 1), ex.Message);
        }
    }

    [Fact]
    public void Open_GarbageAfterTheLastFrame_IsCutAsATornTail()
    {
        using var fixture = new Fixture(30);
        var random = new Random(777);
        for (int n = 0; n < 20; n++)
        {
            byte[] garbage = new byte[1 + random.Next(3000)];
            random.NextBytes(garbage);
            if (n % 4 == 0)
            {
                Array.Clear(garbage); // zeros, as a file system may leave after a crash
            }

            fixture.Restore(f => File.AppendAllBytes(f.SegmentPath(f.LastId), garbage));
            using EventStore store = fixture.Open();
            RecoveryReport report = store.GetStats().Recovery;
            Assert.Equal(fixture.Files[fixture.LastId].Length, report.TruncatedAtOffset);
            Assert.Equal(garbage.Length, report.TruncatedBytes);
            AssertHolds(store, fixture.Events, $"garbage tail {n}");
        }
    }

    [Fact]
    public void Open_LargeTornFrameAndLargeRandomTail_AreCutWithoutAQuadraticSearch()
    {
        // Recovery looks for a good frame at every offset after a bad one; over megabytes of random bytes that
        // search must stay linear (it only reads candidates that start like a frame body).
        using var dir = new TempDirectory();
        var random = new Random(99);
        byte[] big = new byte[3 * 1024 * 1024];
        random.NextBytes(big);
        AppendReceipt first, torn;
        using (EventStore store = TestEvents.Open(dir.Path))
        {
            first = store.Append(s_entities[0], TestEvents.Created, TestEvents.Payload(1));
            torn = store.Append(s_entities[0], TestEvents.Created, big);
        }

        string segment = dir.Combine("000001.fbat");
        Truncate(segment, torn.Position.Offset + (torn.Position.Length / 2));
        byte[] tail = new byte[8 * 1024 * 1024];
        random.NextBytes(tail);
        File.AppendAllBytes(segment, tail);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using EventStore reopened = TestEvents.Open(dir.Path);
        output.WriteLine($"recovery over {new FileInfo(segment).Length} bytes took {clock.ElapsedMilliseconds} ms: {reopened.GetStats().Recovery}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"recovery took {clock.Elapsed}");
        Assert.Equal(torn.Position.Offset, reopened.GetStats().Recovery.TruncatedAtOffset);
        Assert.Equal([first.EventId], reopened.ReadPage(0).Events.Select(e => e.Id));
    }

    [Fact]
    public void Open_MissingSegmentInTheMiddle_ThrowsNamingTheMissingId()
    {
        using var fixture = new Fixture(45);
        Assert.True(fixture.LastId >= 3);
        fixture.Restore(f => File.Delete(f.SegmentPath(2)));
        var ex = Assert.Throws<CorruptSegmentException>(() => fixture.Open().Dispose());
        Assert.Equal(2, ex.SegmentId);
        Assert.Contains("Segment 000002", ex.Message, StringComparison.Ordinal);
        Assert.Contains("missing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_SegmentsSwapped_ThrowsCorruptSegment()
    {
        using var fixture = new Fixture(45);
        fixture.Restore(f =>
        {
            // Same ids in the headers as the names, but frames from the wrong place: global order breaks.
            byte[] one = f.Files[1];
            byte[] two = f.Files[2];
            int h1 = f.HeaderLength(1);
            int h2 = f.HeaderLength(2);
            File.WriteAllBytes(f.SegmentPath(1), [.. one.AsSpan(0, h1), .. two.AsSpan(h2)]);
            File.WriteAllBytes(f.SegmentPath(2), [.. two.AsSpan(0, h2), .. one.AsSpan(h1)]);
        });
        var ex = Assert.Throws<CorruptSegmentException>(() => fixture.Open().Dispose());
        Assert.Equal(1, ex.SegmentId); // segment 1 now ends with segment 2's seal
        output.WriteLine(ex.Message);
    }

    [Fact]
    public void Read_SegmentTruncatedWhileOpen_ThrowsCorruptSegmentNotEndOfStream()
    {
        using var fixture = new Fixture(45);
        fixture.Restore();
        using EventStore store = fixture.Open();
        Written victim = fixture.Events.First(w => w.Receipt.Position.SegmentId == 1 && w.Receipt.Position.Offset > 200);
        Truncate(fixture.SegmentPath(1), victim.Receipt.Position.Offset + 3);
        var ex = Assert.Throws<CorruptSegmentException>(() => store.Get(victim.Receipt.EventId));
        Assert.Equal(1, ex.SegmentId);
        Assert.Equal(victim.Receipt.Position.Offset, ex.Offset);
        Assert.False(store.VerifyAll().IsValid);
        Assert.Equal(fixture.Events[0].Receipt.EventId, store.Get(fixture.Events[0].Receipt.EventId).Id);
    }

    private static void Truncate(string path, long length)
    {
        using var stream = new FileStream(path, FileMode.Open);
        stream.SetLength(length);
    }

    private static void FlipBit(string path, int offset, int bit)
    {
        byte[] bytes = File.ReadAllBytes(path);
        bytes[offset] ^= (byte)(1 << bit);
        File.WriteAllBytes(path, bytes);
    }

    private static void Patch(string path, int offset, ReadOnlySpan<byte> with)
    {
        byte[] bytes = File.ReadAllBytes(path);
        with.CopyTo(bytes.AsSpan(offset));
        File.WriteAllBytes(path, bytes);
    }
}
