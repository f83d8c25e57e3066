// The roles a child instance plays (see Program.cs for the protocol).
using System.Globalization;
using Batpak;
using Batpak.PostgreSql;

namespace Batpak.PgChild;

internal static class Roles
{
    public static int Append(PostgresStoreOptions options, int entities, int count, string tag, StreamWriter output)
    {
        using PostgresEventStore store = PostgresEventStore.Open(options);
        output.WriteLine("ready");
        _ = Console.In.ReadLine(); // the go signal: every child starts together
        int conflicts = 0;
        for (int i = 0; i < count; i++)
        {
            string entity = "cas:" + (i % entities).ToString(CultureInfo.InvariantCulture);
            var coordinate = new Coordinate(entity, "cas");
            byte[] payload = System.Text.Encoding.UTF8.GetBytes($"{tag}-{i}");
            while (true)
            {
                long last = store.GetLastSequence(entity);
                try
                {
                    AppendReceipt receipt = store.Append(coordinate, ChildEvents.Appended, payload, new AppendOptions { ExpectedSequence = last });
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ack {receipt.EventId} {entity} {receipt.EntitySequence} {receipt.GlobalSequence}"));
                    break;
                }
                catch (SequenceMismatchException)
                {
                    conflicts++;
                }
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"done {conflicts}"));
        return 0;
    }

    public static async Task<int> ReactAsync(PostgresStoreOptions options, string name, int delayMilliseconds, StreamWriter output)
    {
        await using PostgresEventStore store = PostgresEventStore.Open(options);
        var reactor = new EchoReactor(name, delayMilliseconds, output);
        await using var runner = new ReactorRunner(store, reactor, new ReactorOptions { BatchSize = 8 });
        runner.Start();
        Task stdinClosed = Task.Run(() => Console.In.ReadToEnd());
        bool announced = false;
        while (!stdinClosed.IsCompleted)
        {
            if (!announced && runner.IsLeading)
            {
                output.WriteLine("leading");
                announced = true;
            }

            await Task.WhenAny(stdinClosed, Task.Delay(20)).ConfigureAwait(false);
        }

        await runner.StopAsync().ConfigureAwait(false);
        return 0;
    }

    /// <summary>Echoes each source event, slowly, and says which it handled.</summary>
    private sealed class EchoReactor(string name, int delayMilliseconds, StreamWriter output) : IReactor
    {
        public string Name => name;

        public Region Region => Region.ForScope("src").WithKinds(KindFilter.Exact(ChildEvents.Source));

        public void React(TypedEvent source, ReactionOutput reactions)
        {
            lock (output)
            {
                output.WriteLine("handled " + source.Raw.Id.ToString());
            }

            if (delayMilliseconds > 0)
            {
                Thread.Sleep(delayMilliseconds);
            }

            reactions.Emit(new Coordinate("echo:" + source.Raw.Coordinate.Entity, "echo"), ChildEvents.Echo, System.Text.Encoding.UTF8.GetBytes(source.Raw.Id.ToString()));
        }
    }
}
