using MessagePack;

namespace Batpak.Tests.Store;

public enum Priority
{
    Low = 1,
    High = 2,
}

[BatpakEvent(Category = 0x3, Type = 0x001)]
public sealed partial record AccountOpened(
    [property: Entity("account:{0}")] string AccountId,
    [property: Scope("tenant:{0}")] string Tenant,
    string Owner,
    decimal Limit,
    DateTimeOffset OpenedAt,
    Guid Reference,
    Priority Priority,
    int? Branch,
    IReadOnlyList<string> Tags,
    Dictionary<string, long> Counters,
    byte[]? Signature);

[BatpakEvent(Category = 0x3, Type = 0x002)]
public sealed partial record MoneyDeposited(
    [property: Entity("account:{0}")] string AccountId,
    [property: Scope("tenant:{0}")] string Tenant,
    decimal Amount);

[BatpakEvent(Category = 0x3, Type = 0x003)]
public sealed partial record NoteAdded([property: Entity("note:{0}")] int NoteId, string Text);

public class TypedStoreTests
{
    private static AccountOpened SampleOpened(string id) => new(
        id,
        "acme",
        "Alice",
        1234.5600m,
        new DateTimeOffset(2026, 11, 25, 10, 30, 0, TimeSpan.FromHours(2)),
        Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"),
        Priority.High,
        null,
        ["vip", "eu"],
        new Dictionary<string, long> { ["logins"] = 3, ["max"] = long.MaxValue },
        [1, 2, 3]);

    [Fact]
    public void Append_TypedEvent_UsesGeneratedKindAndCoordinate_AndReadsBackEqual_AfterReopen()
    {
        using var dir = new TempDirectory();
        AccountOpened opened = SampleOpened("42");
        AppendReceipt receipt;
        using (EventStore store = TestEvents.Open(dir.Path))
        {
            receipt = store.Append(opened);
            StoredEvent raw = store.Get(receipt.EventId);
            Assert.Equal(new Coordinate("account:42", "tenant:acme"), raw.Coordinate);
            Assert.Equal(EventKind.Create(0x3, 0x001), raw.Kind);
        }

        using EventStore reopened = TestEvents.Open(dir.Path);
        AccountOpened read = reopened.Get<AccountOpened>(receipt.EventId).Event;
        Assert.Equal(opened.Owner, read.Owner);
        Assert.Equal(1234.5600m, read.Limit);
        Assert.Equal("1234.5600", read.Limit.ToString(System.Globalization.CultureInfo.InvariantCulture)); // scale kept
        Assert.Equal(opened.OpenedAt, read.OpenedAt);
        Assert.Equal(opened.OpenedAt.Offset, read.OpenedAt.Offset);
        Assert.Equal(opened.Reference, read.Reference);
        Assert.Equal(Priority.High, read.Priority);
        Assert.Null(read.Branch);
        Assert.Equal(opened.Tags, read.Tags);
        Assert.Equal(opened.Counters, read.Counters);
        Assert.Equal(opened.Signature, read.Signature);
    }

    [Fact]
    public void Stream_TypedAndUnion_ReadEveryKindOfAnEntity()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        store.Append(SampleOpened("7"));
        store.Append(new MoneyDeposited("7", "acme", 10m));
        store.Append(new MoneyDeposited("7", "acme", 2.5m));
        store.Append(new Coordinate("account:7", "tenant:acme"), EventKind.Create(0xE, 0x123), [0xC0]); // a kind no assembly declares

        Assert.Equal(new[] { 10m, 2.5m }, store.Stream<MoneyDeposited>("account:7").Select(e => e.Event.Amount));

        decimal balance = 0;
        int unknown = 0;
        foreach (TypedEvent e in store.StreamTyped("account:7"))
        {
            switch (e.Event)
            {
                case AccountOpened:
                    balance = 0;
                    break;
                case MoneyDeposited deposit:
                    balance += deposit.Amount;
                    break;
                case null:
                    unknown++;
                    Assert.Equal(EventKind.Create(0xE, 0x123), e.Raw.Kind);
                    break;
            }
        }

        Assert.Equal(12.5m, balance);
        Assert.Equal(1, unknown);
    }

    [Fact]
    public void Get_WrongType_ThrowsEventDecodeExceptionNamingBothKinds()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        AppendReceipt receipt = store.Append(new MoneyDeposited("1", "acme", 1m));
        var ex = Assert.Throws<EventDecodeException>(() => store.Get<AccountOpened>(receipt.EventId));
        Assert.Equal(receipt.EventId, ex.EventId);
        Assert.Contains("0x3002", ex.Message, StringComparison.Ordinal);
        Assert.Contains("0x3001", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_PayloadThatDoesNotDecode_ThrowsEventDecodeException()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        store.Append(new Coordinate("note:1", "default"), EventKind.Create(0x3, 0x003), [0x91, 0xC1]); // array of a reserved byte
        Assert.Throws<EventDecodeException>(() => store.Read<NoteAdded>(Region.All).ToList());
        Assert.Throws<EventDecodeException>(() => store.StreamTyped("note:1").ToList());
    }

    [Fact]
    public void Append_EventWithoutScopeMember_UsesTheStoreDefaultScope()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path, o => o.DefaultScope = "notes");
        AppendReceipt receipt = store.Append(new NoteAdded(5, "hello"));
        StoredEvent<NoteAdded> read = store.Get<NoteAdded>(receipt.EventId);
        Assert.Equal(new Coordinate("note:5", "notes"), read.Coordinate);
        Assert.Equal("hello", read.Event.Text);
    }

    [Fact]
    public async Task TypedAppendAsync_ToEventDataBatch_AndAppendReaction_ReadBackTyped_WithTheReactionLinkedToItsCause()
    {
        using var dir = new TempDirectory();
        await using EventStore store = TestEvents.Open(dir.Path);
        AppendReceipt opened = await store.AppendAsync(SampleOpened("9"));
        IReadOnlyList<AppendReceipt> batch = store.AppendBatch([store.ToEventData(new MoneyDeposited("9", "acme", 1m)), store.ToEventData(new MoneyDeposited("9", "acme", 2m))]);
        AppendReceipt reaction = store.AppendReaction(opened.EventId, new NoteAdded(1, "welcome"));

        Assert.Equal(2, batch.Count);
        Assert.Equal(3m, store.Stream<MoneyDeposited>("account:9").Sum(e => e.Event.Amount));
        StoredEvent<NoteAdded> note = store.Get<NoteAdded>(reaction.EventId);
        Assert.Equal(opened.EventId, note.Header.CausationId);
        Assert.Equal(opened.EventId, note.Header.CorrelationId);
    }

    [Fact]
    public void Payload_IsTheGeneratedMessagePackArray()
    {
        byte[] bytes = BatpakEvents.SerializeToArray(new NoteAdded(3, "x"));
        var reader = new MessagePackReader(bytes);
        Assert.Equal(2, reader.ReadArrayHeader());
        Assert.Equal(3, reader.ReadInt32());
        Assert.Equal("x", reader.ReadString());
    }
}
