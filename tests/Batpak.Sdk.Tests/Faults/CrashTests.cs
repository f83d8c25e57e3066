using System.Diagnostics;
using System.Globalization;
using Batpak.CrashChild;
using Xunit.Abstractions;

namespace Batpak.Tests.Faults;

/// <summary>
/// Crash safety with a real process: tests/Batpak.CrashChild appends (durable, async, atomic batches and plain
/// appends, from three threads so group commit is in play) and prints every acknowledgement; the test SIGKILLs it at
/// a random moment, reopens the same directory and checks that nothing acknowledged is lost.
/// </summary>
public sealed class CrashTests(ITestOutputHelper output)
{
    private const long SegmentBytes = 64 * 1024; // small, so kills also land on segment rotation

    private readonly record struct Ack(long Global, string Entity, long EntitySequence, string EventId, string How);

    [Fact]
    public void Append_ProcessKilledAtRandomPoints_KeepsEveryAcknowledgedEventIntact()
    {
        int iterations = 50 * FaultSettings.Scale;
        int seed = FaultSettings.Seed();
        output.WriteLine($"seed {seed} (BATPAK_FAULT_SEED replays it), {iterations} kill points");
        var random = new Random(seed);
        using var dir = new TempDirectory();
        var acked = new Dictionary<long, Ack>();
        var clock = Stopwatch.StartNew();
        int early = 0;
        int truncations = 0;
        for (int i = 0; i < iterations; i++)
        {
            // One kill in five lands while the child may still be opening (and recovering) the store.
            bool beforeReady = random.Next(5) == 0;
            int delayMs = beforeReady ? random.Next(0, 200) : random.Next(0, 100);
            early += beforeReady ? 1 : 0;
            using (var child = new ChildProcess(dir.Path, "--seed", (seed + i).ToString(CultureInfo.InvariantCulture), "--segment-bytes", SegmentBytes.ToString(CultureInfo.InvariantCulture)))
            {
                if (!beforeReady)
                {
                    child.WaitReady(TimeSpan.FromSeconds(60));
                }

                Thread.Sleep(delayMs);
                Assert.False(child.HasExited, $"iteration {i}: the crash child exited by itself ({(child.HasExited ? child.ExitCode : 0)}): {child.Errors}");
                child.KillHard();
                Collect(child.Lines, acked, i);
            }

            truncations += VerifyAndAppend(dir.Path, acked, i) ? 1 : 0;
        }

        output.WriteLine($"{iterations} kills ({early} possibly during open), {acked.Count} acknowledged events kept, {truncations} reopens cut a torn tail, {clock.Elapsed.TotalSeconds:F1} s");
        foreach (string how in new[] { "durable", "async", "plain", "batch" })
        {
            Assert.True(acked.Values.Any(a => a.How == how), $"the child never acknowledged a {how} append: that kind was not tested");
        }
    }

    private static void Collect(IReadOnlyList<string> lines, Dictionary<long, Ack> acked, int iteration)
    {
        for (int n = 0; n < lines.Count; n++)
        {
            string line = lines[n];
            if (line == "ready")
            {
                continue;
            }

            string[] parts = line.Split(' ');
            bool wellFormed = parts.Length == 6 && parts[0] == "ack"
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out _)
                && long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out _)
                && Guid.TryParseExact(parts[4], "D", out _)
                && parts[5] is "durable" or "async" or "plain" or "batch";
            if (!wellFormed)
            {
                // Only the very last line may be cut short by the kill; it was never fully printed.
                Assert.True(n == lines.Count - 1, $"iteration {iteration}: malformed child line \"{line}\"");
                continue;
            }

            var ack = new Ack(long.Parse(parts[1], CultureInfo.InvariantCulture), parts[2], long.Parse(parts[3], CultureInfo.InvariantCulture), parts[4], parts[5]);
            if (acked.TryGetValue(ack.Global, out Ack earlier))
            {
                Assert.Fail($"iteration {iteration}: global sequence {ack.Global} was acknowledged twice ({earlier} and {ack}): an acknowledged event was lost and its sequence reused");
            }

            acked.Add(ack.Global, ack);
        }
    }

    /// <summary>Reopens the store, checks every event and every acknowledgement, appends one more. Returns whether recovery cut a tail.</summary>
    private bool VerifyAndAppend(string directory, Dictionary<long, Ack> acked, int iteration)
    {
        using var store = new EventStore(new BatpakOptions { DataDirectory = directory, SegmentMaxBytes = SegmentBytes });
        RecoveryReport recovery = store.GetStats().Recovery;
        var all = new List<StoredEvent>();
        long from = 0;
        while (true)
        {
            EventPage page = store.ReadPage(from, 4096);
            all.AddRange(page.Events);
            from = page.NextGlobalSequence;
            if (page.IsEnd)
            {
                break;
            }
        }

        var lastSequence = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int g = 0; g < all.Count; g++)
        {
            StoredEvent e = all[g];
            Assert.True(g == e.Header.GlobalSequence, $"iteration {iteration}: the event at position {g} has global sequence {e.Header.GlobalSequence} (a gap or reordering)");
            string entity = e.Coordinate.Entity;
            long expected = lastSequence.TryGetValue(entity, out long last) ? last + 1 : 0;
            Assert.True(expected == e.Header.Position.Sequence, $"iteration {iteration}: {entity} sequence {e.Header.Position.Sequence} follows {expected - 1}");
            lastSequence[entity] = expected;
            Assert.True(e.Payload.Span.SequenceEqual(CrashPayload.For(entity, expected)), $"iteration {iteration}: the payload of {entity}#{expected} (global {g}) is not what was written");
        }

        foreach (Ack ack in acked.Values)
        {
            Assert.True(ack.Global < all.Count, $"iteration {iteration}: acknowledged event {ack} is lost (the store has {all.Count} events); recovery: {recovery}");
            StoredEvent e = all[(int)ack.Global];
            Assert.Equal(ack.EventId, e.Id.ToString());
            Assert.Equal(ack.Entity, e.Coordinate.Entity);
            Assert.Equal(ack.EntitySequence, e.Header.Position.Sequence);
        }

        ChainVerification chain = store.VerifyAll();
        Assert.True(chain.IsValid, $"iteration {iteration}: {chain.Failure}");
        Assert.Equal(all.Count, chain.EventsChecked);

        // The store takes new appends after the crash; the test's own events follow the child's payload rule.
        const string entityOfTest = "test-e0";
        long next = store.GetLastSequence(entityOfTest) + 1;
        AppendReceipt receipt = store.Append(new Coordinate(entityOfTest, "crash"), CrashPayload.Kind, CrashPayload.For(entityOfTest, next), new AppendOptions { Durable = true, ExpectedSequence = next - 1 });
        Assert.Equal(all.Count, receipt.GlobalSequence);
        acked.Add(receipt.GlobalSequence, new Ack(receipt.GlobalSequence, entityOfTest, next, receipt.EventId.ToString(), "test"));
        if (recovery.TruncationReason is not null)
        {
            output.WriteLine($"iteration {iteration}: recovery cut {recovery.TruncatedBytes} bytes at {recovery.TruncatedAtOffset}: {recovery.TruncationReason}");
            return true;
        }

        return false;
    }
}
