// Kinds, coordinates and payloads the PostgreSQL engine's own tests use.
using System.Text;

namespace Batpak.PostgreSql.Tests;

internal static class TestData
{
    public static readonly EventKind Created = EventKind.Create(0x1, 0x001);
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public static Coordinate Entity(string name) => new(name, "test");

    public static byte[] Payload(int n) => Encoding.UTF8.GetBytes($"payload-{n}");

    public static string Text(StoredEvent e) => Encoding.UTF8.GetString(e.Payload.Span);

    /// <summary>Reads <paramref name="count"/> events from <paramref name="subscription"/>, failing after <see cref="Bound"/>.</summary>
    public static async Task<List<StoredEvent>> Take(Subscription subscription, int count)
    {
        using var timeout = new CancellationTokenSource(Bound);
        var events = new List<StoredEvent>();
        try
        {
            await foreach (StoredEvent e in subscription.ReadAllAsync(timeout.Token))
            {
                events.Add(e);
                if (events.Count == count)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"The subscription delivered {events.Count} of {count} events within {Bound}.");
        }

        return events;
    }
}
