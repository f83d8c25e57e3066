using static Batpak.Contract.ContractEvents;

namespace Batpak.Contract;

// The contract of reads over many events: every Region restriction alone and combined, Stream, scope and kind regions,
// consistency as of the call, and ReadPage paging to the end of the log.
public abstract partial class EventStoreContract
{
    private static readonly Coordinate s_upperCase = new("Acct:upper", "bank");

    /// <summary>Seven events: 0 alice Created, 1 bob Created, 2 log Audit, 3 alice Updated, 4 carol Updated, 5 "Acct:upper" Created, 6 bob Updated.</summary>
    private static void AppendQueryFixture(IEventStore store)
    {
        store.Append(Alice, Created, Payload(0));
        store.Append(Bob, Created, Payload(1));
        store.Append(Log, Audit, Payload(2));
        store.Append(Alice, Updated, Payload(3));
        store.Append(Carol, Updated, Payload(4));
        store.Append(s_upperCase, Created, Payload(5));
        store.Append(Bob, Updated, Payload(6));
    }

    public static TheoryData<string, long[]> QueryRegions => new()
    {
        { "all", [0, 1, 2, 3, 4, 5, 6] },
        { "entity acct:alice", [0, 3] },
        { "entity acct:nobody", [] },
        { "prefix acct: (ordinal, case-sensitive)", [0, 1, 3, 4, 6] },
        { "prefix equal to an entity", [0, 3] },
        { "scope bank", [0, 1, 3, 5, 6] },
        { "scope nobody", [] },
        { "kind exact Updated", [3, 4, 6] },
        { "kind category 1", [0, 1, 3, 4, 5, 6] },
        { "kind category 2", [2] },
        { "kind any in scope ops", [2] },
        { "global sequence 1..2 inclusive", [1, 2] },
        { "global sequence from 5 on", [5, 6] },
        { "global sequence past the end", [] },
        { "scope bank and kind Updated", [3, 6] },
        { "prefix, scope, category and range together", [1, 3] },
        { "a prefix replaces an earlier exact entity", [2] },
    };

