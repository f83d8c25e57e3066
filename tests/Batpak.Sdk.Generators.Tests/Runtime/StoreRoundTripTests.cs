namespace Batpak.Sdk.Generators.Tests.Runtime;

/// <summary>Every supported member type, through a real store, a reopen and the typed read API.</summary>
public class StoreRoundTripTests
{
    [Fact]
    public void Append_EverySupportedMemberType_ReadsBackEqualAfterReopen()
    {
        string directory = Path.Combine(Path.GetTempPath(), "batpak-gen-tests", Guid.NewGuid().ToString("N"));
        try
        {
            AllScalars scalars = RoundTripTests.SampleScalars();
            AllCollections collections = RoundTripTests.SampleCollections();
            AppendReceipt scalarsReceipt;
            AppendReceipt collectionsReceipt;
            using (EventStore store = EventStore.Open(directory))
            {
                scalarsReceipt = store.Append(scalars);
                collectionsReceipt = store.Append(collections);
            }

            using EventStore reopened = EventStore.Open(directory);
            AllScalars readScalars = reopened.Get<AllScalars>(scalarsReceipt.EventId).Event;
            Assert.Equal(scalars.Bytes, readScalars.Bytes);
            Assert.Equal(scalars, readScalars with { Bytes = scalars.Bytes });
            Assert.Equal(scalars.Amount.Scale, readScalars.Amount.Scale);
            Assert.Equal(scalars.AtOffset.Offset, readScalars.AtOffset.Offset);

            AllCollections readCollections = reopened.Get<AllCollections>(collectionsReceipt.EventId).Event;
            Assert.Equal(collections.Ints, readCollections.Ints);
            Assert.Equal(collections.Strings, readCollections.Strings);
            Assert.Equal(collections.Guids, readCollections.Guids);
            Assert.Equal(collections.Counts, readCollections.Counts);
            Assert.Equal(collections.Names, readCollections.Names);
            Assert.Equal(collections.MaybeInts, readCollections.MaybeInts);
            Assert.Equal(collections.Nested, readCollections.Nested);
            Assert.Equal(collections.Jagged, readCollections.Jagged);
            Assert.Equal(collections.Colors, readCollections.Colors);

            // The assembly's generated registry decodes both through the untyped path too.
            Assert.Equal([typeof(AllScalars)], reopened.ReadTyped(Region.ForEntity(BatpakEvents.GetCoordinate(scalars, "default").Entity)).Select(e => e.Event!.GetType()));
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
