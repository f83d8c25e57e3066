namespace Batpak.Tests.Store;

/// <summary>
/// The default segment handle budget (1024; it was 64, and a store past 64 segments reopened a file and a map on
/// most random reads): a store with more than 64 segments keeps a handle per segment it read, opened for writing
/// and read-only alike.
/// </summary>
public sealed class HandleBudgetTests
{
    [Fact]
    public void Read_StoreWithMoreThan64Segments_DefaultBudgetKeepsEverySegmentsHandle_WritableAndReadOnly()
    {
        using var dir = new TempDirectory();
        int segments;
        using (EventStore store = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 4096))
        {
            for (int i = 0; store.GetStats().SegmentCount < 80; i++)
            {
                store.Append(new Coordinate("acct:" + (i % 5), "bank"), TestEvents.Created, new byte[512]);
            }

            Assert.Equal(store.GetStats().EventCount, store.Read(Region.All).Count());
            segments = store.GetStats().SegmentCount;
            Assert.Equal(segments, store.GetStats().OpenReadHandles);
        }

        using EventStore readOnly = EventStore.OpenReadOnly(dir.Path);
        Assert.Equal(readOnly.GetStats().EventCount, readOnly.Read(Region.All).Count());
        Assert.Equal(segments, readOnly.GetStats().OpenReadHandles);
    }
}
