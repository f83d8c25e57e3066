using Xunit.Abstractions;

namespace Batpak.Tests.Store;

/// <summary>
/// The allocation budget of the append path: what one <c>Append</c> and one event of the span form of
/// <c>AppendBatch</c> allocate on the calling thread (which writes the frame itself when no other append is queued),
/// measured with <see cref="GC.GetAllocatedBytesForCurrentThread"/> over many appends to existing entities.
/// </summary>
public sealed class AppendAllocationTests(ITestOutputHelper output)
{
    private const int Appends = 20_000;

    // Measured (Debug build, as CI runs it; 3 runs): Append 40 bytes in all over 20,000 appends (0.002 B per
    // event), AppendBatch into a span 0 bytes. The budget is 1 byte per event: a single object allocated per append
    // (24 bytes at least) breaks it, incidental allocations (an fsync's, a pool's growth) do not.
    private const double BudgetBytesPerEvent = 1;

    [Fact]
    public void Append_ToAnExistingEntity_AllocatesWithinTheBudgetPerEvent()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var coordinates = Enumerable.Range(0, 8).Select(i => new Coordinate($"acct:{i}", "bank")).ToArray();
        byte[] payload = new byte[200];
        for (int i = 0; i < 2_000; i++)
        {
            store.Append(coordinates[i % coordinates.Length], TestEvents.Created, payload); // warm up: entities, pools, tiering
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Appends; i++)
        {
            store.Append(coordinates[i % coordinates.Length], TestEvents.Created, payload);
        }

        double perAppend = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Appends;
        output.WriteLine($"Append: {perAppend:F3} bytes allocated per event ({GC.GetAllocatedBytesForCurrentThread() - before} in all)");
        Assert.True(perAppend <= BudgetBytesPerEvent, $"Append allocated {perAppend:F3} bytes per event; the budget is {BudgetBytesPerEvent}");
    }

    [Fact]
    public void AppendBatchIntoASpan_OfExistingEntities_AllocatesWithinTheBudgetPerEvent()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        byte[] payload = new byte[200];
        EventData[] batch = Enumerable.Range(0, 10).Select(i => new EventData(new Coordinate($"acct:{i % 8}", "bank"), TestEvents.Created, payload)).ToArray();
        var receipts = new AppendReceipt[batch.Length];
        for (int i = 0; i < 200; i++)
        {
            store.AppendBatch(batch, receipts); // warm up
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Appends / batch.Length; i++)
        {
            store.AppendBatch(batch, receipts);
        }

        double perEvent = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Appends;
        output.WriteLine($"AppendBatch(span): {perEvent:F3} bytes allocated per event ({GC.GetAllocatedBytesForCurrentThread() - before} in all)");
        Assert.True(perEvent <= BudgetBytesPerEvent, $"AppendBatch(span) allocated {perEvent:F3} bytes per event; the budget is {BudgetBytesPerEvent}");
    }
}
