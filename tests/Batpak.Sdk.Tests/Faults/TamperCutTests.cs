// Owns fault class 2: a segment file cut at a frame boundary (at the start of each frame, as SegmentScanner reports
// them, and at the end of the last frame). In a sealed segment every such cut must be detected. In the active
// segment a cut at a frame boundary is the tail of the whole log cut away, which the files alone cannot tell from a
// log that ended there: that test only asserts the store opens with a gap-free prefix of what was acknowledged
// (detecting those cuts needs an external anchor, which is not part of these files).
using Xunit.Abstractions;

namespace Batpak.Tests.Faults;

public sealed class TamperCutTests(ITestOutputHelper output)
{
    /// <summary>One point per frame boundary of the named segments: each frame's start, and the end of the last frame.</summary>
    internal static IEnumerable<FaultPoint> Points(TamperFixture fixture, IEnumerable<string> segments)
    {
        foreach (string name in segments)
        {
            IReadOnlyList<FrameSpan> frames = fixture.FramesOf(name);
            long[] boundaries = frames.Count == 0 ? [fixture.HeaderLength(name)] : [.. frames.Select(f => f.Offset), frames[^1].End];
            for (int i = 0; i < boundaries.Length; i++)
            {
                long cut = boundaries[i];
                string which = i < frames.Count ? $"the start of frame {i} (#{frames[i].GlobalSequence})" : "the end of the last frame";
                yield return new FaultPoint($"{name} cut at offset {cut}, {which}", files => files[name] = TamperBytes.Cut(files[name], cut));
            }
        }
    }

    [Fact]
    public void Open_SealedSegmentCutAtAnyFrameBoundary_IsDetectedOrHarmless()
    {
        using TamperFixture fixture = TamperFixture.Build();
        output.WriteLine(fixture.Describe());
        using var run = new TamperRun(fixture, "sealed cuts at frame boundaries", output);
        run.RunAll(Points(fixture, fixture.SealedNames));
        run.AssertNothingLostOrUndetected();
    }

    [Fact]
    public void Open_ActiveSegmentCutAtAnyFrameBoundary_OpensWithAGapFreePrefixOfTheAcknowledgedEvents()
    {
        using TamperFixture fixture = TamperFixture.Build();
        output.WriteLine(fixture.Describe());
        using var run = new TamperRun(fixture, "active cuts at frame boundaries (a prefix is tolerated)", output, tolerateLostSuffix: true);
        run.RunAll(Points(fixture, [fixture.ActiveName]));
        run.AssertNothingLostOrUndetected();
    }
}
