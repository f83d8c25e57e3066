using MessagePack;

namespace Batpak.Sdk.Generators.Tests.Runtime;

// Real [BatpakEvent] records, compiled by the generator referenced as an analyzer. Kinds are unique in this assembly.

public enum Color
{
    Red = 1,
    Green = 2,
    Blue = -3,
}

public enum Small : byte
{
    None = 0,
    Max = 255,
}

[BatpakEvent(Category = 0x1, Type = 0x001)]
public sealed partial record OrderPlaced(
    [property: Entity("order:{0}")] string OrderId,
    [property: Scope("tenant:{0}")] string Tenant,
    decimal Total);

[BatpakEvent(Category = 0x1, Type = 0x002)]
public sealed partial record AllScalars(
    [property: Entity("scalars:{0}")] string Id,
    bool Flag,
    char Letter,
    sbyte SignedByte,
    byte UnsignedByte,
    short Int16Value,
    ushort UInt16Value,
    int Int32Value,
    uint UInt32Value,
    long Int64Value,
    ulong UInt64Value,
    float SingleValue,
    double DoubleValue,
    decimal Amount,
    string? MaybeText,
    byte[]? Bytes,
    Guid Identifier,
    DateTime At,
    DateTimeOffset AtOffset,
    TimeSpan Duration,
    Color Shade,
    Small Level,
    int? MaybeInt,
    Guid? MaybeGuid,
    DateTime? MaybeDateTime,
    Color? MaybeColor,
    decimal? MaybeDecimal);

[BatpakEvent(Category = 0x1, Type = 0x003)]
public sealed partial record AllCollections(
    [property: Entity("collections:{0}")] int Id,
    int[] Ints,
    List<string> Strings,
    IReadOnlyList<Guid> Guids,
    Dictionary<string, int> Counts,
    IReadOnlyDictionary<int, string?> Names,
    List<int?> MaybeInts,
    Dictionary<string, List<long>> Nested,
    string[]? Missing,
    int[][] Jagged,
    IReadOnlyList<Color> Colors);

[MessagePackObject]
public sealed class Address
{
    [Key(0)]
    public string Street { get; set; } = string.Empty;

    [Key(1)]
    public int Number { get; set; }
}

[BatpakEvent(Category = 0x1, Type = 0x004)]
public readonly partial record struct Point([Entity("point:{0}")] int X, int Y);

[BatpakEvent(Category = 0x1, Type = 0x005)]
public sealed partial record Shipment(
    [property: Entity("shipment:{0}")] Guid Id,
    OrderPlaced Order,
    OrderPlaced? Previous,
    Point Origin,
    Point? Destination,
    IReadOnlyList<Point> Route,
    Address Address,
    Address? Billing);

[BatpakEvent(Category = 0x1, Type = 0x006)]
public sealed partial record Node([property: Entity("node:{0}")] int Value, Node? Next);

[BatpakEvent(Category = 0x1, Type = 0x007)]
public sealed partial record Keywords([property: Entity("kw:{0}")] string @class, int @event);

[BatpakEvent(Category = 0x1, Type = 0x008)]
public sealed partial record Formatted([property: Entity("account:{0:D6}")] int Account, [property: Scope("region:{0}")] Color Region);

public static partial class Outer
{
    [BatpakEvent(Category = 0x1, Type = 0x009, Version = 3)]
    public sealed partial record InnerEvent([Entity("inner:{0}")] string Id);
}

[BatpakEvent(Category = 0x2, Type = 0x001)]
public sealed partial record OrderV1([property: Entity("order:{0}")] string Id, int Quantity);

[BatpakEvent(Category = 0x2, Type = 0x002, Version = 2)]
public sealed partial record OrderV2([property: Entity("order:{0}")] string Id, int Quantity, string Note = "none", decimal Discount = 1.5m)
{
    public int Priority { get; init; } = 3;
}

[BatpakEvent(Category = 0x2, Type = 0x003)]
public sealed partial record BodyOnly
{
    [Entity("body:{0}")]
    public required string Id { get; init; }

    public int Count { get; init; } = 42;
}

[BatpakEvent(Category = 0x2, Type = 0x004)]
public sealed partial record Blob(
    [property: Entity("blob:{0}")] string Id,
    byte[]? Data,
    decimal Amount,
    Guid Key,
    DateTime At,
    DateTimeOffset AtOffset);
