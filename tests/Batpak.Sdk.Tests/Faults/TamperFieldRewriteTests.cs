// Owns fault class 6: an attacker who knows the format rewrites one field of one event frame and recomputes the CRC.
// For every event frame of every segment (sealed and active), the body is decoded with FrameFormat.ReadBody, one
// field changed, the frame re-encoded with FrameFormat.WriteFrame (the CRC recomputed, the stored hash kept as it
// was) and spliced back in place (the rest of the file shifted when the length changed). Every such rewrite must be
// detected, and Get of the rewritten event must never serve an altered payload while VerifyAll says the store is valid.
using Batpak.Storage;
using Xunit.Abstractions;

namespace Batpak.Tests.Faults;

public sealed class TamperFieldRewriteTests(ITestOutputHelper output)
{
    /// <summary>A field change: the frame's fields and payload in, the changed ones out, or null when it does not apply to this frame.</summary>
    private delegate (FrameFormat.FrameFields Fields, byte[] Payload)? Rewrite(FrameFormat.FrameFields f, byte[] payload, EventId other);

    private static readonly Dictionary<string, Rewrite> s_rewrites = new(StringComparer.Ordinal)
    {
        ["tombstone flag set, payload kept"] = (f, p, _) => (f with { Flags = (ushort)(f.Flags | (ushort)EventFlags.Tombstone) }, p),
        ["tombstone flag set, payload emptied"] = (f, p, _) => (f with { Flags = (ushort)(f.Flags | (ushort)EventFlags.Tombstone) }, []),
        ["payload changed"] = (f, p, _) => (f, p.Length == 0 ? [0x2A] : [.. p[..^1], (byte)(p[^1] ^ 0x01)]),
        ["payload emptied"] = (f, p, _) => p.Length == 0 ? null : (f, []),
        ["bypass reason added or altered"] = (f, p, _) => (f with { BypassReason = f.BypassReason is null ? "tampered" : f.BypassReason + "!" }, p),
        ["bypass reason removed"] = (f, p, _) => f.BypassReason is null ? null : (f with { BypassReason = null }, p),
        ["idempotency key added"] = (f, p, _) => f.IdempotencyKey is not null ? null : (f with { IdempotencyKey = "tampered-key" }, p),
        ["idempotency key altered"] = (f, p, _) => f.IdempotencyKey is null ? null : (f with { IdempotencyKey = f.IdempotencyKey + "x" }, p),
        ["idempotency key removed"] = (f, p, _) => f.IdempotencyKey is null ? null : (f with { IdempotencyKey = null }, p),
        ["HLC counter"] = (f, p, _) => (f with { Counter = f.Counter + 1 }, p),
        ["HLC wall"] = (f, p, _) => (f with { WallMilliseconds = f.WallMilliseconds + 1 }, p),
        ["correlation id"] = (f, p, other) => (f with { CorrelationId = other }, p),
        ["causation id added or altered"] = (f, p, other) => (f with { CausationId = other }, p),
        ["causation id removed"] = (f, p, _) => f.CausationId.IsEmpty ? null : (f with { CausationId = EventId.Empty }, p),
        ["depth"] = (f, p, _) => (f with { Depth = f.Depth + 1 }, p),
        ["timestamp"] = (f, p, _) => (f with { TimestampMicroseconds = f.TimestampMicroseconds + 1 }, p),
        ["kind"] = (f, p, _) => (f with { Kind = (ushort)(f.Kind ^ 0x0001) }, p),
        ["flag RequiresAck toggled"] = (f, p, _) => (f with { Flags = (ushort)(f.Flags ^ (ushort)EventFlags.RequiresAck) }, p),
        ["flag Transactional toggled"] = (f, p, _) => (f with { Flags = (ushort)(f.Flags ^ (ushort)EventFlags.Transactional) }, p),
        ["flag Replay toggled"] = (f, p, _) => (f with { Flags = (ushort)(f.Flags ^ (ushort)EventFlags.Replay) }, p),
        ["flag Bypassed toggled"] = (f, p, _) => (f with { Flags = (ushort)(f.Flags ^ (ushort)EventFlags.Bypassed) }, p),
        ["undefined flag bit 7 toggled"] = (f, p, _) => (f with { Flags = (ushort)(f.Flags ^ 0x0080) }, p),
    };

    public static TheoryData<string> Fields() => [.. s_rewrites.Keys];

    /// <summary>One point per event frame the rewrite applies to, in every segment.</summary>
    private static IEnumerable<FaultPoint> Points(TamperFixture fixture, string field)
    {
        Rewrite rewrite = s_rewrites[field];
        foreach (string name in fixture.SegmentNames)
        {
            byte[] file = fixture.Files[name];
            IReadOnlyList<FrameSpan> frames = fixture.FramesOf(name);
            for (int i = 0; i < frames.Count; i++)
            {
                FrameSpan frame = frames[i];
                FrameFormat.FrameFields fields = FrameFormat.ReadBody(file.AsMemory((int)frame.Offset + FrameFormat.FrameHeaderSize, frame.Length - FrameFormat.FrameHeaderSize), out ReadOnlyMemory<byte> payload);
                Assert.Equal(TamperBytes.Slice(file, frame), Encode(fields, payload.Span)); // the codec round-trips the untouched frame, so only the field changes
                EventId other = fixture.Acknowledged.First(e => e.Id != frame.Id && e.Id != fields.CorrelationId && e.Id != fields.CausationId).Id;
                if (rewrite(fields, payload.ToArray(), other) is not { } changed)
                {
                    continue;
                }

                byte[] rewritten = Encode(changed.Fields, changed.Payload);
                Assert.Equal(fields.Hash, changed.Fields.Hash);
                yield return new FaultPoint(
                    $"{name} frame {i} (#{frame.GlobalSequence}, offset {frame.Offset}, {frame.Length} -> {rewritten.Length} bytes): {field}",
                    files => files[name] = TamperBytes.Replace(files[name], frame.Offset, frame.Length, rewritten),
                    frame.Id);
            }
        }
    }

    private static byte[] Encode(in FrameFormat.FrameFields fields, ReadOnlySpan<byte> payload)
    {
        using var writer = new PooledBufferWriter(1024);
        FrameFormat.WriteFrame(writer, fields, payload);
        return writer.WrittenSpan.ToArray();
    }

    [Theory]
    [MemberData(nameof(Fields))]
    public void Open_OneFieldOfAnEventRewrittenWithItsCrcRecomputed_IsDetected(string field)
    {
        using TamperFixture fixture = TamperFixture.Build();
        output.WriteLine(fixture.Describe());
        using var run = new TamperRun(fixture, $"field rewrite with CRC recomputed, {field}", output);
        run.RunAll(Points(fixture, field));
        run.AssertNothingLostOrUndetected();

        // Implied by the line above (an altered payload is an undetected change), kept explicit as its own promise.
        Assert.True(run.AlteredPayloadsServed == 0, $"{field}: Get served an altered payload while VerifyAll said valid, at {run.AlteredPayloadsServed} of {run.Points} points");
    }
}
