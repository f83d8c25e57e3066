// Owns fault class 3: whole segment files. Each file deleted in turn (first, middle, last/active), each renamed to an
// unused id past the last, each pair of adjacent files' names swapped, each sealed file copied to the next unused id,
// and each sealed file copied over every other file. Deleting the active segment while it holds events must be
// detected: a sealed segment is always followed by a created next segment, so a missing one can be told apart.
// Deleting every file is out of scope. TamperCompactedTests reuses Points on compacted stores.
using Xunit.Abstractions;

namespace Batpak.Tests.Faults;

public sealed class TamperFileTests(ITestOutputHelper output)
{
    public static TheoryData<string> Kinds() => ["delete", "rename past the last", "swap adjacent names", "copy to the next id", "copy over another"];

    internal static IEnumerable<FaultPoint> Points(TamperFixture fixture, string kind)
    {
        IReadOnlyList<string> names = fixture.SegmentNames;
        string unused = Batpak.Storage.FrameFormat.SegmentFileName(fixture.UnusedId);
        switch (kind)
        {
            case "delete":
                foreach (string name in names)
                {
                    yield return new FaultPoint($"{Role(fixture, name)} deleted", files => files.Remove(name));
                }

                break;
            case "rename past the last":
                foreach (string name in names)
                {
                    yield return new FaultPoint($"{Role(fixture, name)} renamed to {unused}", files =>
                    {
                        files[unused] = files[name];
                        files.Remove(name);
                    });
                }

                break;
            case "swap adjacent names":
                for (int i = 0; i + 1 < names.Count; i++)
                {
                    string first = names[i], second = names[i + 1];
                    yield return new FaultPoint($"{Role(fixture, first)} and {Role(fixture, second)} swapped", files => (files[first], files[second]) = (files[second], files[first]));
                }

                break;
            case "copy to the next id":
                foreach (string name in fixture.SealedNames)
                {
                    yield return new FaultPoint($"{Role(fixture, name)} copied to {unused}", files => files[unused] = files[name]);
                }

                break;
            case "copy over another":
                foreach (string source in fixture.SealedNames)
                {
                    foreach (string target in names.Where(n => n != source))
                    {
                        yield return new FaultPoint($"{Role(fixture, source)} copied over {Role(fixture, target)}", files => files[target] = files[source]);
                    }
                }

                break;
            default:
                throw new ArgumentException(kind, nameof(kind));
        }
    }

    private static string Role(TamperFixture fixture, string name) => $"{name} ({(name == fixture.ActiveName ? "active" : "sealed")}, {fixture.FramesOf(name).Count} frames)";

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Open_SegmentFileDeletedRenamedSwappedOrCopied_IsDetectedOrHarmless(string kind)
    {
        using TamperFixture fixture = TamperFixture.Build();
        output.WriteLine(fixture.Describe());
        using var run = new TamperRun(fixture, $"files, {kind}", output);
        run.RunAll(Points(fixture, kind));
        run.AssertNothingLostOrUndetected();
    }

    [Fact]
    public void Open_ActiveSegmentHoldingEventsDeleted_IsDetected()
    {
        // The store never seals a segment without creating the next one, so a sealed last segment means one is missing.
        using TamperFixture fixture = TamperFixture.Build();
        Assert.NotEmpty(fixture.FramesOf(fixture.ActiveName));
        using var run = new TamperRun(fixture, "files, the active segment (holding events) deleted", output);
        run.RunAll(Points(fixture, "delete").Where(p => p.Where.StartsWith(fixture.ActiveName, StringComparison.Ordinal)));
        run.AssertNothingLostOrUndetected();
    }
}
