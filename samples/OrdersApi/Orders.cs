using System.Text.Json;
using System.Text.Json.Serialization;
using Batpak;

namespace OrdersApi;

/// <summary>A customer placed an order.</summary>
[BatpakEvent(Category = 0x1, Type = 0x001)]
public sealed partial record OrderPlaced([property: Entity("order:{0}")] string OrderId, string Customer, decimal Total);

/// <summary>The order left the warehouse.</summary>
[BatpakEvent(Category = 0x1, Type = 0x002)]
public sealed partial record OrderShipped([property: Entity("order:{0}")] string OrderId, string Carrier);

/// <summary>The body of POST /orders.</summary>
public sealed record PlaceOrder(string Customer, decimal Total);

/// <summary>The body of POST /orders/{id}/ship.</summary>
public sealed record ShipOrder(string Carrier);

/// <summary>An order as the API returns it: the fold of its events.</summary>
public sealed record OrderView(string Id, string Customer, decimal Total, string Status, string? Carrier, long Version)
{
    /// <summary>Folds an order's events; null when it has none.</summary>
    public static OrderView? Load(IEventStore store, string id)
    {
        OrderView? view = null;
        foreach (TypedEvent e in store.StreamTyped("order:" + id))
        {
            view = e.Event switch
            {
                OrderPlaced p => new OrderView(p.OrderId, p.Customer, p.Total, "placed", null, e.Raw.Header.Position.Sequence),
                OrderShipped s when view is not null => view with { Status = "shipped", Carrier = s.Carrier, Version = e.Raw.Header.Position.Sequence },
                _ => view,
            };
        }

        return view;
    }
}

/// <summary>Source-generated JSON for the API's types (no reflection; ready for trimming and native AOT).</summary>
[JsonSerializable(typeof(PlaceOrder))]
[JsonSerializable(typeof(ShipOrder))]
[JsonSerializable(typeof(OrderView))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
public sealed partial class OrdersJsonContext : JsonSerializerContext;
