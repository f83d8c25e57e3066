namespace Batpak.Tests.Reactors;

[BatpakEvent(Category = 0xB, Type = 0x001)]
public sealed partial record OrderSubmitted([property: Entity("rorder:{0}")] string OrderId, int Quantity);

[BatpakEvent(Category = 0xB, Type = 0x002)]
public sealed partial record StockReserved([property: Entity("stock:{0}")] string OrderId, int Quantity);

[BatpakEvent(Category = 0xB, Type = 0x003)]
public sealed partial record ReservationAudited([property: Entity("audit:{0}")] string OrderId);

/// <summary>Reserves stock for every submitted order; an optional hook runs first (to block, throw, count).</summary>
internal sealed class ReserveStock(string name = "reserve-stock", Action<OrderSubmitted, int>? before = null) : Reactor<OrderSubmitted>(name)
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    protected override void React(StoredEvent<OrderSubmitted> source, ReactionOutput output)
    {
        int call = Interlocked.Increment(ref _calls);
        before?.Invoke(source.Event, call);
        output.Emit(new StockReserved(source.Event.OrderId, source.Event.Quantity));
        if (source.Event.Quantity > 100)
        {
            output.Emit(new ReservationAudited(source.Event.OrderId));
        }
    }
}

public class ReactorRunnerTests
{
    private static readonly ReactorOptions s_fast = new() { InitialBackoff = TimeSpan.FromMilliseconds(1), MaxBackoff = TimeSpan.FromMilliseconds(5) };

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "Timed out waiting until " + what);
            await Task.Delay(10);
        }
    }

    private static List<StoredEvent> Reactions(IEventStore store) => [.. store.Read(Region.ForKind(BatpakEvents.KindOf<StockReserved>()))];

    [Fact]
    public async Task Runner_EmitsDerivedEvents_WithCausationAndCorrelation()
    {
        using var dir = new TempDirectory();
        await using EventStore store = TestEvents.Open(dir.Path);
        AppendReceipt first = store.Append(new OrderSubmitted("1", 5));
        var reactor = new ReserveStock();
        await using var runner = new ReactorRunner(store, reactor, s_fast);
        runner.Start();
        AppendReceipt second = store.Append(new OrderSubmitted("2", 500)); // after the start: delivered live

        await Eventually(() => runner.ReactionsAppended == 3, "three reactions");
        await runner.StopAsync();

        StoredEvent source = store.Get(first.EventId);
        StoredEvent<StockReserved> reserved = store.Stream<StockReserved>("stock:1").Single();
        Assert.Equal(first.EventId, reserved.Header.CausationId);
        Assert.Equal(source.Header.CorrelationId, reserved.Header.CorrelationId);
        Assert.Equal(5, reserved.Event.Quantity);
        Assert.Equal($"reactor:reserve-stock/{first.EventId}/0", reserved.Raw.IdempotencyKey);
        Assert.Equal(1u, reserved.Header.Position.Depth);

        StoredEvent audit = store.Stream("audit:2").Single();
        Assert.Equal(second.EventId, audit.Header.CausationId);
        Assert.Equal(second.EventId, audit.Header.CorrelationId);
        Assert.Equal($"reactor:reserve-stock/{second.EventId}/1", audit.IdempotencyKey);
        Assert.Equal(2, runner.EventsProcessed);
        Assert.Equal(0, runner.FailureCount);
        Assert.False(runner.IsRunning);
        Assert.Equal("reactor.reserve-stock", runner.CursorName);
    }

    [Fact]
    public async Task Runner_RestartMidStream_ResumesWithoutReReactingOrDuplicates()
    {
        using var dir = new TempDirectory();
        const int Total = 12;
        using var gate = new ManualResetEventSlim(false);
        int firstRunCalls;
        using (EventStore store = TestEvents.Open(dir.Path))
        {
            for (int i = 0; i < Total / 2; i++)
            {
                store.Append(new OrderSubmitted($"{i}", i + 1));
            }

            // The 4th offer blocks until the test has asked the runner to stop: a stop in the middle of the stream.
            var reactor = new ReserveStock(before: (_, call) =>
            {
                if (call == 4)
                {
                    gate.Wait(TimeSpan.FromSeconds(20));
                }
            });
            var runner = new ReactorRunner(store, reactor, s_fast with { BatchSize = 2 });
            runner.Start();
            await Eventually(() => reactor.Calls == 4, "the fourth offer");
            Task stopping = runner.StopAsync();
            gate.Set();
            await stopping;
            firstRunCalls = reactor.Calls;
            Assert.Equal(4, firstRunCalls);
            Assert.Equal(4, Reactions(store).Count);

            for (int i = Total / 2; i < Total; i++)
            {
                store.Append(new OrderSubmitted($"{i}", i + 1));
            }
        }

        using EventStore reopened = TestEvents.Open(dir.Path);
        var resumed = new ReserveStock();
        await using (var runner = new ReactorRunner(reopened, resumed, s_fast))
        {
            runner.Start();
            await Eventually(() => runner.EventsProcessed == Total - firstRunCalls, "the rest of the stream");
            await runner.StopAsync();
        }

        Assert.Equal(Total - firstRunCalls, resumed.Calls); // committed positions are not offered again
        List<StoredEvent> reactions = Reactions(reopened);
        Assert.Equal(Total, reactions.Count);
        Assert.Equal(Total, reactions.Select(r => r.Header.CausationId).Distinct().Count());
    }

    [Fact]
    public async Task Runner_CrashBetweenAppendAndCommit_ReoffersButNeverDuplicates()
    {
        using var dir = new TempDirectory();
        using (EventStore store = TestEvents.Open(dir.Path))
        {
            for (int i = 0; i < 5; i++)
            {
                store.Append(new OrderSubmitted($"{i}", 200)); // two reactions each
            }

            var runner = new ReactorRunner(store, new ReserveStock(), s_fast);
            runner.Start();
            await Eventually(() => runner.EventsProcessed == 5, "five offers");
            await runner.StopAsync();

            // Simulate a crash after the appends but before the commit: put the checkpoint back to the start.
            using EventCursor cursor = store.OpenCursor(Region.ForKind(BatpakEvents.KindOf<OrderSubmitted>()), runner.CursorName);
            Assert.NotEqual(0, cursor.Position);
            cursor.Seek(0);
            cursor.Commit();
        }

        using EventStore reopened = TestEvents.Open(dir.Path);
        long before = reopened.GetStats().EventCount;
        var again = new ReserveStock();
        await using (var runner = new ReactorRunner(reopened, again, s_fast))
        {
            runner.Start();
            await Eventually(() => runner.EventsProcessed == 5, "five repeated offers");
            await runner.StopAsync();
        }

        Assert.Equal(5, again.Calls); // at-least-once attempts
        Assert.Equal(before, reopened.GetStats().EventCount); // exactly-once effects
        Assert.Equal(5, Reactions(reopened).Count);
        Assert.Equal(5, reopened.Read(Region.ForKind(BatpakEvents.KindOf<ReservationAudited>())).Count());
    }

    [Fact]
    public async Task Runner_ThrowingReactor_IsRetriedAfterADoublingCappedBackoff_ThenReactsOnce_AndTheStoreKeepsWorking()
    {
        using var dir = new TempDirectory();
        await using EventStore store = TestEvents.Open(dir.Path);
        var failures = new List<ReactorFailure>();
        var attempts = new List<TimeSpan>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var reactor = new ReserveStock(before: (evt, call) =>
        {
            if (evt.OrderId != "flaky")
            {
                return;
            }

            attempts.Add(clock.Elapsed);
            if (call <= 3)
            {
                throw new InvalidOperationException($"attempt {call} fails");
            }
        });
        var options = s_fast with
        {
            MaxAttempts = 5,
            InitialBackoff = TimeSpan.FromMilliseconds(20),
            MaxBackoff = TimeSpan.FromMilliseconds(50),
            OnFailure = f => { lock (failures) { failures.Add(f); } },
        };
        await using var runner = new ReactorRunner(store, reactor, options);
        store.Append(new OrderSubmitted("flaky", 1));
        store.Append(new OrderSubmitted("fine", 2));
        runner.Start();

        await Eventually(() => runner.EventsProcessed == 2, "both events handled");

        Assert.True(runner.IsRunning);
        Assert.Equal(3, runner.FailureCount);
        Assert.Equal([1, 2, 3], failures.Select(f => f.Attempt));
        Assert.All(failures, f => Assert.Equal(ReactorFailureAction.Retry, f.Action));
        Assert.All(failures, f => Assert.IsType<InvalidOperationException>(f.Exception));
        Assert.Equal("reserve-stock", failures[0].ReactorName);
        Assert.Equal(4, attempts.Count);
        int[] waits = [20, 40, 50]; // 20 ms, doubled to 40, doubled to 80 and capped at 50
        for (int i = 0; i < waits.Length; i++)
        {
            double gap = (attempts[i + 1] - attempts[i]).TotalMilliseconds;
            // Timers run on a coarse clock (CLOCK_MONOTONIC_COARSE on Linux: 4 ms ticks), so a delay can end up to one
            // tick early by the Stopwatch; 5 ms of slack still tells 20 from 40 from 50.
            Assert.True(gap >= waits[i] - 5, $"attempt {i + 2} came {gap:F1} ms after attempt {i + 1}; the backoff is {waits[i]} ms");
        }

        Assert.Single(store.Stream("stock:flaky"));
        Assert.Single(store.Stream("stock:fine"));
        store.Append(new OrderSubmitted("after", 3)); // the store is unharmed
        await Eventually(() => runner.EventsProcessed == 3, "an event after the failures");
    }

    [Fact]
    public async Task Runner_PoisonEvent_SkipPolicy_ReportsAndContinues()
    {
        using var dir = new TempDirectory();
        await using EventStore store = TestEvents.Open(dir.Path);
        var failures = new List<ReactorFailure>();
        var reactor = new ReserveStock(before: (evt, _) =>
        {
            if (evt.OrderId == "poison")
            {
                throw new InvalidOperationException("never works");
            }
        });
        var options = s_fast with { MaxAttempts = 3, PoisonEventPolicy = PoisonEventPolicy.SkipEvent, OnFailure = f => { lock (failures) { failures.Add(f); } throw new InvalidOperationException("a broken logger"); } };
        await using var runner = new ReactorRunner(store, reactor, options);
        store.Append(new OrderSubmitted("poison", 1));
        store.Append(new OrderSubmitted("next", 2));
        runner.Start();

        await Eventually(() => runner.EventsProcessed == 1 && runner.SkippedCount == 1, "the skip and the next event");

        Assert.Equal([ReactorFailureAction.Retry, ReactorFailureAction.Retry, ReactorFailureAction.Skip], failures.Select(f => f.Action));
        Assert.Empty(store.Stream("stock:poison"));
        Assert.Single(store.Stream("stock:next"));
        Assert.True(runner.IsRunning);
        Assert.Null(runner.StoppedBy);
    }

    [Fact]
    public async Task Runner_PoisonEvent_StopPolicy_StopsAtTheEvent_AndRetriesItOnNextStart()
    {
        using var dir = new TempDirectory();
        await using EventStore store = TestEvents.Open(dir.Path);
        bool broken = true;
        var reactor = new ReserveStock(before: (evt, _) =>
        {
            if (evt.OrderId == "poison" && Volatile.Read(ref broken))
            {
                throw new InvalidOperationException("not yet");
            }
        });
        await using var runner = new ReactorRunner(store, reactor, s_fast with { MaxAttempts = 2 });
        store.Append(new OrderSubmitted("ok", 1));
        store.Append(new OrderSubmitted("poison", 2));
        store.Append(new OrderSubmitted("later", 3));
        runner.Start();

        await runner.Completion.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.False(runner.IsRunning);
        Assert.NotNull(runner.StoppedBy);
        Assert.Equal(ReactorFailureAction.Stop, runner.StoppedBy.Action);
        Assert.Equal(2, runner.StoppedBy.Attempt);
        Assert.Equal("poison", store.Get<OrderSubmitted>(runner.StoppedBy.Source.Id).Event.OrderId);
        Assert.Single(store.Stream("stock:ok"));
        Assert.Empty(store.Stream("stock:later"));
        store.Append(new OrderSubmitted("meanwhile", 4)); // the store is unharmed

        Volatile.Write(ref broken, false);
        runner.Start(); // resumes at the poison event
        await Eventually(() => store.Stream("stock:meanwhile").Any(), "the rest after the fix");
        Assert.Null(runner.StoppedBy);
        Assert.Single(store.Stream("stock:poison"));
        Assert.Single(store.Stream("stock:later"));
        Assert.Single(store.Stream("stock:ok"));
    }

    [Fact]
    public async Task Runner_ReactorWhoseRegionIncludesItsOwnOutput_DoesNotLoop()
    {
        using var dir = new TempDirectory();
        await using EventStore store = TestEvents.Open(dir.Path);
        var echo = new EchoReactor();
        await using var runner = new ReactorRunner(store, echo, s_fast);
        store.Append(new OrderSubmitted("1", 1));
        runner.Start();

        await Eventually(() => runner.ReactionsAppended == 1, "one echo");
        await Task.Delay(100);
        await runner.StopAsync();

        Assert.Equal(1, echo.Calls);
        Assert.Equal(2, store.Read(Region.ForKind(BatpakEvents.KindOf<OrderSubmitted>())).Count());
    }

    [Fact]
    public async Task Runner_StoreDisposed_EndsQuietly()
    {
        using var dir = new TempDirectory();
        EventStore store = TestEvents.Open(dir.Path);
        var runner = new ReactorRunner(store, new ReserveStock(), s_fast);
        runner.Start();
        store.Append(new OrderSubmitted("1", 1));
        await Eventually(() => runner.EventsProcessed == 1, "one offer");

        store.Dispose();

        await runner.Completion.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.False(runner.IsRunning);
        await runner.DisposeAsync();
    }

    [Fact]
    public async Task Runner_StartTwice_Throws_AndStopWhenIdleIsHarmless()
    {
        using var dir = new TempDirectory();
        await using EventStore store = TestEvents.Open(dir.Path);
        await using var runner = new ReactorRunner(store, new ReserveStock(), s_fast);
        await runner.StopAsync();
        Assert.True(runner.Completion.IsCompleted);

        runner.Start();
        Assert.Throws<InvalidOperationException>(runner.Start);
        await runner.StopAsync();
        await runner.StopAsync();
    }

    [Fact]
    public void Runner_InvalidNameOrOptions_Throw()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);

        Assert.Throws<ArgumentException>(() => new ReserveStock("bad name"));
        Assert.Throws<ArgumentException>(() => new ReserveStock(".hidden"));
        Assert.Throws<ArgumentException>(() => new ReserveStock(new string('a', 121)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReactorRunner(store, new ReserveStock(), new ReactorOptions { MaxAttempts = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReactorRunner(store, new ReserveStock(), new ReactorOptions { BatchSize = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReactorRunner(store, new ReserveStock(), new ReactorOptions { MaxBackoff = TimeSpan.Zero }));
    }

    [Fact]
    public async Task Runner_UntypedReactor_EmitsRawEvents_AndSeesUnknownKinds()
    {
        using var dir = new TempDirectory();
        await using EventStore store = TestEvents.Open(dir.Path);
        AppendReceipt source = store.Append(new Coordinate("raw:1", "default"), TestEvents.Created, TestEvents.Payload(1));
        var reactor = new UntypedReactor();
        await using var runner = new ReactorRunner(store, reactor, s_fast);
        runner.Start();

        await Eventually(() => runner.ReactionsAppended == 1, "one raw reaction");

        StoredEvent derived = store.Stream("raw-derived:1").Single();
        Assert.Equal(TestEvents.Updated, derived.Kind);
        Assert.Equal(TestEvents.Payload(1), derived.Payload.ToArray());
        Assert.Equal(source.EventId, derived.Header.CausationId);
        Assert.False(reactor.SawKnownEvent);
    }

    [Fact]
    public void ReactionOutput_Emit_RejectsInvalidCoordinate_AndCopiesPayload()
    {
        var output = new ReactionOutput("default");
        byte[] payload = [1, 2, 3];

        output.Emit(new Coordinate("x:1", "s"), TestEvents.Created, payload);
        payload[0] = 9;

        Assert.Equal(1, output.Count);
        Assert.Equal(1, output.Events[0].Payload[0]);
        Assert.Throws<ArgumentException>(() => output.Emit(default, TestEvents.Created, payload));
        Assert.Equal("default", output.DefaultScope);
    }

    /// <summary>Copies every Created event of a "raw:" entity to a "raw-derived:" entity as Updated.</summary>
    private sealed class UntypedReactor : IReactor
    {
        public bool SawKnownEvent { get; private set; }

        public string Name => "untyped";

        public Region Region => Region.ForEntityPrefix("raw:");

        public void React(TypedEvent source, ReactionOutput output)
        {
            SawKnownEvent |= source.IsKnown;
            string id = source.Raw.Coordinate.Entity["raw:".Length..];
            output.Emit(new Coordinate("raw-derived:" + id, source.Raw.Coordinate.Scope), TestEvents.Updated, source.Raw.Payload.Span);
        }
    }

    /// <summary>Emits another OrderSubmitted for each one: its output is inside its own region.</summary>
    private sealed class EchoReactor : IReactor
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public string Name => "echo";

        public Region Region => Region.ForCategory(0xB);

        public void React(TypedEvent source, ReactionOutput output)
        {
            Interlocked.Increment(ref _calls);
            if (source.Event is OrderSubmitted order)
            {
                output.Emit(order with { OrderId = order.OrderId + "-echo" });
            }
        }
    }
}
