// A Batpak.Sdk app: typed events appended to an embedded event store and folded back into state.
// Data directory: ./data, or --Batpak:DataDirectory=<path> (any Batpak option binds from the "Batpak" section).
using Batpak;
using BatpakConsole;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddBatpak(o => o.DataDirectory = "data").BindConfiguration("Batpak");

using IHost host = builder.Build();
await host.StartAsync(); // opens the store: a bad or locked data directory fails here
IEventStore store = host.Services.GetRequiredService<IEventStore>();

if (store.GetLastSequence("account:alice") == AppendOptions.NoStream)
{
    AppendReceipt opened = store.Append(new AccountOpened("alice", "demo", "Alice"),
        new AppendOptions { ExpectedSequence = AppendOptions.NoStream }); // optimistic concurrency
    store.AppendReaction(opened.EventId, new MoneyDeposited("alice", "demo", 100m)); // causal link
}

store.Append(new MoneyDeposited("alice", "demo", 25.50m), new AppendOptions { Durable = true });

decimal balance = 0;
int events = 0;
foreach (TypedEvent e in store.StreamTyped("account:alice")) // every kind, pattern-matchable
{
    events++;
    if (e.Event is MoneyDeposited deposit)
    {
        balance += deposit.Amount;
    }
}

Console.WriteLine($"Balance: {balance} after {events} events");
Console.WriteLine($"Hash chain valid: {store.Verify("account:alice").IsValid}");
await host.StopAsync();
