// Batpak.Sdk quick start: open a store, append a few events, read them back.
// Run with: dotnet run --project samples/Quickstart [data-directory]
using System.Text;
using Batpak;

string dataDirectory = args.Length > 0
    ? args[0]
    : Path.Combine(Path.GetTempPath(), "batpak-quickstart", Guid.NewGuid().ToString("N"));

EventKind accountOpened = EventKind.Create(category: 0x1, type: 0x001);
EventKind moneyDeposited = EventKind.Create(category: 0x1, type: 0x002);

using (EventStore store = EventStore.Open(dataDirectory))
{
    var alice = new Coordinate("account:alice", "bank:demo");

    AppendReceipt opened = store.Append(alice, accountOpened, Encoding.UTF8.GetBytes("{\"owner\":\"Alice\"}"),
        new AppendOptions { ExpectedSequence = AppendOptions.NoStream });
    store.AppendReaction(opened.EventId, alice, moneyDeposited, Encoding.UTF8.GetBytes("{\"amount\":100}"));
    store.Append(alice, moneyDeposited, Encoding.UTF8.GetBytes("{\"amount\":25}"), new AppendOptions { Durable = true });

    Console.WriteLine($"Store: {store.DataDirectory}");
    foreach (StoredEvent e in store.Stream(alice.Entity))
    {
        Console.WriteLine($"  #{e.Header.GlobalSequence} {e.Coordinate.Entity} seq {e.Header.Position.Sequence} kind {e.Kind} " +
                          $"caused by {(e.Header.CausationId?.ToString() ?? "-")}: {Encoding.UTF8.GetString(e.Payload.Span)}");
    }

    ChainVerification chain = store.Verify(alice.Entity);
    Console.WriteLine($"Hash chain of {alice.Entity}: {(chain.IsValid ? "valid" : chain.Failure)} ({chain.EventsChecked} events)");
}

// Reopening rebuilds the index from the segment files.
using (EventStore reopened = EventStore.Open(dataDirectory))
{
    StoreStats stats = reopened.GetStats();
    Console.WriteLine($"Reopened: {stats.EventCount} events, {stats.SegmentCount} segment(s), {stats.BytesOnDisk} bytes on disk.");
}
