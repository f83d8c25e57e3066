// Batpak.Sdk quick start: declare typed events, open a store, append, read back, verify, reopen.
// Run with: dotnet run --project samples/Quickstart [data-directory]
using Batpak;
using Quickstart;

string dataDirectory = args.Length > 0
    ? args[0]
    : Path.Combine(Path.GetTempPath(), "batpak-quickstart", Guid.NewGuid().ToString("N"));

using (EventStore store = EventStore.Open(dataDirectory))
{
    // The coordinate ("account:alice" in "bank:demo") and the kind come from the generated code.
    AppendReceipt opened = store.Append(new AccountOpened("alice", "demo", "Alice Liddell"),
        new AppendOptions { ExpectedSequence = AppendOptions.NoStream });
    store.AppendReaction(opened.EventId, new MoneyDeposited("alice", "demo", 100m));
    store.Append(new MoneyDeposited("alice", "demo", 25.50m), new AppendOptions { Durable = true });

    Console.WriteLine($"Store: {store.DataDirectory}");
    decimal balance = 0;
    foreach (TypedEvent e in store.StreamTyped("account:alice"))
    {
        string caused = e.Raw.Header.CausationId is { } cause ? $" (caused by {cause})" : string.Empty;
        switch (e.Event)
        {
            case AccountOpened a:
                Console.WriteLine($"  #{e.Raw.Header.GlobalSequence} opened for {a.Owner}{caused}");
                break;
            case MoneyDeposited d:
                balance += d.Amount;
                Console.WriteLine($"  #{e.Raw.Header.GlobalSequence} deposited {d.Amount}{caused}");
                break;
        }
    }

    Console.WriteLine($"Balance: {balance}");
    ChainVerification chain = store.Verify("account:alice");
    Console.WriteLine($"Hash chain: {(chain.IsValid ? "valid" : chain.Failure)} ({chain.EventsChecked} events)");
}

// Reopening rebuilds the index from the segment files.
using (EventStore reopened = EventStore.Open(dataDirectory))
{
    StoreStats stats = reopened.GetStats();
    Console.WriteLine($"Reopened: {stats.EventCount} events, {stats.SegmentCount} segment(s), {stats.BytesOnDisk} bytes on disk.");
}
