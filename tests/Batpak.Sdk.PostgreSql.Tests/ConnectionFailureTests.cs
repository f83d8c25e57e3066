// A writer connection killed mid-append (pg_terminate_backend while the group holds the sequencer): the append fails
// with a typed exception, nothing of it is stored, and the next append works on a new connection.
using Npgsql;

namespace Batpak.PostgreSql.Tests;

public sealed class ConnectionFailureTests : IDisposable
{
    private readonly string _schema = PgServer.NewSchema();
    private PostgresEventStore? _store;

    [SkippableFact]
    public void WriterBackendTerminated_WhileTheGroupHoldsTheSequencer_ThrowsStoreConnectionException_StoresNothing_AndLaterAppendsWork()
    {
        const string stage = "before-write";
        PgServer.Require();
        _store = PostgresEventStore.Open(TestStores.Options(_schema));
        _store.Append(TestData.Entity("k:0"), TestData.Created, TestData.Payload(0)); // the writer connection exists
        bool armed = true;
        _store.Engine.Writer.FaultHook = s =>
        {
            if (s == stage && armed)
            {
                armed = false;
                PgServer.Terminate(_store.Engine.Writer.BackendProcessId);
            }
        };

        var single = Assert.Throws<StoreConnectionException>(() => _store.Append(TestData.Entity("k:1"), TestData.Created, TestData.Payload(1)));
        Assert.Contains("nothing", single.Message, StringComparison.OrdinalIgnoreCase);
        armed = true;
        Assert.Throws<StoreConnectionException>(() => _store.AppendBatch([
            new EventData(TestData.Entity("k:2"), TestData.Created, TestData.Payload(2)),
            new EventData(TestData.Entity("k:3"), TestData.Created, TestData.Payload(3)),
            new EventData(TestData.Entity("k:2"), TestData.Created, TestData.Payload(4)),
        ], durable: true));

        Assert.Equal(1, _store.GetStats().EventCount);
        Assert.Equal(-1, _store.GetLastSequence("k:1"));
        Assert.Equal(-1, _store.GetLastSequence("k:2"));
        AppendReceipt after = _store.Append(TestData.Entity("k:1"), TestData.Created, TestData.Payload(5));
        Assert.Equal(1, after.GlobalSequence); // no number was used up by the failed appends
        Assert.Equal(0, after.EntitySequence);
        Assert.Equal([0L, 1L], _store.Read(Region.All).Select(e => e.Header.GlobalSequence));
    }

    [SkippableFact]
    public void ConnectionLostAfterTheCommitWasSent_TheWriterAsksTheServer_AndReturnsTheReceiptOfTheStoredEvent()
    {
        PgServer.Require();
        _store = PostgresEventStore.Open(TestStores.Options(_schema));
        bool armed = true;
        _store.Engine.Writer.FaultHook = s =>
        {
            if (s == "after-commit" && armed)
            {
                armed = false;
                throw new IOException("simulated: the connection broke before the COMMIT's reply arrived");
            }
        };

        AppendReceipt receipt = _store.Append(TestData.Entity("d:1"), TestData.Created, TestData.Payload(1), new AppendOptions { Durable = true });
        Assert.False(armed);
        StoredEvent stored = Assert.Single(_store.Read(Region.All));
        Assert.Equal(receipt.EventId, stored.Id);
        Assert.Equal(receipt.Hash, stored.Header.Hash);
        Assert.Equal(1, _store.Append(TestData.Entity("d:1"), TestData.Created, TestData.Payload(2)).GlobalSequence);
    }

    [SkippableFact]
    public void AnotherInstanceHoldingTheSequencer_BeyondLockTimeout_FailsTheAppendWithStoreConnectionException()
    {
        PgServer.Require();
        PostgresStoreOptions options = TestStores.Options(_schema);
        options.LockTimeout = TimeSpan.FromMilliseconds(300);
        _store = PostgresEventStore.Open(options);
        using var holder = new NpgsqlConnection(PgServer.ConnectionString);
        holder.Open();
        using NpgsqlTransaction transaction = holder.BeginTransaction();
        using (var lockRow = new NpgsqlCommand($"SELECT 1 FROM \"{_schema}\".store WHERE id = 1 FOR UPDATE", holder, transaction))
        {
            lockRow.ExecuteNonQuery();
        }

        var ex = Assert.Throws<StoreConnectionException>(() => _store.Append(TestData.Entity("l:1"), TestData.Created, TestData.Payload(1)));
        Assert.Contains("LockTimeout", ex.Message, StringComparison.Ordinal);
        transaction.Rollback();
        Assert.Equal(0, _store.Append(TestData.Entity("l:1"), TestData.Created, TestData.Payload(2)).GlobalSequence);
    }

    public void Dispose()
    {
        _store?.Dispose();
        TestStores.DropSchema(_schema);
    }
}
