// A reactor name on three processes: one leads (the cursor lease), and when it is killed with SIGKILL another takes
// over within seconds, from the last committed checkpoint; every source event gets its reaction exactly once.
using System.Diagnostics;
using System.Globalization;
using Batpak.PgChild;
using Xunit.Abstractions;

namespace Batpak.PostgreSql.Tests.MultiProcess;

public sealed class ReactorFailoverTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(120);
    private readonly string _schema = PgServer.NewSchema();

    public void Dispose() => TestStores.DropSchema(_schema);

    private static async Task Until(Func<bool> condition, string what, TimeSpan bound)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < bound, $"Timed out after {bound.TotalSeconds} s waiting until {what}");
            await Task.Delay(10);
        }
    }

    [SkippableFact]
    public async Task ThreeInstancesOfOneReactor_OneLeads_SigkillMovesTheLeadWithinSeconds_EachSourceReactedToOnce()
    {
        PgServer.Require();
        const int Sources = 60;
        using PostgresEventStore store = PostgresEventStore.Open(TestStores.Options(_schema));
        var children = Enumerable.Range(0, 3).Select(_ => PgChildProcess.Start("react", _schema, "echo", "20")).ToList();
        try
        {
            await Until(() => children.Count(c => c.Said("leading")) == 1, "one child leads", s_bound);
            await Task.Delay(500);
            Assert.Equal(1, children.Count(c => c.Said("leading"))); // and only one
            PgChildProcess leader = children.Single(c => c.Said("leading"));

            var sources = new List<EventId>();
            for (int i = 0; i < Sources; i++)
            {
                var coordinate = new Coordinate("src:" + (i % 6).ToString(CultureInfo.InvariantCulture), "src");
                sources.Add(store.Append(coordinate, ChildEvents.Source, [(byte)i]).EventId);
            }

            await Until(() => leader.Facts("handled").Count() >= 15, "the leader handled 15 sources", s_bound);
            Assert.All(children.Where(c => c != leader), c => Assert.Empty(c.Facts("handled"))); // followers wait

            var failover = Stopwatch.StartNew();
            leader.Kill();
            await Until(() => children.Count(c => c != leader && c.Said("leading")) == 1, "another child leads", TimeSpan.FromSeconds(10));
            failover.Stop();
            output.WriteLine($"the lead moved {failover.Elapsed.TotalMilliseconds:F0} ms after the SIGKILL");
            Assert.True(failover.Elapsed < TimeSpan.FromSeconds(5), $"the lead moved in {failover.Elapsed.TotalSeconds:F1} s (bound 5 s)");

            Region echoes = Region.ForScope("echo");
            await Until(() => store.Read(echoes).Count() >= Sources, "every source has its echo", s_bound);
            await Task.Delay(500); // a duplicate, if any, would land now
            List<StoredEvent> reactions = [.. store.Read(echoes)];
            string[] reactedTo = [.. reactions.Select(e => System.Text.Encoding.UTF8.GetString(e.Payload.Span))];
            Assert.Equal(Sources, reactions.Count); // nothing twice
            Assert.Equal(sources.Select(s => s.ToString()).Order(), reactedTo.Order()); // nothing skipped
            Assert.All(reactions, r => Assert.Contains(r.Header.CausationId!.Value, sources));

            // Re-offered after the failover: at most the leader's uncommitted batch (BatchSize 8), with its effects
            // de-duplicated by their idempotency keys (the count above).
            int handledTwice = children.SelectMany(c => c.Facts("handled")).GroupBy(s => s).Count(g => g.Count() > 1);
            output.WriteLine($"{handledTwice} sources were handled by both leaders (their effects stored once)");
            Assert.InRange(handledTwice, 0, 8);
        }
        finally
        {
            children.ForEach(c => c.Dispose());
        }
    }
}
