using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Hashing;
using System.Security.Cryptography;
using Batpak.Storage;
using CsCheck;
using Microsoft.Win32.SafeHandles;
using Xunit.Abstractions;

namespace Batpak.Tests.Faults;

/// <summary>
/// Property and fuzz tests (CsCheck): the frame codec round-trips arbitrary fields; recovery fed arbitrary bytes
/// either recovers or throws <see cref="CorruptSegmentException"/>, never anything else and never hangs; coordinate
/// validation and region matching obey their definitions. CsCheck prints a seed on failure; pass it back through
/// the <c>seed</c> argument to replay. <c>BATPAK_FAULT_ITERATIONS</c> multiplies the iterations.
/// </summary>
public sealed class PropertyTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_caseTimeout = TimeSpan.FromSeconds(10);

    private static long Iter(int n) => (long)n * FaultSettings.Scale;

    // Text a coordinate or key may hold: no control characters, no lone surrogates (validated before any write).
    private static readonly Gen<string> s_text = Gen.String[Gen.Char[' ', '\uD7FF'], 1, 80];

    private static readonly Gen<EventId> s_ids = Gen.Select(Gen.ULong, Gen.ULong, (hi, lo) => new EventId(new UInt128(hi, lo)));

    private static readonly Gen<EventHash> s_hashes = Gen.Byte.Array[EventHash.Size].Select(b => EventHash.FromBytes(b));

    private static readonly Gen<FrameFormat.FrameFields> s_fields =
        Gen.Select(
            Gen.Select(Gen.Long[0, long.MaxValue], s_ids, s_ids, Gen.Frequency((1, Gen.Const(EventId.Empty)), (2, s_ids)), Gen.Long, Gen.Long, Gen.UInt),
            Gen.Select(Gen.UInt, Gen.Long[0, long.MaxValue], Gen.UShort, Gen.UShort, s_hashes, s_hashes),
            Gen.Select(s_text, s_text, s_text.Null(), s_text.Null(), Gen.UInt),
            (a, b, c) => new FrameFormat.FrameFields
            {
                GlobalSequence = a.Item1,
                EventId = a.Item2,
                CorrelationId = a.Item3,
                CausationId = a.Item4,
                TimestampMicroseconds = a.Item5,
                WallMilliseconds = a.Item6,
                Counter = a.Item7,
                Depth = b.Item1,
                EntitySequence = b.Item2,
                Kind = b.Item3,
                Flags = b.Item4,
                PrevHash = b.Item5,
                Hash = b.Item6,
                Entity = c.Item1,
                Scope = c.Item2,
                IdempotencyKey = c.Item3,
                BypassReason = c.Item4,
                BatchRemaining = c.Item5,
            });

    [Fact]
    public void FrameFormat_WriteThenReadBody_RoundTripsArbitraryFields()
    {
        using IncrementalHash sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Gen.Select(s_fields, Gen.Byte.Array[0, 3000]).Sample((fields, payload) =>
        {
            using var writer = new PooledBufferWriter(256);
            int length = FrameFormat.WriteFrame(writer, fields, payload);
            ReadOnlySpan<byte> frame = writer.WrittenSpan;
            Assert.Equal(frame.Length, length);
            Assert.Equal((uint)(length - FrameFormat.FrameHeaderSize), BinaryPrimitives.ReadUInt32BigEndian(frame));
            Assert.True(FrameFormat.CrcMatches(frame));
            Assert.Equal(Crc32.HashToUInt32(frame[FrameFormat.FrameHeaderSize..]), BinaryPrimitives.ReadUInt32BigEndian(frame[4..]));

            FrameFormat.FrameFields read = FrameFormat.ReadBody(writer.WrittenMemory[FrameFormat.FrameHeaderSize..], out ReadOnlyMemory<byte> readPayload);
            Assert.Equal(fields, read);
            Assert.True(readPayload.Span.SequenceEqual(payload));
            Assert.Equal(FrameFormat.ComputeHash(sha, fields, payload), FrameFormat.ComputeHash(sha, read, readPayload.Span));
        }, iter: Iter(2000), threads: 1);
    }

    [Fact]
    public void FrameFormat_AnyChangedPayloadOrField_ChangesTheHash()
    {
        using IncrementalHash sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Gen.Select(s_fields, Gen.Byte.Array[1, 200], Gen.Int[0, 199], Gen.Byte[1, 255]).Sample((fields, payload, at, xor) =>
        {
            EventHash original = FrameFormat.ComputeHash(sha, fields, payload);
            byte[] changed = (byte[])payload.Clone();
            changed[at % changed.Length] ^= xor;
            Assert.NotEqual(original, FrameFormat.ComputeHash(sha, fields, changed));
            Assert.NotEqual(original, FrameFormat.ComputeHash(sha, fields with { EntitySequence = fields.EntitySequence ^ 1 }, payload));
            Assert.NotEqual(original, FrameFormat.ComputeHash(sha, fields with { Entity = fields.Entity + "x" }, payload));
        }, iter: Iter(500), threads: 1);
    }

    /// <summary>Arbitrary segment files: random bytes, a good header with random frames, good segments mutated, and frames with random bodies but correct CRCs.</summary>
    private static Gen<byte[]> SegmentBytes(byte[] goodSegment, int headerLength)
    {
        Gen<byte[]> random = Gen.Byte.Array[0, 5000];
        Gen<byte[]> headerThenRandom = Gen.Byte.Array[0, 3000].Select(tail => (byte[])[.. goodSegment.AsSpan(0, headerLength), .. tail]);
        Gen<(int Kind, int At, byte Value, int Count)> mutation = Gen.Select(Gen.Int[0, 4], Gen.Int[0, goodSegment.Length - 1], Gen.Byte, Gen.Int[1, 64]);
        Gen<byte[]> mutated = mutation.Array[1, 6].Select(mutations =>
        {
            List<byte> bytes = [.. goodSegment];
            foreach ((int kind, int at, byte value, int count) in mutations)
            {
                int i = Math.Min(at, Math.Max(0, bytes.Count - 1));
                switch (kind)
                {
                    case 0 when bytes.Count > 0: bytes[i] = value; break;
                    case 1 when bytes.Count > 0: bytes[i] ^= (byte)(1 << (value % 8)); break;
                    case 2: bytes.RemoveRange(i, Math.Min(bytes.Count - i, bytes.Count)); break; // truncate
                    case 3: bytes.InsertRange(i, Enumerable.Repeat(value, count)); break;
                    default: bytes.RemoveRange(i, Math.Min(count, bytes.Count - i)); break;
                }
            }

            return bytes.ToArray();
        });

        // Bodies that pass the CRC reach the MessagePack decoder and the index: the hardest input.
        Gen<byte[]> body = Gen.Frequency(
            (3, Gen.Byte.Array[0, 400]),
            (3, Gen.Byte.Array[0, 400].Select(b => (byte[])[0xDC, 0x00, 0x13, .. b])),
            (2, Gen.Int[0, goodSegment.Length - 1].Select(i => OneGoodBody(goodSegment, headerLength, i))),
            (2, Gen.Select(Gen.Int[0, goodSegment.Length - 1], Gen.Int[0, 200], Gen.Byte).Select((i, at, v) =>
            {
                byte[] b = OneGoodBody(goodSegment, headerLength, i);
                b[Math.Min(at, b.Length - 1)] = v;
                return b;
            })));
        Gen<byte[]> crcFrames = body.Array[1, 8].Select(bodies =>
        {
            var bytes = new List<byte>(goodSegment.AsSpan(0, headerLength).ToArray());
            foreach (byte[] b in bodies)
            {
                byte[] head = new byte[8];
                BinaryPrimitives.WriteUInt32BigEndian(head, (uint)b.Length);
                BinaryPrimitives.WriteUInt32BigEndian(head.AsSpan(4), Crc32.HashToUInt32(b));
                bytes.AddRange(head);
                bytes.AddRange(b);
            }

            return bytes.ToArray();
        });

        return Gen.Frequency((1, random), (1, headerThenRandom), (3, mutated), (3, crcFrames));
    }

    /// <summary>The body of the good frame that starts at or after <paramref name="near"/> (or the first one).</summary>
    private static byte[] OneGoodBody(byte[] segment, int headerLength, int near)
    {
        int offset = headerLength;
        int found = headerLength;
        while (offset + 8 <= segment.Length)
        {
            int length = (int)BinaryPrimitives.ReadUInt32BigEndian(segment.AsSpan(offset));
            if (offset >= near || found == headerLength)
            {
                found = offset;
                if (offset >= near)
                {
                    break;
                }
            }

            offset += 8 + length;
        }

        int bodyLength = (int)BinaryPrimitives.ReadUInt32BigEndian(segment.AsSpan(found));
        return segment.AsSpan(found + 8, bodyLength).ToArray();
    }

    private static (byte[] Segment, int HeaderLength) GoodSegment(TempDirectory dir)
    {
        string path = dir.Combine("source");
        using (EventStore store = TestEvents.Open(path))
        {
            EventId cause = EventId.Empty;
            for (int i = 0; i < 12; i++)
            {
                var options = new AppendOptions
                {
                    IdempotencyKey = i % 3 == 0 ? $"key-{i}" : null,
                    CausationId = cause.IsEmpty ? null : cause,
                };
                cause = store.Append(new Coordinate($"e{i % 3}", "s"), TestEvents.Created, TestEvents.Payload(i), options).EventId;
            }

            store.AppendBatch([new(new Coordinate("e0", "s"), TestEvents.Updated, TestEvents.Payload(20)), new(new Coordinate("e1", "s"), TestEvents.Updated, TestEvents.Payload(21))]);
        }

        byte[] bytes = File.ReadAllBytes(Path.Combine(path, "000001.fbat"));
        return (bytes, 8 + (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(4)) + FrameFormat.SegmentHeaderCrcSize);
    }

    private static void RunBounded(Action action, string what)
    {
        BoundedCall.Run(what, s_caseTimeout, action);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SegmentScanner_ArbitraryBytes_RecoversOrThrowsCorruptSegmentOnly(bool asLastSegment)
    {
        using var dir = new TempDirectory();
        (byte[] good, int headerLength) = GoodSegment(dir);
        string file = dir.Combine("000001.fbat");
        int recovered = 0, corrupt = 0;
        SegmentBytes(good, headerLength).Sample(bytes =>
        {
            File.WriteAllBytes(file, bytes);
            RunBounded(() =>
            {
                using SafeFileHandle handle = File.OpenHandle(file, FileMode.Open, FileAccess.Read);
                try
                {
                    SegmentScanner.ScanResult result = SegmentScanner.Scan(handle, 1, asLastSegment, (ref FrameFormat.FrameFields f, DiskPosition p) =>
                    {
                        Assert.True(p.Offset >= headerLength && p.Offset + p.Length <= bytes.Length, $"frame {p} outside the file");
                    });
                    Assert.True(result.ValidEnd <= bytes.Length);
                    Assert.True(asLastSegment || result.TruncationReason is null, "a sealed segment was cut instead of refused");
                    Interlocked.Increment(ref recovered);
                }
                catch (CorruptSegmentException ex)
                {
                    Assert.Equal(1, ex.SegmentId);
                    Assert.InRange(ex.Offset, 0, Math.Max(0, bytes.Length));
                    Interlocked.Increment(ref corrupt);
                }
            }, "a scan");
        }, iter: Iter(600), threads: 1, print: b => Convert.ToHexString(b));
        output.WriteLine($"{recovered} scans recovered, {corrupt} refused");
    }

    [Fact]
    public void EventStore_OpenOnArbitraryLastSegment_OpensConsistentlyOrThrowsCorruptSegmentOnly()
    {
        using var dir = new TempDirectory();
        (byte[] good, int headerLength) = GoodSegment(dir);
        string store = dir.Combine("store");
        int opened = 0, corrupt = 0;
        SegmentBytes(good, headerLength).Sample(bytes =>
        {
            if (Directory.Exists(store))
            {
                Directory.Delete(store, recursive: true);
            }

            Directory.CreateDirectory(store);
            File.WriteAllBytes(Path.Combine(store, "000001.fbat"), bytes);
            RunBounded(() =>
            {
                try
                {
                    using EventStore s = TestEvents.Open(store);
                    List<StoredEvent> events = s.ReadPage(0, 100_000).Events.ToList();
                    Assert.Equal(events.Count, s.GetStats().EventCount);
                    foreach (StoredEvent e in events)
                    {
                        Assert.Equal(e.Id, s.Get(e.Id).Id);
                    }

                    _ = s.VerifyAll(); // may report tampering (bodies with recomputed CRCs), must not throw
                    AppendReceipt next = s.Append(new Coordinate("after", "fuzz"), TestEvents.Created, TestEvents.Payload(1));
                    Assert.Equal(s.GetStats().NextGlobalSequence - 1, next.GlobalSequence);
                    Interlocked.Increment(ref opened);
                }
                catch (CorruptSegmentException)
                {
                    Interlocked.Increment(ref corrupt);
                }
            }, "an open");
        }, iter: Iter(250), threads: 1, print: b => Convert.ToHexString(b));
        output.WriteLine($"{opened} opened, {corrupt} refused");
    }

    private static readonly Gen<string?> s_anyText = Gen.Frequency(
        (1, Gen.Const((string?)null)),
        (1, Gen.Const((string?)string.Empty)),
        (6, Gen.String[0, 300].Select(s => (string?)s)),
        (4, Gen.String[Gen.Char[' ', '\uFFFF'], 1, 40].Select(s => (string?)s)),
        (1, Gen.Int[250, 260].Select(n => (string?)new string('x', n))));

    [Fact]
    public void Coordinate_TryCreate_AgreesWithTheConstructor()
    {
        Gen.Select(s_anyText, s_anyText).Sample((entity, scope) =>
        {
            bool ok = Coordinate.TryCreate(entity, scope, out Coordinate created);
            Coordinate constructed = default;
            ArgumentException? error = null;
            try
            {
                constructed = new Coordinate(entity!, scope!);
            }
            catch (ArgumentException ex)
            {
                Assert.Equal(typeof(ArgumentException), ex.GetType());
                error = ex;
            }

            Assert.Equal(ok, error is null);
            if (ok)
            {
                Assert.Equal(constructed, created);
                Assert.Equal(entity, created.Entity);
                Assert.Equal(scope, created.Scope);
                Assert.True(created.IsValid);
                Assert.InRange(entity!.Length, 1, Coordinate.MaxLength);
                Assert.DoesNotContain(entity, char.IsControl);
            }
            else
            {
                Assert.False(created.IsValid);
                Assert.True(error!.ParamName is "entity" or "scope", error.ParamName);
                bool entityBad = !Coordinate.TryCreate(entity, "ok", out _);
                Assert.Equal(entityBad ? "entity" : "scope", error.ParamName);
            }
        }, iter: Iter(5000));
    }

    private static readonly Gen<string> s_entityNames = Gen.OneOfConst("order:1", "order:12", "order:2", "user:1", "o", "order:", "üser:ß", "order:1:line");
    private static readonly Gen<string> s_scopeNames = Gen.OneOfConst("tenant:a", "tenant:b", "t");
    private static readonly Gen<EventKind> s_kinds = Gen.Select(Gen.Byte[1, 0xC], Gen.UShort[0, 3]).Select((c, t) => EventKind.Create(c, t));

    private static readonly Gen<Region> s_regions = Gen.Select(
        s_entityNames.Null(), Gen.Bool, s_scopeNames.Null(), Gen.Int[0, 2], s_kinds, Gen.Select(Gen.Long[0, 50], Gen.Long[0, 50]), Gen.Select(Gen.Long[-5, 50], Gen.Long[0, 50]))
        .Select((entity, asPrefix, scope, kindMode, kind, seq, ts) =>
        {
            Region r = Region.All;
            if (entity is not null)
            {
                r = asPrefix ? r.WithEntityPrefix(entity) : r.WithEntity(entity);
            }

            if (scope is not null)
            {
                r = r.WithScope(scope);
            }

            r = kindMode switch
            {
                1 => r.WithKinds(KindFilter.Exact(kind)),
                2 => r.WithKinds(KindFilter.Category(kind.Category)),
                _ => r,
            };
            r = r.WithGlobalSequence(Math.Min(seq.Item1, seq.Item2), Math.Max(seq.Item1, seq.Item2));
            return r.WithTimestamps(DateTimeOffset.UnixEpoch.AddTicks(Math.Min(ts.Item1, ts.Item2) * 10), DateTimeOffset.UnixEpoch.AddTicks(Math.Max(ts.Item1, ts.Item2) * 10));
        });

    [Fact]
    public void Region_Matches_IsTheConjunctionOfItsRestrictions()
    {
        Gen.Select(s_regions, s_entityNames, s_scopeNames, s_kinds, Gen.Long[0, 60], Gen.Long[-10, 60]).Sample((region, entity, scope, kind, global, ts) =>
        {
            var c = new Coordinate(entity, scope);
            bool expected =
                (region.Entity is null || region.Entity == entity)
                && (region.EntityPrefix is null || entity.StartsWith(region.EntityPrefix, StringComparison.Ordinal))
                && (region.Scope is null || region.Scope == scope)
                && region.Kinds.Matches(kind)
                && global >= region.FromGlobalSequence && global <= region.ToGlobalSequence
                && ts >= region.FromTimestampMicroseconds && ts <= region.ToTimestampMicroseconds;
            Assert.Equal(expected, region.Matches(c, kind, global, ts));
            Assert.True(Region.All.Matches(c, kind, global, ts));
            Assert.True(region.Entity is null || region.EntityPrefix is null, "entity and prefix exclude each other");
            Assert.True(Region.ForEntityPrefix(entity).Matches(c, kind, global, ts));
            Assert.Equal(kind.Category == 3, KindFilter.Category(3).Matches(kind));
            Assert.True(KindFilter.Exact(kind).Matches(kind) && KindFilter.Any.Matches(kind));
        }, iter: Iter(5000));
    }

    [Fact]
    public void Query_AnyRegion_ReturnsExactlyTheMatchingEventsInGlobalOrder()
    {
        using var dir = new TempDirectory();
        var time = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        using EventStore store = TestEvents.Open(dir.Path, time: time);
        var random = new Random(42);
        string[] entities = ["order:1", "order:12", "order:2", "user:1", "o", "üser:ß", "order:1:line"];
        string[] scopes = ["tenant:a", "tenant:b", "t"];
        for (int i = 0; i < 50; i++)
        {
            time.Advance(TimeSpan.FromTicks(10)); // one microsecond per event: timestamps 1..50
            store.Append(new Coordinate(entities[random.Next(entities.Length)], scopes[random.Next(scopes.Length)]), EventKind.Create((byte)random.Next(1, 0xD), (ushort)random.Next(0, 4)), TestEvents.Payload(i));
        }

        List<StoredEvent> all = store.ReadPage(0).Events.ToList();
        s_regions.Sample(region =>
        {
            List<long> expected = all.Where(e => region.Matches(e.Coordinate, e.Kind, e.Header.GlobalSequence, e.Header.TimestampMicroseconds)).Select(e => e.Header.GlobalSequence).ToList();
            List<long> actual = store.Read(region).Select(e => e.Header.GlobalSequence).ToList();
            Assert.Equal(expected, actual);
        }, iter: Iter(400), threads: 1);
    }
}
