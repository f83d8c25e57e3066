// Several store instances on one schema (as several app processes would be): commits of one are seen by the others'
// subscriptions and cursors, in one gap-free order, also while commits are delayed under the sequencer; CAS between
// instances; the global chain's fold state in the store row matches the log.
using Batpak.Storage;
using Npgsql;

namespace Batpak.PostgreSql.Tests;

public sealed class MultiInstanceTests : IDisposable
{
    private readonly string _schema = PgServer.NewSchema();
    private readonly List<IEventStore> _stores = [];

    [SkippableFact]
    public async Task TwoInstancesAppendingConcurrently_WithDelayedCommits_SubscriptionsOnBothSeeEverySequenceOnceInOrder()
    {
        PgServer.Require();
        PostgresEventStore a = Open();
        PostgresEventStore b = Open();
        var random = new Random(7);
        a.Engine.Writer.FaultHook = stage =>
        {
            if (stage == "before-write")
            {
                int delay;
                lock (random)
                {
                    delay = random.Next(0, 30);
                }

                Thread.Sleep(delay); // holds the sequencer: b's commits must wait, never overtake
            }
        };
        using Subscription onA = a.Subscribe(Region.All, capacity: 10_000);
        using Subscription onB = b.Subscribe(Region.All, capacity: 10_000);
        const int PerInstance = 200;
        Task writeA = Task.Run(async () =>
        {
            for (int i = 0; i < PerInstance; i++)
            {
                if (i % 2 == 0)
                {
                    a.Append(TestData.Entity($"a:{i % 7}"), TestData.Created, TestData.Payload(i));
                }
                else
                {
                    await a.AppendAsync(TestData.Entity($"shared:{i % 3}"), TestData.Created, TestData.Payload(i));
                }
            }
        });
        Task writeB = Task.Run(() =>
        {
            for (int i = 0; i < PerInstance; i += 4)
            {
                b.AppendBatch([.. Enumerable.Range(i, 4).Select(j => new EventData(TestData.Entity($"shared:{j % 3}"), TestData.Created, TestData.Payload(1000 + j)))]);
            }
        });
        await Task.WhenAll(writeA, writeB).WaitAsync(TestData.Bound);

        long[] expected = [.. Enumerable.Range(0, 2 * PerInstance).Select(i => (long)i)];
        Assert.Equal(expected, (await TestData.Take(onA, expected.Length)).Select(e => e.Header.GlobalSequence));
        Assert.Equal(expected, (await TestData.Take(onB, expected.Length)).Select(e => e.Header.GlobalSequence));
        Assert.Equal(expected, a.Read(Region.All).Select(e => e.Header.GlobalSequence));
        for (int s = 0; s < 3; s++)
        {
            long count = b.Stream($"shared:{s}").Count();
            Assert.Equal(Enumerable.Range(0, (int)count).Select(i => (long)i), a.Stream($"shared:{s}").Select(e => e.Header.Position.Sequence));
        }

        Assert.Equal(2 * PerInstance, a.GetStats().EventCount);
    }

    [SkippableFact]
    public async Task CursorOnOneInstance_SeesCommitsOfAnother_WithoutMissingOrRepeatingAny()
    {
        PgServer.Require();
        PostgresEventStore writer = Open();
        PostgresEventStore reader = Open();
        EventCursor cursor = reader.OpenCursor(Region.ForEntityPrefix("order:"));
        var seen = new List<long>();
        Task append = Task.Run(() =>
        {
            for (int i = 0; i < 120; i++)
            {
                writer.Append(TestData.Entity(i % 2 == 0 ? $"order:{i}" : $"other:{i}"), TestData.Created, TestData.Payload(i));
            }
        });
        using var timeout = new CancellationTokenSource(TestData.Bound);
        await foreach (StoredEvent e in cursor.ReadAllAsync(timeout.Token))
        {
            seen.Add(e.Header.GlobalSequence);
            if (seen.Count == 60)
            {
                break;
            }
        }

        await append;
        Assert.Equal(Enumerable.Range(0, 60).Select(i => (long)(2 * i)), seen);
    }

