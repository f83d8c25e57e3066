// Orders API: an ASP.NET Core minimal API over a Batpak store. State is folded from typed events on read.
// Run with: dotnet run   (in the project folder; listens on http://127.0.0.1:5080; change with --urls)
//   curl -s -X POST http://127.0.0.1:5080/orders -H 'content-type: application/json' -d '{"customer":"ann","total":42.5}'
//   curl -s http://127.0.0.1:5080/orders/{id}
// The data directory is a fresh temp folder unless configured: --Batpak:DataDirectory=./data (or appsettings.json).
// On PostgreSQL (several instances may serve one database):
//   dotnet run -- --Batpak:Engine=PostgreSql --ConnectionStrings:Batpak="Host=127.0.0.1;Username=postgres;Database=orders"
using Batpak;
using OrdersApi;

string scratch = Path.Combine(Path.GetTempPath(), "batpak-samples", "orders-" + Guid.NewGuid().ToString("N"));
WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, OrdersJsonContext.Default));
IBatpakBuilder batpak = builder.Services
    .AddBatpak(o => o.DataDirectory = scratch)
    .BindConfiguration("Batpak"); // configuration wins over the default above
switch (builder.Configuration["Batpak:Engine"] ?? "Embedded")
{
    case var engine when engine.Equals("PostgreSql", StringComparison.OrdinalIgnoreCase):
        batpak.UsePostgreSql(builder.Configuration.GetConnectionString("Batpak")
            ?? throw new InvalidOperationException("--Batpak:Engine=PostgreSql needs the connection string ConnectionStrings:Batpak (an Npgsql connection string)."));
        break;
    case var engine when !engine.Equals("Embedded", StringComparison.OrdinalIgnoreCase):
        throw new InvalidOperationException($"Batpak:Engine is '{engine}'; the engines are Embedded (the default) and PostgreSql.");
}

WebApplication app = builder.Build();

app.MapPost("/orders", async (PlaceOrder order, IEventStore store, CancellationToken cancellationToken) =>
{
    if (string.IsNullOrWhiteSpace(order.Customer) || order.Total <= 0)
    {
        return Results.ValidationProblem(new Dictionary<string, string[]> { ["order"] = ["customer is required and total must be positive"] });
    }

    string id = Guid.NewGuid().ToString("N");
    var placed = new OrderPlaced(id, order.Customer, order.Total);
    AppendReceipt receipt = await store.AppendAsync(placed, new AppendOptions { ExpectedSequence = AppendOptions.NoStream }, cancellationToken); // durable
    return Results.Created($"/orders/{id}", new OrderView(id, placed.Customer, placed.Total, "placed", null, receipt.EntitySequence));
});

app.MapPost("/orders/{id}/ship", async (string id, ShipOrder ship, IEventStore store, CancellationToken cancellationToken) =>
{
    if (!IsOrderId(id) || OrderView.Load(store, id) is not { } view)
    {
        return Results.NotFound();
    }

    if (view.Status != "placed")
    {
        return Results.Conflict();
    }

    // Optimistic concurrency: the ship event is appended only if nothing happened since the order was read.
    await store.AppendAsync(new OrderShipped(id, ship.Carrier), new AppendOptions { ExpectedSequence = view.Version }, cancellationToken);
    return Results.Ok(OrderView.Load(store, id));
});

app.MapGet("/orders/{id}", (string id, IEventStore store) =>
    IsOrderId(id) && OrderView.Load(store, id) is { } view ? Results.Ok(view) : Results.NotFound());

app.Run(); // until Ctrl+C / SIGTERM; then the container disposes the store (drain, fsync, unlock)

if (Directory.Exists(scratch))
{
    Directory.Delete(scratch, recursive: true); // the default data directory is scratch space
}

static bool IsOrderId(string id) => Guid.TryParseExact(id, "N", out _);
