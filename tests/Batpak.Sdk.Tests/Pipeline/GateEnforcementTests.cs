// BatpakOptions.GatedKinds: a gated kind reaches the store only through a Pipeline (Commit of a receipt, or an
// audited Bypass). Every raw append form is refused, the pipeline's permission cannot be made or reused by user
// code, ungated kinds and stores without the option behave as before, and DI turns it on.
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Batpak.Tests;

public class GateEnforcementTests
{
    private static readonly IPayloadEncoder<string> s_utf8 = PayloadEncoder.Create<string>(Encoding.UTF8.GetBytes);
    private static readonly EventKind s_gated = OrderPlaced.Kind; // 0x1001
    private static readonly EventKind s_free = EventKind.Create(0x2, 0x001);
    private static readonly Coordinate s_order = new("order:1", "tenant:acme");
    private static readonly GateSet<OrderContext> s_gates = new(
        [Gate.Require<OrderContext>("max-total", c => c.Total <= c.Limit, "TOTAL_TOO_HIGH", "The order total exceeds the limit.")],
        GatePolicy.FailFast,
        "orders");

    private static readonly OrderContext s_fine = new("ann", false, 10m);

    private static EventStore OpenGated(string directory) => TestEvents.Open(directory, o => o.GatedKinds.Add(s_gated));

    [Fact]
    public async Task TypedAppends_OfAGatedKind_AreRefusedInEveryForm_AndAppendNothing()
    {
        // The raw IEventStore forms are in the contract (EventStoreContract.Gates.cs); these are the typed extensions.
        using var dir = new TempDirectory();
        using (EventStore store = OpenGated(dir.Path))
        {
            AppendReceipt cause = store.Append(s_order, s_free, TestEvents.Payload(0)); // ungated: raw is fine
            var placed = new OrderPlaced("1", "acme", 5m);
            var attempts = new (string Form, Func<Task> Run)[]
            {
                ("typed Append", () => Task.FromResult(store.Append(placed))),
                ("typed AppendAsync", async () => await store.AppendAsync(placed)),
                ("typed AppendReaction", () => Task.FromResult(store.AppendReaction(cause.EventId, placed))),
                ("typed ToEventData + AppendBatch", () => Task.FromResult(store.AppendBatch([store.ToEventData(placed)]))),
            };

            foreach ((string form, Func<Task> run) in attempts)
            {
                GateRequiredException ex = await Assert.ThrowsAsync<GateRequiredException>(run);
                Assert.Equal(s_gated, ex.Kind);
                Assert.Contains("0x1001", ex.Message, StringComparison.Ordinal);
                Assert.Contains("order:", ex.Message, StringComparison.Ordinal);
                Assert.True(store.GetStats().EventCount == 1, $"{form} appended something");
            }

            Assert.Empty(store.Read(Region.ForKind(s_gated)));
        }

        using EventStore reopened = OpenGated(dir.Path);
        Assert.Equal(1, reopened.GetStats().EventCount);
    }

    [Fact]
    public void UngatedKind_AndStoresWithoutTheOption_StillAppendRaw()
    {
        using var dir = new TempDirectory();
        using (EventStore store = OpenGated(dir.Path))
        {
            Assert.Equal(0, store.Append(s_order, s_free, TestEvents.Payload(0)).GlobalSequence);
            Assert.Single(store.AppendBatch([new EventData(s_order, s_free, TestEvents.Payload(1))]));
        }

        using var plain = new TempDirectory();
        var options = new BatpakOptions { DataDirectory = plain.Path };
        using var ungated = new EventStore(options);
        options.GatedKinds.Add(s_gated); // the store copied the options at open: no effect
        Assert.False(ungated.IsGated(s_gated));
        Assert.Equal(0, ungated.Append(s_order, s_gated, TestEvents.Payload(2)).GlobalSequence);
        Assert.Empty(ungated.Options.GatedKinds);
    }

    [Fact]
    public void PublicAppendOptions_InAnyCombination_DoNotOpenTheGate()
    {
        using var dir = new TempDirectory();
        using EventStore store = OpenGated(dir.Path);
        AppendReceipt cause = store.Append(s_order, s_free, TestEvents.Payload(0));
        var tries = new List<AppendOptions>();
        foreach (bool durable in new[] { false, true })
        {
            foreach (long? expected in new long?[] { null, AppendOptions.NoStream })
            {
                foreach (string? key in new[] { null, "k-1" })
                {
                    tries.Add(new AppendOptions { Durable = durable, ExpectedSequence = expected, IdempotencyKey = key, CorrelationId = cause.EventId, CausationId = cause.EventId });
                }
            }
        }

        foreach (AppendOptions options in tries)
        {
            Assert.Throws<GateRequiredException>(() => store.Append(s_order, s_gated, TestEvents.Payload(1), options));
        }

        // The SDK-owned flags are refused outright without the internal bypass reason.
        Assert.Throws<ArgumentException>(() => store.Append(s_order, s_gated, TestEvents.Payload(1), new AppendOptions { Flags = EventFlags.Bypassed }));
        Assert.Equal(1, store.GetStats().EventCount);
    }

