// Owns fault class 4: splices inside sealed segments, frames moved as whole, intact units (every CRC still matches).
// One frame removed (its bytes cut out, the rest shifted) at every frame, and in particular the only frame of the
// entity that has exactly one event; two adjacent frames swapped; a frame duplicated in place (an identical copy
// inserted right after it). TamperCompactedTests reuses Points on compacted stores.
using Xunit.Abstractions;

namespace Batpak.Tests.Faults;

public sealed class TamperSpliceTests(ITestOutputHelper output)
{
    public static TheoryData<string> Kinds() => ["remove a frame", "swap adjacent frames", "duplicate a frame"];

    internal static IEnumerable<FaultPoint> Points(TamperFixture fixture, string kind)
    {
        foreach (string name in fixture.SealedNames)
        {
            IReadOnlyList<FrameSpan> frames = fixture.FramesOf(name);
            for (int i = 0; i < frames.Count; i++)
            {
                FrameSpan frame = frames[i];
                string at = $"{name} frame {i} of {frames.Count} (#{frame.GlobalSequence}, offset {frame.Offset}, {frame.Length} bytes)";
                switch (kind)
                {
                    case "remove a frame":
                        yield return RemoveFrame(name, frame, at);
                        break;
                    case "duplicate a frame":
                        yield return new FaultPoint($"{at} duplicated", files => files[name] = TamperBytes.Insert(files[name], frame.End, TamperBytes.Slice(files[name], frame)), frame.Id);
                        break;
                    case "swap adjacent frames" when i + 1 < frames.Count:
                        FrameSpan next = frames[i + 1];
                        Assert.Equal(frame.End, next.Offset);
                        yield return new FaultPoint($"{at} swapped with the next frame (#{next.GlobalSequence})", files =>
                        {
                            byte[] bytes = files[name];
                            files[name] = TamperBytes.Replace(bytes, frame.Offset, frame.Length + next.Length, [.. TamperBytes.Slice(bytes, next), .. TamperBytes.Slice(bytes, frame)]);
                        }, frame.Id);
                        break;
                    case "swap adjacent frames":
                        break;
                    default:
                        throw new ArgumentException(kind, nameof(kind));
                }
            }
        }
    }

    private static FaultPoint RemoveFrame(string name, FrameSpan frame, string at) =>
        new($"{at} removed", files => files[name] = TamperBytes.Remove(files[name], frame.Offset, frame.Length), frame.Id);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Open_SealedSegmentFramesSpliced_IsDetectedOrHarmless(string kind)
    {
        using TamperFixture fixture = TamperFixture.Build();
        output.WriteLine(fixture.Describe());
        using var run = new TamperRun(fixture, $"sealed splices, {kind}", output);
        run.RunAll(Points(fixture, kind));
        run.AssertNothingLostOrUndetected();
    }

    [Fact]
    public void Open_TheOnlyFrameOfAnEntityRemovedFromASealedSegment_IsDetected()
    {
        // No later event of the entity points at it, so only the log as a whole can notice that it is gone.
        using TamperFixture fixture = TamperFixture.Build();
        string name = fixture.SealedNames.Single(n => fixture.FramesOf(n).Any(f => f.Id == fixture.SoloId));
        FrameSpan frame = fixture.FramesOf(name).Single(f => f.Id == fixture.SoloId);
        using var run = new TamperRun(fixture, "sealed splices, the only frame of an entity removed", output);
        run.Try(RemoveFrame(name, frame, $"{name} the frame of solo:only (#{frame.GlobalSequence}, offset {frame.Offset})"));
        run.AssertNothingLostOrUndetected();
    }
}
