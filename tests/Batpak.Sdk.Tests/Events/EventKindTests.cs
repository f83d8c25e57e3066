namespace Batpak.Tests.Events;

public class EventKindTests
{
    [Fact]
    public void Create_PacksCategoryAndType()
    {
        EventKind kind = EventKind.Create(0x1, 0x002);
        Assert.Equal(0x1002, kind.Value);
        Assert.Equal(0x1, kind.Category);
        Assert.Equal(0x002, kind.Type);
        Assert.Equal("0x1002", kind.ToString());
        Assert.False(kind.IsReserved);
        Assert.Equal(kind, EventKind.FromValue(0x1002));
    }

    [Theory]
    [InlineData(0x0)]
    [InlineData(0xD)]
    public void Create_ReservedCategory_Throws(byte category)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => EventKind.Create(category, 1));
        Assert.Equal("category", ex.ParamName);
        Assert.Contains("reserved", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_OutOfRange_Throws()
    {
        Assert.Equal("category", Assert.Throws<ArgumentOutOfRangeException>(() => EventKind.Create(0x10, 1)).ParamName);
        Assert.Equal("type", Assert.Throws<ArgumentOutOfRangeException>(() => EventKind.Create(0x1, 0x1000)).ParamName);
        Assert.Equal(0xFFFF, EventKind.Create(0xF, 0xFFF).Value);
    }
}

public class EventIdTests
{
    [Fact]
    public void Next_IsStrictlyIncreasing_WithinOneMillisecondAndWhenTheClockStepsBack()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var generator = new EventIdGenerator(clock);
        EventId previous = generator.Next();
        for (int i = 0; i < 10_000; i++)
        {
            if (i == 5000)
            {
                clock.Advance(TimeSpan.FromSeconds(-10));
            }

            EventId next = generator.Next();
            Assert.True(next > previous);
            previous = next;
        }
    }

    [Fact]
    public void Next_IsAVersion7Uuid_CarryingTheClockMilliseconds()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        EventId id = new EventIdGenerator(clock).Next();
        string text = id.ToString();
        Assert.Equal('7', text[14]);
        Assert.Contains(text[19], "89ab");
        Assert.Equal(1767225600000, id.UnixMilliseconds);
        Assert.Equal(id, EventId.Parse(text));
        Assert.Equal(id, EventId.FromGuid(id.ToGuid()));
        Span<byte> bytes = stackalloc byte[16];
        id.WriteBytes(bytes);
        Assert.Equal(id, EventId.FromBytes(bytes));
    }

    [Fact]
    public void EventHash_RoundTripsItsBytes_PrintsAsLowercaseHex_AndRefusesAWrongLength()
    {
        byte[] bytes = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        EventHash hash = EventHash.FromBytes(bytes);
        Assert.Equal(bytes, hash.ToArray());
        Assert.Equal(Convert.ToHexStringLower(bytes), hash.ToString());
        Assert.True(EventHash.Zero.IsZero);
        Assert.Throws<ArgumentException>(() => EventHash.FromBytes(new byte[31]));
    }
}
