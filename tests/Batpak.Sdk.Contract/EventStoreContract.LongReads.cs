using static Batpak.Contract.ContractEvents;

namespace Batpak.Contract;

// The contract of reads longer than a page (a server-side engine fetches 1,000 rows at a time) and of Stream with a
// count: every page is as of the call, and Stream(entity, from, maxCount) returns exactly the asked-for slice.
public abstract partial class EventStoreContract
{
    private const int LongStream = 2_500;

    private static void AppendLongStream(IEventStore store)
    {
        AppendAlice(store, 0, LongStream);
        store.Append(Bob, Created, Payload(-1)); // another entity after it, so a range past Alice's end has something
    }

    /// <summary>Alice's events <paramref name="from"/> to <paramref name="from"/> + <paramref name="count"/> - 1, in batches small enough for the embedded contract's 4 KiB segments.</summary>
    private static void AppendAlice(IEventStore store, int from, int count)
    {
        for (int i = 0; i < count; i += 10)
        {
            store.AppendBatch(Enumerable.Range(from + i, Math.Min(10, count - i)).Select(n => Data(Alice, n)).ToArray());
        }
    }

    private static long[] Sequences(IEnumerable<StoredEvent> events) => events.Select(e => e.Header.Position.Sequence).ToArray();

    private static long[] Range(long from, int count) => Enumerable.Range(0, count).Select(i => from + i).ToArray();

    [SkippableFact]
    public void Stream_WithMaxCount_ReturnsExactlyTheSliceAskedFor_AcrossPages_WithTheRightPayloads()
    {
        IEventStore store = OpenNew();
        AppendLongStream(store);

        StoredEvent single = Assert.Single(store.Stream(Alice.Entity, 7, 1));
        Assert.Equal(Payload(7), single.Payload.ToArray());
        Assert.Equal(Range(200, 1_500), Sequences(store.Stream(Alice.Entity, 200, 1_500)));
        Assert.Equal(Range(0, 1_000), Sequences(store.Stream(Alice.Entity, 0, 1_000)));
        Assert.Equal(Range(0, 1_001), Sequences(store.Stream(Alice.Entity, 0, 1_001)));
        Assert.Equal(Range(2_000, 500), Sequences(store.Stream(Alice.Entity, 2_000, int.MaxValue)));
        Assert.Equal(Range(0, LongStream), Sequences(store.Stream(Alice.Entity)));
        Assert.Equal(Payload(2_499), store.Stream(Alice.Entity, 2_499, 3).Single().Payload.ToArray());
        Assert.Empty(store.Stream(Alice.Entity, 0, 0));
        Assert.Empty(store.Stream(Alice.Entity, LongStream, 5));
        Assert.Empty(store.Stream("acct:nobody", 0, 5));
        Assert.Equal([0L], Sequences(store.Stream(Bob.Entity, 0, 5)));
    }

    [SkippableFact]
    public void Stream_WithANegativeCountOrStart_ThrowsArgumentOutOfRange_NamingIt()
    {
        IEventStore store = OpenNew();
        Assert.Equal("maxCount", Assert.Throws<ArgumentOutOfRangeException>(() => store.Stream(Alice.Entity, 0, -1)).ParamName);
        Assert.Equal("fromSequence", Assert.Throws<ArgumentOutOfRangeException>(() => store.Stream(Alice.Entity, -1, 1)).ParamName);
    }

    [SkippableFact]
    public void Reads_LongerThanAPage_AreAsOfTheCall_EvenWhenAppendsLandBetweenPages()
    {
        IEventStore store = OpenNew();
        AppendLongStream(store);
        IEnumerable<StoredEvent> all = store.Read(Region.All);
        IEnumerable<StoredEvent> alice = store.Read(Region.ForEntity(Alice.Entity));
        IEnumerable<StoredEvent> stream = store.Stream(Alice.Entity);
        IEnumerable<StoredEvent> slice = store.Stream(Alice.Entity, 100, 2_000);

        using IEnumerator<StoredEvent> reading = store.Read(Region.All).GetEnumerator();
        for (int i = 0; i < 1_500; i++)
        {
            Assert.True(reading.MoveNext());
        }

        AppendAlice(store, LongStream, 1_200);

        int rest = 0;
        while (reading.MoveNext())
        {
            rest++;
        }

        Assert.Equal(LongStream + 1 - 1_500, rest);
        Assert.Equal(LongStream + 1, all.Count());
        Assert.Equal(LongStream, alice.Count());
        Assert.Equal(Range(0, LongStream), Sequences(stream));
        Assert.Equal(Range(100, 2_000), Sequences(slice));
        Assert.Equal(LongStream + 1 + 1_200, store.Read(Region.All).Count());
        Assert.Equal(Range(0, LongStream + 1_200), Sequences(store.Stream(Alice.Entity)));
    }

    [SkippableFact]
    public void FilteredReads_LongerThanAPage_ReturnExactlyTheMatchingEvents_InGlobalOrder()
    {
        // Four coordinates and two kinds interleaved, so every filter matches a fraction of each page of the log.
        IEventStore store = OpenNew();
        Coordinate[] coordinates = [Alice, Carol, Log, Bob];
        for (int i = 0; i < 3_200; i += 10)
        {
            store.AppendBatch(Enumerable.Range(i, 10).Select(n => new EventData(coordinates[n % 4], n % 3 == 0 ? Audit : Updated, Payload(n))).ToArray());
        }

        List<StoredEvent> all = store.Read(Region.All).ToList();
        Assert.Equal(3_200, all.Count);
        long[] Expected(Func<StoredEvent, bool> wanted) => all.Where(wanted).Select(e => e.Header.GlobalSequence).ToArray();
        long[] Got(Region region) => store.Read(region).Select(e => e.Header.GlobalSequence).ToArray();

        Assert.Equal(Expected(e => e.Coordinate.Scope == "bank"), Got(Region.ForScope("bank")));
        Assert.Equal(Expected(e => e.Coordinate.Scope == "ops"), Got(Region.ForScope("ops")));
        Assert.Equal(Expected(e => e.Header.Kind == Audit), Got(Region.ForKind(Audit)));
        Assert.Equal(Expected(e => e.Header.Kind.Category == Updated.Category), Got(Region.ForCategory(Updated.Category)));
        Assert.Equal(Expected(e => e.Coordinate.Scope == "bank" && e.Header.Kind == Audit), Got(Region.ForScope("bank").WithKinds(KindFilter.Exact(Audit))));
        Assert.Equal(
            Expected(e => e.Coordinate.Scope == "bank" && e.Header.GlobalSequence >= 1_234 && e.Header.GlobalSequence <= 2_900),
            Got(Region.ForScope("bank").WithGlobalSequence(1_234, 2_900)));
        Assert.Empty(Got(Region.ForScope("nowhere")));
        Assert.All(store.Read(Region.ForScope("other-bank")), e => Assert.Equal(Carol, e.Coordinate));
    }
}