    [SkippableFact]
    public void TwoInstancesAppendingConcurrently_CommitOrderIsNumberOrder()
    {
        PgServer.Require();
        using (var probe = new NpgsqlConnection(PgServer.ConnectionString))
        {
            probe.Open();
            using var show = new NpgsqlCommand("SHOW track_commit_timestamp", probe);
            Skip.If((string)show.ExecuteScalar()! != "on", "The server runs without track_commit_timestamp=on (.ci/pg-cluster sets it), so commit times cannot be read.");
        }

        PostgresEventStore[] stores = [Open(), Open()];
        Parallel.For(0, 4, t =>
        {
            for (int i = 0; i < 100; i++)
            {
                stores[t % 2].Append(TestData.Entity($"o:{t}"), TestData.Created, TestData.Payload(i));
            }
        });

        using var connection = new NpgsqlConnection(PgServer.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand($"SELECT global_seq, pg_xact_commit_timestamp(xmin) FROM \"{_schema}\".events ORDER BY global_seq", connection);
        using NpgsqlDataReader reader = command.ExecuteReader();
        DateTime previous = DateTime.MinValue;
        long expected = 0;
        while (reader.Read())
        {
            Assert.Equal(expected++, reader.GetInt64(0));
            DateTime committed = reader.GetDateTime(1);
            Assert.True(committed >= previous, $"Event {expected - 1} committed at {committed:O}, before event {expected - 2} ({previous:O}).");
            previous = committed;
        }

        Assert.Equal(400, expected);
    }

    [SkippableFact]
    public void TwoInstances_CasOnOneEntity_ConflictsResolveAndTheStreamStaysDense()
    {
        PgServer.Require();
        PostgresEventStore[] stores = [Open(), Open()];
        int conflicts = 0;
        int stored = 0;
        Parallel.For(0, 2, s =>
        {
            for (int i = 0; i < 100; i++)
            {
                IEventStore store = stores[s];
                long last = store.GetLastSequence("cas:one");
                try
                {
                    store.Append(TestData.Entity("cas:one"), TestData.Created, TestData.Payload(i), new AppendOptions { ExpectedSequence = last });
                    Interlocked.Increment(ref stored);
                }
                catch (SequenceMismatchException)
                {
                    Interlocked.Increment(ref conflicts);
                }
            }
        });

        Assert.Equal(200, stored + conflicts);
        Assert.Equal(Enumerable.Range(0, stored).Select(i => (long)i), stores[0].Stream("cas:one").Select(e => e.Header.Position.Sequence));
        Assert.Equal(stored - 1, stores[1].GetLastSequence("cas:one"));
    }

    [SkippableFact]
    public void GlobalChainFoldState_AfterTwoInstancesCrossedSeveralBlocks_MatchesTheChainOverEveryHash()
    {
        PgServer.Require();
        PostgresEventStore a = Open();
        PostgresEventStore b = Open();
        for (int round = 0; round < 6; round++)
        {
            PostgresEventStore store = round % 2 == 0 ? a : b; // the other instance's cache is stale each round
            store.AppendBatch([.. Enumerable.Range(0, 500).Select(i => new EventData(TestData.Entity($"e:{i % 10}"), TestData.Created, TestData.Payload(i)))]);
            store.Append(TestData.Entity("single"), TestData.Created, TestData.Payload(round));
        }

        List<StoredEvent> all = [.. a.Read(Region.All)];
        using var expected = new GlobalChain(key: null);
        foreach (StoredEvent e in all)
        {
            expected.Add(e.Header.Hash);
        }

        using var connection = new NpgsqlConnection(PgServer.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand($"SELECT chain_folded, chain_digest, next_global FROM \"{_schema}\".store", connection);
        using NpgsqlDataReader reader = command.ExecuteReader();
        Assert.True(reader.Read());
        long folded = reader.GetInt64(0);
        var digest = EventHash.FromBytes(reader.GetFieldValue<byte[]>(1));
        Assert.Equal(all.Count, reader.GetInt64(2));
        Assert.Equal(expected.Folded, folded);
        Assert.Equal(expected.Blocks, digest);
        EventHash[] open = [.. all.Skip((int)folded).Select(e => e.Header.Hash)];
        using GlobalChain resumed = GlobalChain.Resume(null, folded, digest, open);
        Assert.Equal(expected.Head(), resumed.Head());
    }

    [SkippableFact]
    public void EveryEventsHash_RecomputedFromWhatIsStored_LinksToItsEntitysPreviousHash()
    {
        PgServer.Require();
        PostgresEventStore store = Open();
        AppendReceipt root = store.Append(TestData.Entity("h:1"), TestData.Created, TestData.Payload(0), new AppendOptions { IdempotencyKey = "k-0" });
        store.AppendBatch([new EventData(TestData.Entity("h:1"), TestData.Created, TestData.Payload(1), new AppendOptions { CausationId = root.EventId }), new EventData(TestData.Entity("h:2"), TestData.Created, TestData.Payload(2))]);
        store.Append(TestData.Entity("h:2"), TestData.Created, TestData.Payload(3), new AppendOptions { CausationId = root.EventId, Durable = true });
        using var sha = ChainHashing.Create(null);
        var last = new Dictionary<string, EventHash>();
        foreach (StoredEvent e in store.Read(Region.All))
        {
            EventHeader h = e.Header;
            var fields = new FrameFormat.FrameFields
            {
                GlobalSequence = h.GlobalSequence,
                EventId = h.EventId,
                CorrelationId = h.CorrelationId,
                CausationId = h.CausationId ?? EventId.Empty,
                TimestampMicroseconds = h.TimestampMicroseconds,
                WallMilliseconds = h.Position.WallMilliseconds,
                Counter = h.Position.Counter,
                Depth = h.Position.Depth,
                EntitySequence = h.Position.Sequence,
                Kind = h.Kind.Value,
                Flags = (ushort)h.Flags,
                PrevHash = last.GetValueOrDefault(e.Coordinate.Entity),
                Entity = e.Coordinate.Entity,
                Scope = e.Coordinate.Scope,
                IdempotencyKey = e.IdempotencyKey,
                BypassReason = e.BypassReason,
            };
            Assert.Equal(fields.PrevHash, h.PrevHash);
            Assert.Equal(FrameFormat.ComputeHash(sha, fields, e.Payload.Span), h.Hash);
            last[e.Coordinate.Entity] = h.Hash;
        }

        Assert.Equal(4, last.Count + 2);
        StoredEvent reaction = store.Read(Region.ForEntity("h:2")).Last();
        Assert.Equal(1u, reaction.Header.Position.Depth);
        Assert.Equal(root.EventId, reaction.Header.CorrelationId);
    }

    private PostgresEventStore Open()
    {
        PostgresEventStore store = PostgresEventStore.Open(TestStores.Options(_schema));
        _stores.Add(store);
        return store;
    }

    public void Dispose()
    {
        foreach (IEventStore store in _stores)
        {
            store.Dispose();
        }

        TestStores.DropSchema(_schema);
    }
}
