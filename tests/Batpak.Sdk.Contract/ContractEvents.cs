namespace Batpak.Contract;

/// <summary>The coordinates, kinds and payloads the contract tests append, and small read-back helpers.</summary>
internal static class ContractEvents
{
    public static readonly EventKind Created = EventKind.Create(0x1, 0x001);
    public static readonly EventKind Updated = EventKind.Create(0x1, 0x002);
    public static readonly EventKind Audit = EventKind.Create(0x2, 0x001);

    public static readonly Coordinate Alice = new("acct:alice", "bank");
    public static readonly Coordinate Bob = new("acct:bob", "bank");
    public static readonly Coordinate Log = new("audit:log", "ops");
    public static readonly Coordinate Carol = new("acct:carol", "other-bank");

    /// <summary>How long a wait for delivery may take before the test fails (a hang, not slowness).</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    public static byte[] Payload(int n) => System.Text.Encoding.UTF8.GetBytes($"payload-{n}");

    public static string Text(StoredEvent e) => System.Text.Encoding.UTF8.GetString(e.Payload.Span);

    public static EventData Data(Coordinate coordinate, int n, AppendOptions? options = null) => new(coordinate, Created, Payload(n), options);

    public static long[] GlobalSequences(IEnumerable<StoredEvent> events) => events.Select(e => e.Header.GlobalSequence).ToArray();

    public static EventId[] Ids(IEnumerable<StoredEvent> events) => events.Select(e => e.Id).ToArray();

    /// <summary>Every event of the store, read through <see cref="IEventStore.ReadPage"/> page by page.</summary>
    public static List<StoredEvent> All(IEventStore store)
    {
        var all = new List<StoredEvent>();
        long next = 0;
        EventPage page;
        do
        {
            page = store.ReadPage(next, 1000);
            all.AddRange(page.Events);
            next = page.NextGlobalSequence;
        }
        while (!page.IsEnd);

        return all;
    }
}
