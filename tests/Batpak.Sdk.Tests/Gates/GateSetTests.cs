namespace Batpak.Tests;

public class GateSetTests
{
    private static readonly Proposal<string> s_proposal = new("payload", new Coordinate("order:1", "tenant:acme"), EventKind.Create(0x1, 0x001));

    [Fact]
    public void Evaluate_FailFast_StopsAtFirstDenial()
    {
        var calls = new List<string>();
        GateSet<int> set = new([
            Recording("first", calls, deny: false),
            Recording("second", calls, deny: true),
            Recording("third", calls, deny: true),
        ], GatePolicy.FailFast);

        GateDeniedException denied = Assert.Throws<GateDeniedException>(() => set.Evaluate(0, s_proposal));

        Assert.Equal(["first", "second"], calls);
        Denial only = Assert.Single(denied.Denials);
        Assert.Equal("second", only.Gate);
    }

    [Fact]
    public void Evaluate_EvaluateAll_CollectsEveryDenialInGateOrder()
    {
        var calls = new List<string>();
        GateSet<int> set = new([
            Recording("a", calls, deny: true),
            Recording("b", calls, deny: false),
            Recording("c", calls, deny: true),
            Recording("d", calls, deny: true),
        ], GatePolicy.EvaluateAll);

        GateDeniedException denied = Assert.Throws<GateDeniedException>(() => set.Evaluate(0, s_proposal));

        Assert.Equal(["a", "b", "c", "d"], calls);
        Assert.Equal(["a", "c", "d"], denied.Denials.Select(d => d.Gate));
        Assert.Equal(["A_DENIED", "C_DENIED", "D_DENIED"], denied.Denials.Select(d => d.Code));
    }

    [Fact]
    public void Evaluate_Denied_ExceptionMessageListsEveryDenialAndTheProposal()
    {
        GateSet<int> set = new([Recording("a", [], deny: true), Recording("b", [], deny: true)], GatePolicy.EvaluateAll, name: "orders");

        GateDeniedException denied = Assert.Throws<GateDeniedException>(() => set.Evaluate(0, s_proposal));

        Assert.Equal("orders", denied.GateSet);
        Assert.Contains("Gate set \"orders\" denied kind 0x1001 at tenant:acme/order:1 (String): 2 denials:", denied.Message, StringComparison.Ordinal);
        Assert.Contains("gate \"a\" denied A_DENIED: a says no {gate=a}", denied.Message, StringComparison.Ordinal);
        Assert.Contains("gate \"b\" denied B_DENIED: b says no {gate=b}", denied.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<BatpakException>(denied);
    }

    [Fact]
    public void Evaluate_DenialContext_CarriesWhatTheGateReported()
    {
        IGate<OrderContext> maxTotal = Gate.Create<OrderContext>("max-total", c => c.Total <= c.Limit
            ? GateResult.Pass
            : GateResult.Deny("max-total", "TOTAL_TOO_HIGH", "The order total exceeds the limit.", new Dictionary<string, string>
            {
                ["limit"] = c.Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["total"] = c.Total.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["user"] = c.User,
            }));
        var set = new GateSet<OrderContext>(maxTotal);

        Assert.True(set.TryEvaluate(new OrderContext("ann", false, 50m), s_proposal, out _, out _));
        Assert.False(set.TryEvaluate(new OrderContext("bob", false, 250m), s_proposal, out Receipt<string>? receipt, out IReadOnlyList<Denial> denials));

        Assert.Null(receipt);
        Denial denial = Assert.Single(denials);
        Assert.Equal("TOTAL_TOO_HIGH", denial.Code);
        Assert.Equal(new Dictionary<string, string> { ["limit"] = "100", ["total"] = "250", ["user"] = "bob" }, denial.Context);
    }

    [Fact]
    public void Evaluate_AllPass_ReceiptCarriesProposalSetIdentityAndGateNames()
    {
        GateSet<int> set = new([Recording("a", [], deny: false), Recording("b", [], deny: false)], name: "orders");

        Receipt<string> receipt = set.Evaluate(0, s_proposal);

        Assert.Same(s_proposal, receipt.Proposal);
        Assert.Equal(set.Id, receipt.GateSetId);
        Assert.Equal("orders", receipt.GateSetName);
        Assert.Equal(["a", "b"], receipt.GatesPassed);
        Assert.Equal(ReceiptState.Issued, receipt.State);
        Assert.False(receipt.IsBypass);
        Assert.Null(receipt.BypassReason);
    }

    [Fact]
    public void TryEvaluate_AllPass_ReturnsTrueAndNoDenials()
    {
        var set = new GateSet<int>(Gate.Require<int>("positive", n => n > 0, "NOT_POSITIVE", "Must be positive."));

        Assert.True(set.TryEvaluate(5, s_proposal, out Receipt<string>? receipt, out IReadOnlyList<Denial> denials));
        Assert.NotNull(receipt);
        Assert.Empty(denials);
    }

    [Fact]
    public void Evaluate_GateReturnsDenialNamedOtherwise_AttributedToEvaluatingGate()
    {
        var set = new GateSet<int>(Gate.Create<int>("real-name", _ => new Denial("wrong-name", "C", "m")));

        Denial denial = Assert.Single(set.Check(0));

        Assert.Equal("real-name", denial.Gate);
    }

    [Fact]
    public void Check_NoGates_PassesAndIssuesReceiptWithNoGateNames()
    {
        var set = new GateSet<int>();

        Assert.Empty(set.Check(0));
        Assert.Empty(set.Evaluate(0, s_proposal).GatesPassed);
    }

    [Fact]
    public void Ctor_DuplicateGateNames_Throws()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() =>
            new GateSet<int>(Gate.Require<int>("same", _ => true, "C", "m"), Gate.Require<int>("same", _ => true, "C", "m")));

        Assert.Contains("\"same\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ctor_TwoSets_GetDistinctIds()
    {
        Assert.NotEqual(new GateSet<int>().Id, new GateSet<int>().Id);
    }

    [Fact]
    public void TryEvaluate_TenThousandConcurrentCalls_PassExactlyTheEvenInputs_AndDenyEachOddOneWithOneDenial()
    {
        var set = new GateSet<int>([Gate.Require<int>("even", n => n % 2 == 0, "ODD", "Must be even.")], GatePolicy.EvaluateAll);
        var wrong = new System.Collections.Concurrent.ConcurrentBag<int>();
        int passed = 0;

        Parallel.For(0, 10_000, i =>
        {
            bool ok = set.TryEvaluate(i, s_proposal, out Receipt<string>? receipt, out IReadOnlyList<Denial> denials);
            if (ok != (i % 2 == 0) || (ok ? receipt is null || denials.Count != 0 : receipt is not null || denials is not [{ Code: "ODD" }]))
            {
                wrong.Add(i);
            }

            if (ok)
            {
                Interlocked.Increment(ref passed);
            }
        });

        Assert.Empty(wrong);
        Assert.Equal(5_000, passed);
    }

    private static IGate<int> Recording(string name, List<string> calls, bool deny) =>
        Gate.Create<int>(name, _ =>
        {
            lock (calls)
            {
                calls.Add(name);
            }

            return deny
                ? GateResult.Deny(name, name.ToUpperInvariant() + "_DENIED", name + " says no", [new("gate", name)])
                : GateResult.Pass;
        });
}
