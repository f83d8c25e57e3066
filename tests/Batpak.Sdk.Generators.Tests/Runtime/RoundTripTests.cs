using MessagePack;

namespace Batpak.Sdk.Generators.Tests.Runtime;

public class RoundTripTests
{
    internal static AllScalars SampleScalars() => new(
        Id: "s-1",
        Flag: true,
        Letter: 'ß',
        SignedByte: sbyte.MinValue,
        UnsignedByte: byte.MaxValue,
        Int16Value: short.MinValue,
        UInt16Value: ushort.MaxValue,
        Int32Value: int.MinValue,
        UInt32Value: uint.MaxValue,
        Int64Value: long.MinValue,
        UInt64Value: ulong.MaxValue,
        SingleValue: float.Epsilon,
        DoubleValue: double.NaN,
        Amount: 1.10m,
        MaybeText: null,
        Bytes: [0, 1, 2, 255],
        Identifier: Guid.Parse("0190a3b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b"),
        At: new DateTime(2024, 2, 29, 23, 59, 59, DateTimeKind.Local).AddTicks(1234567),
        AtOffset: new DateTimeOffset(2024, 2, 29, 23, 59, 59, TimeSpan.FromMinutes(-570)).AddTicks(7),
        Duration: TimeSpan.FromTicks(-123456789),
        Shade: Color.Blue,
        Level: Small.Max,
        MaybeInt: 7,
        MaybeGuid: null,
        MaybeDateTime: DateTime.MaxValue,
        MaybeColor: Color.Green,
        MaybeDecimal: decimal.MinValue);

    internal static AllCollections SampleCollections() => new AllCollections(
        Id: 9,
        Ints: [1, -2, int.MaxValue],
        Strings: ["a", "", "ü"],
        Guids: [Guid.Empty, Guid.Parse("00112233-4455-6677-8899-aabbccddeeff")],
        Counts: new Dictionary<string, int> { ["x"] = 1, ["y"] = -1 },
        Names: new Dictionary<int, string?> { [1] = "one", [2] = null },
        MaybeInts: [1, null, 3],
        Nested: new Dictionary<string, List<long>> { ["k"] = [long.MaxValue, 0], ["empty"] = [] },
        Missing: null,
        Jagged: [[1], [], [2, 3]],
        Colors: [Color.Red, Color.Blue]);

    private static T RoundTrip<T>(T value)
        where T : IBatpakEvent<T> => BatpakEvents.Deserialize<T>(BatpakEvents.SerializeToArray(value));

