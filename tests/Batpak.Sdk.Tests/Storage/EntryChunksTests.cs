using Batpak.Storage;

namespace Batpak.Tests.Storage;

/// <summary>The index's native entry store: positions outside the allocated chunks throw in every build, and a disposed store holds nothing.</summary>
public sealed class EntryChunksTests
{
    [Fact]
    public void At_InsideTheChunks_KeepsWhatWasWritten_AndOutsideThrowsArgumentOutOfRange()
    {
        using var chunks = new EntryChunks();
        Assert.Throws<ArgumentOutOfRangeException>(() => chunks.At(0)); // no chunk yet
        chunks.Add();
        chunks.Add();
        int last = chunks.Capacity - 1;
        chunks.At(0).GlobalSequence = 7;
        chunks.At(EntryChunks.ChunkSize).GlobalSequence = 8; // the first entry of the second chunk
        chunks.At(last).GlobalSequence = 9;
        Assert.Equal(2 * EntryChunks.ChunkSize, chunks.Capacity);
        Assert.Equal(7, chunks.At(0).GlobalSequence);
        Assert.Equal(8, chunks.At(EntryChunks.ChunkSize).GlobalSequence);
        Assert.Equal(9, chunks.At(last).GlobalSequence);
        Assert.Throws<ArgumentOutOfRangeException>(() => chunks.At(last + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => chunks.At(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => chunks.At(int.MinValue));
        chunks.Prefetch(last + 1); // a hint outside the chunks is ignored, never dereferenced
    }

    [Fact]
    public void Dispose_FreesEveryChunk_ThenEveryPositionThrows_AndASecondDisposeIsHarmless()
    {
        var chunks = new EntryChunks();
        for (int i = 0; i < 9; i++)
        {
            chunks.Add(); // past the initial table of 4: the table grows, entries do not move
        }

        chunks.At(8 * EntryChunks.ChunkSize).Id = EventId.FromGuid(Guid.NewGuid());
        chunks.Dispose();
        Assert.Equal(0, chunks.Capacity);
        Assert.Throws<ArgumentOutOfRangeException>(() => chunks.At(0));
        chunks.Dispose();
    }
}
