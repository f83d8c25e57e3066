using static Batpak.Contract.ContractEvents;

namespace Batpak.Contract;

// The contract of a reactor name: one runner handles it at a time (the cursor lease), a waiting runner takes over
// from the holder's last commit when the holder stops, and every source event gets its reactions exactly once.
// Engines whose store several instances open (PostgreSQL) prove the cross-instance half in their own tests.
public abstract partial class EventStoreContract
{
    /// <summary>Reacts to every <see cref="ContractEvents.Created"/> event in scope "bank" with one Audit event on <c>echo:{entity}</c>.</summary>
    private sealed class EchoReactor(string name) : IReactor
    {
        private int _handled;

        public string Name => name;

        public Region Region => Region.ForScope("bank").WithKinds(KindFilter.Exact(Created));

        public int Handled => Volatile.Read(ref _handled);

        public void React(TypedEvent source, ReactionOutput output)
        {
            Interlocked.Increment(ref _handled);
            output.Emit(new Coordinate("echo:" + source.Raw.Coordinate.Entity, "echoes"), Audit, source.Raw.Payload.Span);
        }
    }

    private static readonly ReactorOptions s_reactorOptions = new() { InitialBackoff = TimeSpan.FromMilliseconds(1), MaxBackoff = TimeSpan.FromMilliseconds(5) };

    private static async Task Until(Func<bool> condition, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Bound, "Timed out waiting until " + what);
            await Task.Delay(10);
        }
    }

    private static List<StoredEvent> Echoes(IEventStore store) => [.. store.Read(Region.ForScope("echoes"))];

    [Fact]
    public async Task Reactor_TwoRunnersOfOneName_OneLeads_TheOtherTakesOverAtItsCommit_EachSourceOnce()
    {
        IEventStore store = OpenNew();
        var first = new EchoReactor("echo");
        var second = new EchoReactor("echo");
        await using var leader = new ReactorRunner(store, first, s_reactorOptions);
        await using var follower = new ReactorRunner(store, second, s_reactorOptions);
        leader.Start();
        await Until(() => leader.IsLeading, "the first runner leads");
        follower.Start();
        for (int i = 0; i < 10; i++)
        {
            store.Append(i % 2 == 0 ? Alice : Bob, Created, Payload(i));
        }

        await Until(() => leader.EventsProcessed == 10, "the leader handled the first ten");
        Assert.False(follower.IsLeading);
        Assert.True(follower.IsRunning); // started, waiting for the lease
        Assert.Equal(0, second.Handled);

        await leader.StopAsync();
        Assert.False(leader.IsLeading);
        await Until(() => follower.IsLeading, "the follower takes over");
        for (int i = 10; i < 20; i++)
        {
            store.Append(i % 2 == 0 ? Alice : Bob, Created, Payload(i));
        }

        await Until(() => follower.EventsProcessed == 10, "the follower handled the next ten");
        Assert.Equal(10, first.Handled);
        Assert.Equal(10, second.Handled); // resumed at the leader's commit: nothing handled twice, nothing skipped
        List<StoredEvent> echoes = Echoes(store);
        Assert.Equal(20, echoes.Count);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"payload-{i}"), echoes.Select(Text));
    }

    [Fact]
    public async Task Reactor_ARunnerWaitingForTheLease_StopsPromptly_AndNeverHandlesAnything()
    {
        IEventStore store = OpenNew();
        var waiting = new EchoReactor("echo");
        await using var leader = new ReactorRunner(store, new EchoReactor("echo"), s_reactorOptions);
        await using var follower = new ReactorRunner(store, waiting, s_reactorOptions);
        leader.Start();
        await Until(() => leader.IsLeading, "the first runner leads");
        follower.Start();
        store.Append(Alice, Created, Payload(1));
        await Until(() => leader.EventsProcessed == 1, "the leader handled the event");

        using var bound = new CancellationTokenSource(Bound);
        await follower.StopAsync(bound.Token); // a hang here fails the test with OperationCanceledException
        Assert.False(follower.IsRunning);
        Assert.Equal(0, waiting.Handled);
        Assert.True(leader.IsLeading);
    }

    [Fact]
    public async Task Reactor_RunnersOfDifferentNames_LeadAtTheSameTime()
    {
        IEventStore store = OpenNew();
        await using var one = new ReactorRunner(store, new EchoReactor("echo-one"), s_reactorOptions);
        await using var two = new ReactorRunner(store, new EchoReactor("echo-two"), s_reactorOptions);
        one.Start();
        two.Start();
        store.Append(Alice, Created, Payload(1));
        await Until(() => one.EventsProcessed == 1 && two.EventsProcessed == 1, "both handled the event");
        Assert.True(one.IsLeading);
        Assert.True(two.IsLeading);
    }
}
