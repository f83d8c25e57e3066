// The writer's combining and limits: concurrent durable appends share group transactions, every caller gets its own
// receipt, and a batch over the engine's limit is refused before anything is sent.
namespace Batpak.PostgreSql.Tests;

public sealed class WriterTests : IDisposable
{
    private readonly string _schema = PgServer.NewSchema();
    private PostgresEventStore? _store;

    [SkippableFact]
    public async Task ThirtyTwoConcurrentDurableAppends_ShareGroupTransactions_AndEachGetsItsOwnReceipt()
    {
        PgServer.Require();
        _store = PostgresEventStore.Open(TestStores.Options(_schema));
        _store.Engine.Writer.FaultHook = stage =>
        {
            if (stage == "before-write")
            {
                Thread.Sleep(5); // a slow server: appends queue up behind the group in flight
            }
        };
        const int Appenders = 32;
        const int Each = 10;
        AppendReceipt[][] receipts = await Task.WhenAll(Enumerable.Range(0, Appenders).Select(a => Task.Run(async () =>
        {
            var mine = new AppendReceipt[Each];
            for (int i = 0; i < Each; i++)
            {
                mine[i] = await _store.AppendAsync(TestData.Entity($"w:{a}"), TestData.Created, TestData.Payload((a * Each) + i));
            }

            return mine;
        }))).WaitAsync(TestData.Bound);

        Assert.Equal(Enumerable.Range(0, Appenders * Each).Select(i => (long)i), receipts.SelectMany(r => r).Select(r => r.GlobalSequence).Order());
        for (int a = 0; a < Appenders; a++)
        {
            Assert.Equal(Enumerable.Range(0, Each).Select(i => (long)i), receipts[a].Select(r => r.EntitySequence));
            Assert.Equal(receipts[a].Select(r => r.EventId), _store.Stream($"w:{a}").Select(e => e.Id));
        }

        StoreStats stats = _store.GetStats();
        Assert.Equal(Appenders * Each, stats.EventCount);
        Assert.InRange(stats.BatchCount, 1, (Appenders * Each) - 1); // fewer transactions than appends: combined
    }

    [SkippableFact]
    public void AppendBatch_OverTheEnginesEventLimit_IsRefusedNamingTheLimit_AndStoresNothing()
    {
        PgServer.Require();
        _store = PostgresEventStore.Open(TestStores.Options(_schema));
        EventData[] events = [.. Enumerable.Range(0, Engine.PostgresEngine.MaxBatchEvents + 1).Select(i => new EventData(TestData.Entity("big"), TestData.Created, new byte[1]))];
        var ex = Assert.Throws<ArgumentException>(() => _store.AppendBatch(events));
        Assert.Contains(Engine.PostgresEngine.MaxBatchEvents.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, _store.GetStats().EventCount);
    }

    public void Dispose()
    {
        _store?.Dispose();
        TestStores.DropSchema(_schema);
    }
}
