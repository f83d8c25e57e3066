// The gap problem of sequence-numbered logs, forced: a transaction that took a lower number and commits late. A
// reader that resumes after the highest number it saw skips such an event forever on a SEQUENCE-numbered table (the
// negative control, in raw SQL); on the Batpak store the sequencer row makes the later appender wait, so a cursor
// and a subscription on another instance see both events, in order. (Randomly delayed commits over several
// instances, and commit order = number order, are in MultiInstanceTests.)
using Npgsql;

namespace Batpak.PostgreSql.Tests.MultiProcess;

public sealed class NoGapTests : IDisposable
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(60);
    private static readonly EventKind s_kind = EventKind.Create(0x3, 0x010);
    private readonly string _schema = PgServer.NewSchema();

    public void Dispose() => TestStores.DropSchema(_schema);

    private PostgresEventStore OpenStore() => PostgresEventStore.Open(TestStores.Options(_schema));

    /// <summary>The reader logic under test: everything numbered at or after <paramref name="from"/> that is visible now.</summary>
    private static List<long> ReadFrom(NpgsqlConnection connection, string table, long from)
    {
        using var command = new NpgsqlCommand($"SELECT id FROM {table} WHERE id >= $1 ORDER BY id", connection);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = from });
        using NpgsqlDataReader reader = command.ExecuteReader();
        var ids = new List<long>();
        while (reader.Read())
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    [SkippableFact]
    public void NegativeControl_ASequenceNumberedTable_LetsALateCommitBeSkippedByAReaderThatResumesAfterTheHighestSeen()
    {
        PgServer.Require();
        string table = $"\"{_schema}\".seq_log";
        PgServer.Execute($"CREATE SCHEMA \"{_schema}\"; CREATE TABLE {table} (id bigint GENERATED ALWAYS AS IDENTITY (START WITH 0 MINVALUE 0) PRIMARY KEY, v int)");
        using var late = new NpgsqlConnection(PgServer.ConnectionString);
        using var early = new NpgsqlConnection(PgServer.ConnectionString);
        using var reader = new NpgsqlConnection(PgServer.ConnectionString);
        late.Open();
        early.Open();
        reader.Open();

        using NpgsqlTransaction slow = late.BeginTransaction();
        using (var insert = new NpgsqlCommand($"INSERT INTO {table} (v) VALUES (1)", late, slow))
        {
            insert.ExecuteNonQuery(); // takes number 0, not committed yet
        }

        using (var insert = new NpgsqlCommand($"INSERT INTO {table} (v) VALUES (2)", early))
        {
            insert.ExecuteNonQuery(); // takes number 1 and commits at once
        }

        List<long> first = ReadFrom(reader, table, 0);
        Assert.Equal([1L], first); // 1 is visible, 0 is not
        slow.Commit();
        List<long> second = ReadFrom(reader, table, first[^1] + 1);
        Assert.Empty(second); // the reader resumed after 1: event 0 is skipped for good
        Assert.Equal([0L, 1L], ReadFrom(reader, table, 0)); // though it is there
    }

    [SkippableFact]
    public async Task ALowerNumberCommittingLate_MakesTheNextAppenderWait_SoAnotherInstanceSeesBothInOrder()
    {
        PgServer.Require();
        using PostgresEventStore holder = OpenStore();
        using PostgresEventStore other = OpenStore();
        using PostgresEventStore reader = OpenStore();
        using EventCursor cursor = reader.OpenCursor(Region.All);
        using Subscription subscription = reader.Subscribe(Region.All);

        using var inTransaction = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        holder.Engine.Writer.FaultHook = point =>
        {
            if (point == "before-write") // the sequencer is held and the numbers are taken; nothing is committed
            {
                inTransaction.Set();
                Assert.True(release.Wait(s_bound), "released");
            }
        };
        Task<AppendReceipt> first = Task.Run(() => holder.Append(new Coordinate("gap:a", "gap"), s_kind, [1]));
        Assert.True(inTransaction.Wait(s_bound), "the first append holds its transaction open");
        Task<AppendReceipt> second = Task.Run(() => other.Append(new Coordinate("gap:b", "gap"), s_kind, [2]));

        await Task.Delay(500);
        Assert.False(second.IsCompleted, "the second appender waits for the sequencer while the first is uncommitted");
        Assert.Empty(cursor.Poll());
        Assert.Equal(0, reader.Engine.NextGlobalSequence); // the high-water mark: nothing below it is missing

        release.Set();
        Assert.Equal(0, (await first.WaitAsync(s_bound)).GlobalSequence);
        Assert.Equal(1, (await second.WaitAsync(s_bound)).GlobalSequence);
        var seen = new List<long>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (seen.Count < 2)
        {
            Assert.True(clock.Elapsed < s_bound, "the cursor saw both events");
            seen.AddRange(cursor.Poll().Select(e => e.Header.GlobalSequence));
            await Task.Delay(10);
        }

        Assert.Equal([0L, 1L], seen);
        using var timeout = new CancellationTokenSource(s_bound);
        var delivered = new List<long>();
        await foreach (StoredEvent e in subscription.ReadAllAsync(timeout.Token))
        {
            delivered.Add(e.Header.GlobalSequence);
            if (delivered.Count == 2)
            {
                break;
            }
        }

        Assert.Equal([0L, 1L], delivered);
    }
}
