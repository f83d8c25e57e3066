// Several processes on one PostgreSQL store: concurrent CAS appends to the same entities, and an appender killed
// with SIGKILL. The log stays gap-free, no (entity, sequence) repeats, the chains verify, and every acknowledged
// event is there.
using System.Globalization;
using Batpak.PgChild;

namespace Batpak.PostgreSql.Tests.MultiProcess;

public sealed class MultiProcessAppendTests : IDisposable
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(120);
    private readonly string _schema = PgServer.NewSchema();

    private PostgresEventStore OpenStore() => PostgresEventStore.Open(TestStores.Options(_schema));

    public void Dispose() => TestStores.DropSchema(_schema);

    private sealed record Ack(EventId Id, string Entity, long Sequence, long Global);

    private static Ack ParseAck(string fact)
    {
        string[] parts = fact.Split(' ');
        return new Ack(EventId.Parse(parts[0]), parts[1], long.Parse(parts[2], CultureInfo.InvariantCulture), long.Parse(parts[3], CultureInfo.InvariantCulture));
    }

    /// <summary>Every acknowledged event reads back where its receipt said; the log is 0..n-1; each entity 0..k-1 once.</summary>
    private static void AssertLogHolds(IEventStore store, IReadOnlyCollection<Ack> acks, long expectedTotal)
    {
        List<StoredEvent> all = [.. store.Read(Region.All)];
        Assert.Equal(expectedTotal, all.Count);
        Assert.Equal(Enumerable.Range(0, all.Count).Select(i => (long)i), all.Select(e => e.Header.GlobalSequence)); // no gap, no repeat
        foreach (IGrouping<string, StoredEvent> entity in all.GroupBy(e => e.Coordinate.Entity))
        {
            Assert.Equal(Enumerable.Range(0, entity.Count()).Select(i => (long)i), entity.Select(e => e.Header.Position.Sequence));
            Assert.True(store.Verify(entity.Key).IsValid, $"the chain of {entity.Key} verifies");
        }

        foreach (Ack ack in acks)
        {
            Assert.True(store.TryGet(ack.Id, out StoredEvent? read), $"acknowledged event {ack.Id} is stored");
            Assert.Equal((ack.Entity, ack.Sequence, ack.Global), (read.Coordinate.Entity, read.Header.Position.Sequence, read.Header.GlobalSequence));
        }

        Assert.True(store.VerifyAll().IsValid);
    }

    [SkippableFact]
    public async Task ThreeProcesses_CasAppendsToTwoEntities_ConflictsResolve_NoDuplicateSequence_GapFreeLog()
    {
        PgServer.Require();
        const int PerChild = 300;
        using (OpenStore())
        {
            // creates the schema once, before the children race to open it
        }

        var children = Enumerable.Range(0, 3).Select(i => PgChildProcess.Start("append", _schema, "2", PerChild.ToString(CultureInfo.InvariantCulture), $"p{i}")).ToList();
        try
        {
            foreach (PgChildProcess child in children)
            {
                await child.WaitForAsync("ready", s_bound);
            }

            foreach (PgChildProcess child in children)
            {
                child.WriteLine("go");
            }

            foreach (PgChildProcess child in children)
            {
                Assert.Equal(0, await child.ExitAsync(s_bound));
            }

            var acks = children.SelectMany(c => c.Facts("ack")).Select(ParseAck).ToList();
            int conflicts = children.Sum(c => int.Parse(c.Facts("done").Single(), CultureInfo.InvariantCulture));
            Assert.Equal(3 * PerChild, acks.Count);
            Assert.True(conflicts > 0, "three processes appending to two entities met CAS conflicts");
            Assert.Equal(acks.Count, acks.Select(a => (a.Entity, a.Sequence)).Distinct().Count());

            using PostgresEventStore store = OpenStore();
            AssertLogHolds(store, acks, 3 * PerChild);
        }
        finally
        {
            children.ForEach(c => c.Dispose());
        }
    }

    [SkippableFact]
    public async Task AnAppenderKilledWithSigkill_LosesNoAcknowledgedEvent_AndTheOthersCarryOn()
    {
        PgServer.Require();
        using (OpenStore())
        {
        }

        using PgChildProcess victim = PgChildProcess.Start("append", _schema, "3", "100000", "victim");
        using PgChildProcess survivor = PgChildProcess.Start("append", _schema, "3", "400", "survivor");
        await victim.WaitForAsync("ready", s_bound);
        await survivor.WaitForAsync("ready", s_bound);
        victim.WriteLine("go");
        survivor.WriteLine("go");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (victim.Facts("ack").Count() < 200)
        {
            Assert.True(clock.Elapsed < s_bound, "the victim acknowledged 200 events");
            await Task.Delay(5);
        }

        victim.Kill(); // mid-append: its writer may be inside a transaction
        Assert.Equal(0, await survivor.ExitAsync(s_bound));

        var acks = victim.Facts("ack").Concat(survivor.Facts("ack")).Select(ParseAck).ToList();
        using PostgresEventStore store = OpenStore();
        long total = store.Read(Region.All).LongCount();
        Assert.InRange(total, acks.Count, acks.Count + 1); // at most the one in flight landed without its ack printed
        AssertLogHolds(store, acks, total);
        store.Append(new Coordinate("cas:0", "cas"), ChildEvents.Appended, [1]); // the sequencer is free again
    }
}
