// Owns fault class 5: classes 1 (header bits), 3 (whole files) and 4 (splices in sealed segments) again, on a store
// whose sealed segments were compacted first: merged only (Compact()), with retention dropping a few events, and with
// retention tombstoning them. The acknowledged set is what a fresh read returned right after the compaction: dropped
// events are legitimately gone, tombstoned ones keep their header with an empty payload. The points come from
// TamperHeaderBitTests, TamperFileTests and TamperSpliceTests.
using Xunit.Abstractions;

namespace Batpak.Tests.Faults;

public sealed class TamperCompactedTests(ITestOutputHelper output)
{
    private static readonly TamperCompaction[] s_compactions = [TamperCompaction.Merge, TamperCompaction.Drop, TamperCompaction.Tombstone];

    public static TheoryData<TamperCompaction> Compactions() => [.. s_compactions];

    public static TheoryData<TamperCompaction, string> CompactionsAndFileFaults() => Cross(TamperFileTests.Kinds());

    public static TheoryData<TamperCompaction, string> CompactionsAndSplices() => Cross(TamperSpliceTests.Kinds());

    private static TheoryData<TamperCompaction, string> Cross(TheoryData<string> kinds)
    {
        var data = new TheoryData<TamperCompaction, string>();
        foreach (TamperCompaction compaction in s_compactions)
        {
            foreach (string kind in kinds)
            {
                data.Add(compaction, kind);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Compactions))]
    public void Open_CompactedStoreWithAnyHeaderBitFlipped_IsDetectedOrHarmless(TamperCompaction compaction)
    {
        using TamperFixture fixture = TamperFixture.Build(compaction);
        output.WriteLine(fixture.Describe());
        using var run = new TamperRun(fixture, $"{compaction} compacted, header bits", output);
        run.RunAll(TamperHeaderBitTests.Points(fixture));
        run.AssertNothingLostOrUndetected();
    }

    [Theory]
    [MemberData(nameof(CompactionsAndFileFaults))]
    public void Open_CompactedStoreWithASegmentFileDeletedRenamedSwappedOrCopied_IsDetectedOrHarmless(TamperCompaction compaction, string kind)
    {
        using TamperFixture fixture = TamperFixture.Build(compaction);
        output.WriteLine(fixture.Describe());
        using var run = new TamperRun(fixture, $"{compaction} compacted, files, {kind}", output);
        run.RunAll(TamperFileTests.Points(fixture, kind));
        run.AssertNothingLostOrUndetected();
    }

    [Theory]
    [MemberData(nameof(CompactionsAndSplices))]
    public void Open_CompactedStoreWithFramesSpliced_IsDetectedOrHarmless(TamperCompaction compaction, string kind)
    {
        using TamperFixture fixture = TamperFixture.Build(compaction);
        output.WriteLine(fixture.Describe());
        using var run = new TamperRun(fixture, $"{compaction} compacted, sealed splices, {kind}", output);
        run.RunAll(TamperSpliceTests.Points(fixture, kind));
        run.AssertNothingLostOrUndetected();
    }
}