    private static Region QueryRegion(string name) => name switch
    {
        "all" => Region.All,
        "entity acct:alice" => Region.ForEntity("acct:alice"),
        "entity acct:nobody" => Region.ForEntity("acct:nobody"),
        "prefix acct: (ordinal, case-sensitive)" => Region.ForEntityPrefix("acct:"),
        "prefix equal to an entity" => Region.ForEntityPrefix("acct:alice"),
        "scope bank" => Region.ForScope("bank"),
        "scope nobody" => Region.ForScope("nobody"),
        "kind exact Updated" => Region.ForKind(Updated),
        "kind category 1" => Region.ForCategory(0x1),
        "kind category 2" => Region.ForCategory(0x2),
        "kind any in scope ops" => Region.ForScope("ops").WithKinds(KindFilter.Any),
        "global sequence 1..2 inclusive" => Region.All.WithGlobalSequence(1, 2),
        "global sequence from 5 on" => Region.All.WithGlobalSequence(5),
        "global sequence past the end" => Region.All.WithGlobalSequence(7),
        "scope bank and kind Updated" => Region.ForScope("bank").WithKinds(KindFilter.Exact(Updated)),
        "prefix, scope, category and range together" => Region.ForEntityPrefix("acct:").WithScope("bank").WithKinds(KindFilter.Category(0x1)).WithGlobalSequence(1, 5),
        "a prefix replaces an earlier exact entity" => Region.ForEntity("acct:alice").WithEntityPrefix("audit:"),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "no such region"),
    };

    [SkippableTheory]
    [MemberData(nameof(QueryRegions))]
    public void Query_Region_ReturnsExactlyTheMatchingEventsInGlobalOrder(string region, long[] expected)
    {
        IEventStore store = OpenNew();
        AppendQueryFixture(store);

        Assert.Equal(expected, GlobalSequences(store.Read(QueryRegion(region))));
    }

    [SkippableFact]
    public void Query_TimestampRange_IsInclusiveAtBothEnds_AndMatchesTheHeaderTimestamps()
    {
        IEventStore store = OpenNew();
        var timestamps = new List<DateTimeOffset>();
        for (int i = 0; i < 4; i++)
        {
            timestamps.Add(store.Get(store.Append(Alice, Created, Payload(i)).EventId).Header.Timestamp);
            Thread.Sleep(3); // distinct microsecond timestamps
        }

        Assert.Equal([1L, 2], GlobalSequences(store.Read(Region.All.WithTimestamps(timestamps[1], timestamps[2]))));
        Assert.Equal([3L], GlobalSequences(store.Read(Region.ForEntity(Alice.Entity).WithTimestamps(timestamps[3], timestamps[3]))));
        Assert.Empty(store.Read(Region.All.WithTimestamps(timestamps[3].AddSeconds(1), timestamps[3].AddSeconds(2))));
    }

    [SkippableFact]
    public void Stream_ReturnsTheEntitysEventsInSequenceOrder_FromTheGivenSequenceOn()
    {
        IEventStore store = OpenNew();
        AppendQueryFixture(store);

        Assert.Equal([0L, 3], GlobalSequences(store.Stream(Alice.Entity)));
        Assert.Equal([0L, 1], store.Stream(Alice.Entity).Select(e => e.Header.Position.Sequence));
        Assert.Equal([3L], GlobalSequences(store.Stream(Alice.Entity, fromSequence: 1)));
        Assert.Empty(store.Stream(Alice.Entity, fromSequence: 2));
        Assert.Empty(store.Stream("acct:nobody"));
        Assert.Empty(store.Stream(s_upperCase.Entity.ToLowerInvariant()));
    }

    [SkippableFact]
    public void Read_ForScopeAndForKind_ReturnTheScopesOrTheKindsEventsInGlobalOrder()
    {
        IEventStore store = OpenNew();
        AppendQueryFixture(store);

        Assert.Equal([0L, 1, 3, 5, 6], GlobalSequences(store.Read(Region.ForScope("bank"))));
        Assert.Equal([4L], GlobalSequences(store.Read(Region.ForScope("other-bank"))));
        Assert.Equal([3L, 4, 6], GlobalSequences(store.Read(Region.ForKind(Updated))));
        Assert.Equal([2L], GlobalSequences(store.Read(Region.ForKind(Audit))));
        Assert.Empty(store.Read(Region.ForScope("nobody")));
        Assert.Empty(store.Read(Region.ForKind(EventKind.Create(0x3, 0x001))));
    }

    [SkippableFact]
    public void Reads_StartedBeforeALaterAppend_DoNotIncludeIt()
    {
        IEventStore store = OpenNew();
        store.Append(Alice, Created, Payload(0));
        IEnumerable<StoredEvent> query = store.Read(Region.All);
        IEnumerable<StoredEvent> scope = store.Read(Region.ForScope(Alice.Scope));
        using IEnumerator<StoredEvent> stream = store.Stream(Alice.Entity).GetEnumerator();
        Assert.True(stream.MoveNext());

        store.Append(Alice, Created, Payload(1));

        Assert.False(stream.MoveNext());
        Assert.Single(query);
        Assert.Single(scope);
        Assert.Equal(2, store.Read(Region.All).Count());
    }

    [SkippableFact]
    public void ReadAll_InPagesOfMaxCount_VisitsEveryEventOnceInOrder_AndOnlyTheLastPageIsTheEnd()
    {
        IEventStore store = OpenNew();
        for (int i = 0; i < 25; i++)
        {
            store.Append(i % 2 == 0 ? Alice : Bob, Created, Payload(i));
        }

        var pages = new List<EventPage>();
        long next = 0;
        do
        {
            pages.Add(store.ReadPage(next, maxCount: 10));
            next = pages[^1].NextGlobalSequence;
        }
        while (!pages[^1].IsEnd);

        Assert.Equal([10, 10, 5], pages.Select(p => p.Events.Count));
        Assert.Equal([10L, 20, 25], pages.Select(p => p.NextGlobalSequence));
        Assert.Equal([false, false, true], pages.Select(p => p.IsEnd));
        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"payload-{i}"), pages.SelectMany(p => p.Events).Select(Text));
    }

    [SkippableFact]
    public void ReadAll_APageEndingExactlyAtTheLastEvent_IsTheEnd_AndReadingFromTheEndReturnsAnEmptyEndPage()
    {
        IEventStore store = OpenNew();
        for (int i = 0; i < 20; i++)
        {
            store.Append(Alice, Created, Payload(i));
        }

        EventPage first = store.ReadPage(0, maxCount: 10);
        EventPage last = store.ReadPage(10, maxCount: 10);
        EventPage after = store.ReadPage(20, maxCount: 10);

        Assert.False(first.IsEnd);
        Assert.Equal((10, 20L, true), (last.Events.Count, last.NextGlobalSequence, last.IsEnd));
        Assert.Equal((0, 20L, true), (after.Events.Count, after.NextGlobalSequence, after.IsEnd));
        Assert.Equal(Enumerable.Range(5, 3).Select(i => (long)i), GlobalSequences(store.ReadPage(5, maxCount: 3).Events));
        Assert.Empty(OpenNew().ReadPage(0).Events);
    }

    [SkippableFact]
    public void ReadAll_NegativeStartOrMaxCountBelowOne_ThrowsArgumentOutOfRange()
    {
        IEventStore store = OpenNew();

        Assert.Throws<ArgumentOutOfRangeException>(() => store.ReadPage(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.ReadPage(0, maxCount: 0));
    }
}