    [Fact]
    public void Deserialize_AllScalarMembers_RoundTripsEveryValue()
    {
        AllScalars expected = SampleScalars();

        AllScalars actual = RoundTrip(expected);

        Assert.Equal(expected.Bytes, actual.Bytes);
        Assert.Equal(expected, actual with { Bytes = expected.Bytes });
        Assert.Equal(2, actual.Amount.Scale);
        Assert.Equal(DateTimeKind.Local, actual.At.Kind);
        Assert.Equal(expected.AtOffset.Offset, actual.AtOffset.Offset);
        Assert.Equal(expected.AtOffset.Ticks, actual.AtOffset.Ticks);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-0.000")]
    [InlineData("79228162514264337593543950335")]
    [InlineData("-7.9228162514264337593543950335")]
    [InlineData("0.0000000000000000000000000001")]
    public void Deserialize_DecimalEdgeValues_KeepValueAndScale(string text)
    {
        decimal amount = decimal.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        AllScalars expected = SampleScalars() with { Amount = amount };

        AllScalars actual = RoundTrip(expected);

        Assert.Equal(amount, actual.Amount);
        Assert.Equal(amount.Scale, actual.Amount.Scale);
        Assert.Equal(amount.ToString(System.Globalization.CultureInfo.InvariantCulture), actual.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Deserialize_DefaultScalars_RoundTripsNullsAndDefaults()
    {
        var expected = new AllScalars("s-2", default, default, default, default, default, default, default, default, default, default, default,
            default, default, null, null, default, default, default, default, default, default, null, null, null, null, null);

        AllScalars actual = RoundTrip(expected);

        Assert.Null(actual.Bytes);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Deserialize_AllCollectionMembers_RoundTripsContents()
    {
        AllCollections expected = SampleCollections();

        AllCollections actual = RoundTrip(expected);

        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Ints, actual.Ints);
        Assert.Equal(expected.Strings, actual.Strings);
        Assert.Equal(expected.Guids, actual.Guids);
        Assert.Equal(expected.Counts, actual.Counts);
        Assert.Equal(expected.Names, actual.Names);
        Assert.Equal(expected.MaybeInts, actual.MaybeInts);
        Assert.Equal(expected.Nested, actual.Nested);
        Assert.Null(actual.Missing);
        Assert.Equal(expected.Jagged, actual.Jagged);
        Assert.Equal(expected.Colors, actual.Colors);
    }

    [Fact]
    public void Deserialize_NestedEventsAndMessagePackObjects_RoundTrips()
    {
        var order = new OrderPlaced("o-1", "acme", 12.50m);
        var expected = new Shipment(
            Id: Guid.Parse("0190a3b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b"),
            Order: order,
            Previous: null,
            Origin: new Point(1, 2),
            Destination: new Point(3, 4),
            Route: [new Point(5, 6), new Point(7, 8)],
            Address: new Address { Street = "Main", Number = 5 },
            Billing: null);

        Shipment actual = RoundTrip(expected);

        Assert.Equal(order, actual.Order);
        Assert.Null(actual.Previous);
        Assert.Equal(expected.Origin, actual.Origin);
        Assert.Equal(expected.Destination, actual.Destination);
        Assert.Equal(expected.Route, actual.Route);
        Assert.Equal("Main", actual.Address.Street);
        Assert.Equal(5, actual.Address.Number);
        Assert.Null(actual.Billing);
    }

    [Fact]
    public void Serialize_OrderPlaced_WritesArrayInDeclarationOrder()
    {
        byte[] bytes = BatpakEvents.SerializeToArray(new OrderPlaced("o-1", "acme", 12.50m));

        var reader = new MessagePackReader(bytes);
        Assert.Equal(3, reader.ReadArrayHeader());
        Assert.Equal("o-1", reader.ReadString());
        Assert.Equal("acme", reader.ReadString());
        Assert.Equal("12.50", reader.ReadString());
        Assert.True(reader.End);
    }

    [Fact]
    public void Deserialize_KeywordMemberNamesAndStructEvent_RoundTrip()
    {
        var keywords = new Keywords("c", 4);
        var point = new Point(-1, int.MaxValue);

        Assert.Equal(keywords, RoundTrip(keywords));
        Assert.Equal(point, RoundTrip(point));
    }

    [Fact]
    public void Deserialize_RecordWithoutParameterList_RestoresBodyProperties()
    {
        var expected = new BodyOnly { Id = "b-1", Count = 7 };

        Assert.Equal(expected, RoundTrip(expected));
    }

    [Fact]
    public void MessagePackSerializer_EventWithGeneratedFormatter_UsesGeneratedLayout()
    {
        var order = new OrderPlaced("o-1", "acme", 12.50m);

        byte[] viaMessagePack = MessagePackSerializer.Serialize(order);
        OrderPlaced back = MessagePackSerializer.Deserialize<OrderPlaced>(viaMessagePack);

        Assert.Equal(BatpakEvents.SerializeToArray(order), viaMessagePack);
        Assert.Equal(order, back);
    }

    [Fact]
    public void KindOf_GeneratedEvent_ReturnsDeclaredKind()
    {
        Assert.Equal(EventKind.Create(0x1, 0x001), BatpakEvents.KindOf<OrderPlaced>());
        Assert.Equal(EventKind.Create(0x2, 0x002), BatpakEvents.KindOf<OrderV2>());
        Assert.Equal(EventKind.Create(0x1, 0x004), BatpakEvents.KindOf<Point>());
    }

    [Fact]
    public void Serialize_NullOutputOrEvent_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => BatpakEvents.Serialize(null!, new Point(1, 2)));
        Assert.Throws<ArgumentNullException>(() => BatpakEvents.SerializeToArray<OrderPlaced>(null!));
    }
}
