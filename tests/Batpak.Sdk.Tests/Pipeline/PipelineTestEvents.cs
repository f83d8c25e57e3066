using System.Globalization;
using MessagePack;

namespace Batpak.Tests;

/// <summary>
/// A hand-written stand-in for what the source generator will emit for
/// <c>[BatpakEvent(Category = 0x1, Type = 0x001)] record OrderPlaced([Entity("order:{0}")] OrderId, [Scope("tenant:{0}")] Tenant, Total)</c>.
/// </summary>
internal sealed record OrderPlaced(string OrderId, string Tenant, decimal Total) : IBatpakEvent<OrderPlaced>
{
    public static EventKind Kind { get; } = EventKind.Create(0x1, 0x001);

    public static void Serialize(ref MessagePackWriter writer, OrderPlaced value)
    {
        writer.WriteArrayHeader(3);
        writer.Write(value.OrderId);
        writer.Write(value.Tenant);
        writer.Write(value.Total.ToString(CultureInfo.InvariantCulture));
    }

    public static OrderPlaced Deserialize(ref MessagePackReader reader)
    {
        int count = reader.ReadArrayHeader();
        Assert.Equal(3, count);
        return new OrderPlaced(reader.ReadString()!, reader.ReadString()!, decimal.Parse(reader.ReadString()!, CultureInfo.InvariantCulture));
    }

    public Coordinate GetCoordinate(string defaultScope) => new("order:" + OrderId, "tenant:" + Tenant);

    public static OrderPlaced Read(ReadOnlyMemory<byte> payload)
    {
        var reader = new MessagePackReader(payload);
        return Deserialize(ref reader);
    }
}

/// <summary>A typed event without a scope member: its coordinate takes the default scope.</summary>
internal sealed record Pinged(int Number) : IBatpakEvent<Pinged>
{
    public static EventKind Kind { get; } = EventKind.Create(0x2, 0x001);

    public static void Serialize(ref MessagePackWriter writer, Pinged value)
    {
        writer.WriteArrayHeader(1);
        writer.Write(value.Number);
    }

    public static Pinged Deserialize(ref MessagePackReader reader)
    {
        reader.ReadArrayHeader();
        return new Pinged(reader.ReadInt32());
    }

    public Coordinate GetCoordinate(string defaultScope) => new("ping:" + Number.ToString(CultureInfo.InvariantCulture), defaultScope);
}

/// <summary>The context the test gates inspect.</summary>
internal sealed record OrderContext(string User, bool IsAdmin, decimal Total, decimal Limit = 100m);
