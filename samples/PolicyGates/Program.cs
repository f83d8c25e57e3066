// Policy gates: a GateSet registered through AddBatpak judges every transfer; only a passing evaluation yields the
// Receipt the pipeline commits. An operator may Bypass the gates with a reason, which is stored and audited.
// Run with: dotnet run --project samples/PolicyGates
using Batpak;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PolicyGates;

string dataDirectory = Path.Combine(Path.GetTempPath(), "batpak-samples", "gates-" + Guid.NewGuid().ToString("N"));

HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddBatpak(o => o.DataDirectory = dataDirectory)
    .AddGateSet(GatePolicy.EvaluateAll, "transfers",
        Gate.Require<TransferContext>("signed-in", c => c.User.Length > 0, "ANONYMOUS", "Sign in to transfer money."),
        Gate.Require<TransferContext>("not-frozen", c => !c.AccountFrozen, "FROZEN", "The account is frozen."),
        Gate.Create<TransferContext>("funds", c => c.Amount <= c.Balance
            ? GateResult.Pass
            : GateResult.Deny("funds", "INSUFFICIENT_FUNDS", "The balance does not cover the transfer.",
                new Dictionary<string, string> { ["balance"] = $"{c.Balance}", ["amount"] = $"{c.Amount}" })));

using (IHost host = builder.Build())
{
    await host.StartAsync();
    Pipeline<TransferContext> pipeline = host.Services.GetRequiredService<Pipeline<TransferContext>>();
    Console.WriteLine(pipeline.Gates);

    // 1. Every gate passes: the receipt is committed once.
    var ok = new MoneyTransferred("alice", "demo", "bob", 40m);
    Receipt<MoneyTransferred> receipt = pipeline.Evaluate(new TransferContext("alice", ok.Amount, 100m, false), pipeline.Propose(ok));
    Committed<MoneyTransferred> committed = pipeline.Commit(receipt);
    Console.WriteLine($"committed #{committed.Append.GlobalSequence}: {ok.Amount} alice -> bob, gates passed: {string.Join(", ", receipt.GatesPassed)}");

    // 2. Evaluate-all reports every denial, and nothing is appended.
    var tooMuch = new MoneyTransferred("alice", "demo", "bob", 500m);
    if (!pipeline.TryEvaluate(new TransferContext("", tooMuch.Amount, 60m, true), pipeline.Propose(tooMuch), out _, out IReadOnlyList<Denial> denials))
    {
        Console.WriteLine($"denied by {denials.Count} gates:");
        foreach (Denial denial in denials)
        {
            Console.WriteLine($"  {denial}");
        }
    }

    // 3. An operator bypasses the gates; the reason is stored with the event and flagged.
    pipeline.Bypass(pipeline.Propose(new MoneyTransferred("alice", "demo", "treasury", 250m)), "court order 2026-117 (ops: dana)");

    IEventStore store = pipeline.Store;
    foreach (StoredEvent bypassed in store.ReadBypasses())
    {
        MoneyTransferred t = TypedEventStoreExtensions.Decode<MoneyTransferred>(bypassed).Event;
        Console.WriteLine($"audit: #{bypassed.Header.GlobalSequence} {t.Amount} {t.From} -> {t.To} bypassed: {bypassed.BypassReason}");
    }

    Console.WriteLine($"events in account:alice: {store.Stream("account:alice").Count()}");
    await host.StopAsync();
}

Directory.Delete(dataDirectory, recursive: true);
