using Xunit.Abstractions;

namespace Batpak.Tests.Store;

/// <summary>
/// The allocation budget of the append path: what one <c>Append</c> and one event of the span form of
/// <c>AppendBatch</c> allocate on the calling thread (which writes the frame itself when no other append is queued),
/// measured with <see cref="GC.GetAllocatedBytesForCurrentThread"/> over many appends to existing entities.
/// </summary>
/// <remarks>
/// The index's arrays are managed and grow by doubling (amortized about 114 bytes per event over a store's first
/// million: docs/ARCHITECTURE.md, "Read path"). That growth is not the append path's own allocation, so the measured
/// window is one in which no index array grows: the id map is reserved up front, and the warm-up leaves every
/// position list (8 entities, one scope, one kind) just past a doubling, with room for the measured appends.
/// </remarks>
public sealed class AppendAllocationTests(ITestOutputHelper output)
{
    private const int Entities = 8;
    private const int WarmUp = Entities * 2_049; // each entity's list at 2,049 of 4,096; the scope's and kind's at 16,392 of 32,768
    private const int Appends = 16_000; // then 4,049 of 4,096 and 32,392 of 32,768: no list grows while measuring

    // Measured (Debug build, as CI runs it, index growth excluded as above): Append 40 bytes in all over 16,000 appends (0.0025 B per
    // event), AppendBatch into a span 0 bytes. The budget is 1 byte per event: a single object allocated per append
    // (24 bytes at least) breaks it, incidental allocations (an fsync's, a pool's growth) do not.
    private const double BudgetBytesPerEvent = 1;

    [Fact]
    public void Append_ToAnExistingEntity_AllocatesWithinTheBudgetPerEvent()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        store.Index.Reserve(WarmUp + Appends);
        var coordinates = Enumerable.Range(0, Entities).Select(i => new Coordinate($"acct:{i}", "bank")).ToArray();
        byte[] payload = new byte[200];
        for (int i = 0; i < WarmUp; i++)
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
        store.Index.Reserve(WarmUp + Appends);
        byte[] payload = new byte[200];
        EventData[] batch = Enumerable.Range(0, Entities).Select(i => new EventData(new Coordinate($"acct:{i}", "bank"), TestEvents.Created, payload)).ToArray();
        var receipts = new AppendReceipt[batch.Length];
        for (int i = 0; i < WarmUp / batch.Length; i++)
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
