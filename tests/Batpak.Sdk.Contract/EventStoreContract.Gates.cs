using System.Text;
using static Batpak.Contract.ContractEvents;

namespace Batpak.Contract;

// The contract of gated kinds (StoreSetup.GatedKinds): every raw append form of a gated kind throws
// GateRequiredException naming the kind and coordinate and appends nothing; a Pipeline's commit and audited bypass
// of it append, and the bypass reason is stored and survives a reopen; ungated kinds append raw.
public abstract partial class EventStoreContract
{
    private static readonly EventKind s_gated = EventKind.Create(0x3, 0x001);
    private static readonly IPayloadEncoder<string> s_utf8 = PayloadEncoder.Create<string>(Encoding.UTF8.GetBytes);
    private static readonly GateSet<int> s_positive = new([Gate.Require<int>("positive", c => c > 0, "NOT_POSITIVE", "The amount must be positive.")], GatePolicy.FailFast, "amounts");

    private StoreSetup GatedSetup() => NewSetup() with { GatedKinds = [s_gated] };

    [SkippableFact]
    public async Task RawAppends_OfAGatedKind_ThrowGateRequiredNamingTheKindAndCoordinate_InEveryForm_AndAppendNothing()
    {
        IEventStore store = Open(GatedSetup());
        AppendReceipt cause = store.Append(Alice, Created, Payload(0)); // ungated: raw is fine
        byte[] payload = Payload(1);
        var attempts = new (string Form, Func<Task> Run)[]
        {
            ("Append", () => Task.FromResult(store.Append(Bob, s_gated, payload))),
            ("Append durable", () => Task.FromResult(store.Append(Bob, s_gated, payload, new AppendOptions { Durable = true }))),
            ("AppendAsync", async () => await store.AppendAsync(Bob, s_gated, payload)),
            ("AppendBatch", () => Task.FromResult(store.AppendBatch([new EventData(Bob, s_gated, payload)]))),
            ("AppendBatch mixed", () => Task.FromResult(store.AppendBatch([Data(Alice, 2), new EventData(Bob, s_gated, payload)]))),
            ("AppendBatch span", () =>
            {
                store.AppendBatch([new EventData(Bob, s_gated, payload)], new AppendReceipt[1].AsSpan(), durable: true);
                return Task.CompletedTask;
            }),
            ("AppendReaction", () => Task.FromResult(store.AppendReaction(cause.EventId, Bob, s_gated, payload))),
        };

        foreach ((string form, Func<Task> run) in attempts)
        {
            GateRequiredException ex = await Assert.ThrowsAsync<GateRequiredException>(run);
            Assert.Equal((s_gated, Bob), (ex.Kind, ex.Coordinate));
            Assert.True(All(store).Count == 1, $"{form} appended something");
        }

        Assert.Equal(1, store.Append(Bob, Updated, payload).GlobalSequence); // ungated kinds still append raw
    }

    [SkippableFact]
    public async Task PipelineCommitAndBypass_OfAGatedKind_Append_AndTheBypassReasonIsStored_AlsoAfterReopen()
    {
        StoreSetup setup = GatedSetup();
        IEventStore store = Open(setup);
        var pipeline = new Pipeline<int>(store, s_positive);

        Committed<string> committed = pipeline.Commit(pipeline.Evaluate(5, new Proposal<string>("gated", Bob, s_gated)), s_utf8);
        Committed<string> committedAsync = await pipeline.CommitAsync(pipeline.Evaluate(6, new Proposal<string>("gated async", Bob, s_gated)), s_utf8);
        Committed<string> bypassed = pipeline.Bypass(new Proposal<string>("forced", Bob, s_gated), "INC-9: restore a lost order", s_utf8);
        Committed<string> bypassedAsync = await pipeline.BypassAsync(new Proposal<string>("forced async", Bob, s_gated), "INC-10: replay", s_utf8);
        Assert.Throws<GateDeniedException>(() => pipeline.Evaluate(-1, new Proposal<string>("denied", Bob, s_gated)));

        store = Reopen(store, setup);
        Assert.Equal([committed.EventId, committedAsync.EventId, bypassed.EventId, bypassedAsync.EventId], Ids(store.Read(Region.ForKind(s_gated))));
        Assert.Equal(["gated", "gated async", "forced", "forced async"], store.Read(Region.ForKind(s_gated)).Select(Text));
        Assert.Equal([null, null, "INC-9: restore a lost order", "INC-10: replay"], store.Read(Region.ForKind(s_gated)).Select(e => e.BypassReason));
        Assert.Equal(
            [EventFlags.None, EventFlags.None, EventFlags.Bypassed, EventFlags.Bypassed],
            store.Read(Region.ForKind(s_gated)).Select(e => e.Header.Flags & EventFlags.Bypassed));
        Assert.Equal([bypassed.EventId, bypassedAsync.EventId], Ids(store.ReadBypasses()));
        Assert.True(store.VerifyAll().IsValid);
    }
}
