// Chat room: a push subscription feeds a bot that reacts to questions (AppendReaction links the reply to its
// cause), and a named cursor reads the transcript with guaranteed delivery, resuming where it left off.
// Run with: dotnet run --project samples/ChatRoom
using Batpak;
using ChatRoom;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

string dataDirectory = Path.Combine(Path.GetTempPath(), "batpak-samples", "chat-" + Guid.NewGuid().ToString("N"));
Region lobby = Region.ForEntity("room:lobby");

HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddBatpak(o => o.DataDirectory = dataDirectory);
using (IHost host = builder.Build())
{
    await host.StartAsync();
    IEventStore store = host.Services.GetRequiredService<IEventStore>();
    IEventTypeRegistry types = host.Services.GetRequiredService<IEventTypeRegistry>(); // every [BatpakEvent] of the app

    // The bot: a push subscription (bounded; a consumer that falls behind loses events, counted in DroppedCount).
    using Subscription feed = store.Subscribe(lobby);
    Task<int> bot = Task.Run(async () =>
    {
        int seen = 0;
        await foreach (StoredEvent e in feed.ReadAllAsync())
        {
            if (types.TryDeserialize(e.Kind, e.Payload, out object? value) && value is MessagePosted message)
            {
                seen++;
                if (message.Text.EndsWith('?'))
                {
                    store.AppendReaction(e.Id, new BotReplied("lobby", $"@{message.Author}: try the docs folder"));
                }

                if (seen == 3)
                {
                    return seen;
                }
            }
        }

        return seen;
    });

    store.Append(new MessagePosted("lobby", "ann", "hello"));
    store.Append(new MessagePosted("lobby", "cy", "hi ann"));
    store.Append(new MessagePosted("lobby", "bob", "where is the format spec?"));
    Console.WriteLine($"bot saw {await bot} messages, dropped {feed.DroppedCount}"); // the bot has replied by now

    // The transcript: a named cursor delivers every event of the region, in order, and checkpoints on Commit.
    using (EventCursor transcript = store.OpenCursor(lobby, "transcript"))
    {
        foreach (StoredEvent e in transcript.Poll())
        {
            Console.WriteLine(Describe(store, types, e));
        }

        transcript.Commit();
    }

    await host.StopAsync();
}

// After a restart the same cursor name resumes after the last committed event.
HostApplicationBuilder again = Host.CreateApplicationBuilder(args);
again.Logging.SetMinimumLevel(LogLevel.Warning);
again.Services.AddBatpak(o => o.DataDirectory = dataDirectory);
using (IHost host = again.Build())
{
    await host.StartAsync();
    IEventStore store = host.Services.GetRequiredService<IEventStore>();
    IEventTypeRegistry types = host.Services.GetRequiredService<IEventTypeRegistry>();
    store.Append(new MessagePosted("lobby", "bob", "found it, thanks"));
    using EventCursor transcript = store.OpenCursor(lobby, "transcript");
    IReadOnlyList<StoredEvent> fresh = transcript.Poll();
    Console.WriteLine($"resumed transcript: {fresh.Count} new event(s)");
    foreach (StoredEvent e in fresh)
    {
        Console.WriteLine(Describe(store, types, e));
    }

    transcript.Commit();
    await host.StopAsync();
}

Directory.Delete(dataDirectory, recursive: true);

static string Describe(IEventStore store, IEventTypeRegistry types, StoredEvent e) =>
    (types.TryDeserialize(e.Kind, e.Payload, out object? value) ? value : null) switch
    {
        MessagePosted m => $"  [{e.Header.GlobalSequence}] {m.Author}: {m.Text}",
        BotReplied r => $"  [{e.Header.GlobalSequence}] bot: {r.Text} (in reply to \"{store.Get<MessagePosted>(e.Header.CausationId!.Value).Event.Text}\")",
        _ => $"  [{e.Header.GlobalSequence}] (unknown kind {e.Kind})",
    };
