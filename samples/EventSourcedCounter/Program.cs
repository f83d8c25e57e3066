// Event-sourced counter: the state is never stored, only the events; reading folds them.
// Run with: dotnet run --project samples/EventSourcedCounter   (a fresh temp data directory each run)
using Batpak;
using EventSourcedCounter;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

string dataDirectory = Path.Combine(Path.GetTempPath(), "batpak-samples", "counter-" + Guid.NewGuid().ToString("N"));

HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddBatpak(o => o.DataDirectory = dataDirectory).BindConfiguration(); // "Batpak" section may override
using (IHost host = builder.Build())
{
    await host.StartAsync();
    IEventStore store = host.Services.GetRequiredService<IEventStore>();

    // Commands: check the current state, then append with the version read (optimistic concurrency).
    Counter clicks = Counter.Load(store, "clicks");
    foreach (int by in new[] { 5, 3, 2 })
    {
        store.Append(new CounterIncremented("clicks", by), new AppendOptions { ExpectedSequence = clicks.Version - 1 });
        clicks = Counter.Load(store, "clicks");
    }

    store.Append(new CounterDecremented("clicks", 4));
    clicks = Counter.Load(store, "clicks");
    Console.WriteLine($"counter:clicks = {clicks.Value} after {clicks.Version} events");

    // A stale writer (it read version 0) is refused instead of overwriting newer events.
    try
    {
        store.Append(new CounterReset("clicks"), new AppendOptions { ExpectedSequence = 0 });
    }
    catch (SequenceMismatchException ex)
    {
        Console.WriteLine($"stale reset refused: expected {ex.Expected}, actual {ex.Actual}");
    }

    // Stream<T> reads one kind: here, the increments only.
    int increments = store.Stream<CounterIncremented>("counter:clicks").Sum(e => e.Event.By);
    Console.WriteLine($"increments total {increments}");
    await host.StopAsync();
}

// The events are the state: a new host over the same directory folds to the same value.
HostApplicationBuilder again = Host.CreateApplicationBuilder(args);
again.Logging.SetMinimumLevel(LogLevel.Warning);
again.Services.AddBatpak(o => o.DataDirectory = dataDirectory);
using (IHost host = again.Build())
{
    await host.StartAsync();
    Counter reloaded = Counter.Load(host.Services.GetRequiredService<IEventStore>(), "clicks");
    Console.WriteLine($"reopened: counter:clicks = {reloaded.Value} after {reloaded.Version} events");
    await host.StopAsync();
}

Directory.Delete(dataDirectory, recursive: true);
