// Owns fault class 1: every bit of every segment-header byte of every segment file (sealed and active), one flip per
// point. The header region is whatever the format says it is (FrameFormat.TryReadSegmentHeader(path).Length), so the
// test keeps working when the header layout changes. TamperCompactedTests reuses Points on compacted stores.
using Xunit.Abstractions;

namespace Batpak.Tests.Faults;

public sealed class TamperHeaderBitTests(ITestOutputHelper output)
{
    /// <summary>One point per bit of each segment file's header, first file first.</summary>
    internal static IEnumerable<FaultPoint> Points(TamperFixture fixture)
    {
        foreach (string name in fixture.SegmentNames)
        {
            string role = name == fixture.ActiveName ? "active" : "sealed";
            foreach (int offset in Enumerable.Range(0, fixture.HeaderLength(name)))
            {
                foreach (int bit in Enumerable.Range(0, 8))
                {
                    yield return new FaultPoint($"{name} ({role}) header offset {offset} bit {bit}", files => files[name] = TamperBytes.FlipBit(files[name], offset, bit));
                }
            }
        }
    }

    [Fact]
    public void Open_AnyBitOfAnySegmentHeaderFlipped_IsDetectedOrHarmless()
    {
        using TamperFixture fixture = TamperFixture.Build();
        output.WriteLine(fixture.Describe());
        using var run = new TamperRun(fixture, "header bits", output);
        run.RunAll(Points(fixture));
        run.AssertNothingLostOrUndetected();
    }
}