    [Fact]
    public void UserCode_CannotSetTheBypassReasonOrThePermit_OnAppendOptions()
    {
        const string Control = """
            using Batpak;
            public static class UserCode
            {
                public static AppendOptions Make() => new AppendOptions { Durable = true, IdempotencyKey = "k" } with { Flags = EventFlags.None };
            }
            """;
        const string Reason = """
            using Batpak;
            public static class UserCode
            {
                public static AppendOptions Make() => new AppendOptions { BypassReason = "trust me" };
            }
            """;
        const string Permit = """
            using Batpak;
            public static class UserCode
            {
                public static AppendOptions Make(AppendOptions seen) => seen with { GatePermit = null };
            }
            """;

        Assert.Empty(ReceiptForgeryTests.Errors(Control));
        Assert.Equal(["CS0117"], ReceiptForgeryTests.Errors(Reason)); // not a member, for a compiler that imports only the public surface
        Assert.Equal(["CS0117"], ReceiptForgeryTests.Errors(Permit));
    }

    [Fact]
    public void OptionsCapturedByADecoratingStore_AdmitOnlyTheOneCommittedEvent()
    {
        using var dir = new TempDirectory();
        using EventStore store = OpenGated(dir.Path);
        var spy = new CapturingStore(store);
        var pipeline = new Pipeline<OrderContext>(spy, s_gates);
        pipeline.Commit(pipeline.Evaluate(s_fine, new Proposal<string>("once", s_order, s_gated)), s_utf8);
        AppendOptions captured = Assert.Single(spy.Seen);

        Assert.Throws<GateRequiredException>(() => store.Append(s_order, s_gated, TestEvents.Payload(1), captured)); // spent
        Assert.Throws<GateRequiredException>(() => store.Append(s_order, s_gated, TestEvents.Payload(2), captured with { Durable = true }));

        // A second commit's permit, captured before it reaches the store, fits only its own kind and coordinate.
        spy.Swallow = true;
        Assert.Throws<IOException>(() => pipeline.Commit(pipeline.Evaluate(s_fine, new Proposal<string>("swallowed", s_order, s_gated)), s_utf8));
        AppendOptions unspent = spy.Seen[^1];
        Assert.Throws<GateRequiredException>(() => store.Append(new Coordinate("order:2", "tenant:acme"), s_gated, TestEvents.Payload(3), unspent));
        Assert.Throws<GateRequiredException>(() => store.AppendBatch([new EventData(s_order, EventKind.Create(0x1, 0x002), TestEvents.Payload(4), unspent), new EventData(new Coordinate("order:3", "t"), s_gated, TestEvents.Payload(5), unspent)]));
        Assert.Single(store.Read(Region.ForKind(s_gated)));

        // What it can still do is deliver the one event the gates passed (its kind, its coordinate), once.
        store.Append(s_order, s_gated, TestEvents.Payload(6), unspent);
        Assert.Throws<GateRequiredException>(() => store.Append(s_order, s_gated, TestEvents.Payload(7), unspent));
        Assert.Equal(2, store.Read(Region.ForKind(s_gated)).Count());
    }

    [Fact]
    public void AddBatpak_RequireGatesFor_GatesTheKind_AndThePipelineStillCommits()
    {
        using var dir = new TempDirectory();
        var services = new ServiceCollection();
        services.AddBatpak(o => o.DataDirectory = dir.Path)
            .AddGate(Gate.Require<OrderContext>("max-total", c => c.Total <= c.Limit, "TOTAL_TOO_HIGH", "Too much."))
            .RequireGatesFor<OrderPlaced>()
            .RequireGatesFor(s_free);
        using ServiceProvider provider = services.BuildServiceProvider();
        EventStore store = provider.GetRequiredService<EventStore>();
        Assert.True(store.IsGated(s_gated) && store.IsGated(s_free));

        Assert.Throws<GateRequiredException>(() => store.Append(new OrderPlaced("1", "acme", 5m)));
        Pipeline<OrderContext> pipeline = provider.GetRequiredService<Pipeline<OrderContext>>();
        pipeline.Commit(pipeline.Evaluate(s_fine, pipeline.Propose(new OrderPlaced("1", "acme", 5m))));
        Assert.Single(store.Read(Region.ForKind(s_gated)));
    }

    [Fact]
    public void GatedKinds_WithAReservedKind_IsRejected_InCodeAndInDI()
    {
        using var dir = new TempDirectory();
        EventKind system = EventKind.FromValue(0x0001);
        var ex = Assert.Throws<ArgumentException>(() => TestEvents.Open(dir.Path, o => o.GatedKinds.Add(system)));
        Assert.Contains("0x0001", ex.Message, StringComparison.Ordinal);
        Assert.Contains("GatedKinds", ex.Message, StringComparison.Ordinal);

        var services = new ServiceCollection();
        services.AddBatpak(o => o.DataDirectory = dir.Path).RequireGatesFor(system);
        using ServiceProvider provider = services.BuildServiceProvider();
        var invalid = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<EventStore>());
        Assert.Contains("GatedKinds lists 0x0001", invalid.Message, StringComparison.Ordinal);
    }

    /// <summary>A user's decorating store: forwards everything, records the options of each append, and can drop them.</summary>
    private sealed class CapturingStore(IEventStore inner) : ForwardingEventStore(inner)
    {
        public List<AppendOptions> Seen { get; } = [];

        public bool Swallow { get; set; }

        public override AppendReceipt Append(in Coordinate coordinate, EventKind kind, ReadOnlySpan<byte> payload, AppendOptions? options = null)
        {
            Seen.Add(options!);
            return Swallow ? throw new IOException("dropped by the decorator") : base.Append(coordinate, kind, payload, options);
        }
    }
}
