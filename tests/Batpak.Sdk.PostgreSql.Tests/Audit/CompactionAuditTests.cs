// Compaction of the PostgreSQL engine as an audit sees it (the positive controls of the tamper tests): drops and
// tombstones leave Verify and VerifyAll valid and the head unchanged, keep keys and sequences, record their proofs,
// and one instance compacts at a time.
using Npgsql;

namespace Batpak.PostgreSql.Tests.Audit;

public sealed class CompactionAuditTests
{
    private static bool NotBob(StoredEvent e) => e.Coordinate.Entity != "acct:bob";

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void Compact_Drop_LeavesEveryChainValid_TheHeadUnchanged_KeysAndSequencesKept_AndProofsRecorded(bool keyed)
    {
        using AuditStore audit = AuditStore.Open(keyed);
        List<AppendReceipt> seeded = audit.Seed();
        StoreHead head = audit.Store.GetHead();

        CompactionResult result = audit.Store.Compact(new CompactionOptions { Retain = NotBob, Mode = CompactionMode.Drop });

        Assert.Equal(new CompactionResult(0, 0, 6, 4, 0, result.BytesBefore, result.BytesAfter), result);
        Assert.True(result.BytesBefore > 0 && result.BytesAfter > 0);
        Assert.Equal(4L, audit.Scalar<long>($"SELECT count(*) FROM {{s}}.dropped WHERE mac IS {(keyed ? "NOT " : string.Empty)}NULL"));
        Assert.Equal(1L, audit.Scalar<long>("SELECT count(*) FROM {s}.compactions WHERE mode = 'Drop' AND dropped = 4"));
        for (int round = 0; round < 2; round++)
        {
            AssertAllValid(audit.Store, head, "acct:alice", "acct:bob", "acct:carol");
            Assert.Equal(6, audit.Store.GetStats().EventCount);
            Assert.Equal(3, audit.Store.GetLastSequence("acct:bob"));
            AppendReceipt again = audit.Store.Append(AuditStore.Bob, AuditStore.Created, AuditStore.Payload(1), new AppendOptions { IdempotencyKey = "bob-1" });
            Assert.Equal((seeded[1].EventId, seeded[1].GlobalSequence, seeded[1].Hash), (again.EventId, again.GlobalSequence, again.Hash));
            audit.Reopen();
        }

        Assert.Equal(4, audit.Store.Append(AuditStore.Bob, AuditStore.Created, AuditStore.Payload(10)).EntitySequence);
        Assert.True(audit.Store.VerifyAll(head).IsValid);
        Assert.True(audit.Store.Verify("acct:bob").IsValid);
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void Compact_Tombstone_LeavesEveryChainValid_TheHeadUnchanged_AndProofsRecorded(bool keyed)
    {
        using AuditStore audit = AuditStore.Open(keyed);
        audit.Seed();
        StoreHead head = audit.Store.GetHead();

        CompactionResult result = audit.Store.Compact(new CompactionOptions { Retain = NotBob, Mode = CompactionMode.Tombstone });

        Assert.Equal((6L, 0L, 4L), (result.EventsKept, result.EventsDropped, result.EventsTombstoned));
        Assert.Equal(4L, audit.Scalar<long>($"SELECT count(*) FROM {{s}}.tombstones WHERE mac IS {(keyed ? "NOT " : string.Empty)}NULL"));
        Assert.Equal(4L, audit.Scalar<long>("SELECT count(*) FROM {s}.events WHERE flags & 16 <> 0 AND length(payload) = 0"));
        AssertAllValid(audit.Store, head, "acct:alice", "acct:bob", "acct:carol");
        Assert.Equal(10, audit.Store.GetStats().EventCount);

        // A second run asks only about live events and changes nothing more.
        int asked = 0;
        CompactionResult again = audit.Store.Compact(new CompactionOptions { Retain = e => { asked++; return NotBob(e); }, Mode = CompactionMode.Tombstone });
        Assert.Equal((6, 6L, 0L), (asked, again.EventsKept, again.EventsTombstoned));
        audit.Reopen();
        AssertAllValid(audit.Store, head, "acct:alice", "acct:bob", "acct:carol");
    }

    [SkippableFact]
    public void Compact_WithoutRetention_ExaminesAndChangesNothing_AndSaysSo()
    {
        using AuditStore audit = AuditStore.Open();
        audit.Seed();
        StoreHead head = audit.Store.GetHead();

        CompactionResult result = audit.Store.Compact();

        Assert.Equal((0, 0, 0L, 0L, 0L), (result.SegmentsBefore, result.SegmentsAfter, result.EventsKept, result.EventsDropped, result.EventsTombstoned));
        Assert.Equal(0L, audit.Scalar<long>("SELECT count(*) FROM {s}.compactions"));
        AssertAllValid(audit.Store, head, "acct:alice");
    }

    [SkippableFact]
    public void Compact_OverSeveralChunksAndGlobalChainBlocks_DropsEveryOtherEvent_AndTheHeadHolds()
    {
        using AuditStore audit = AuditStore.Open(keyed: true);
        for (int batch = 0; batch < 3; batch++)
        {
            audit.Store.AppendBatch(Enumerable.Range(0, 900).Select(i => new EventData(new Coordinate($"bulk:{i % 7}", "bank"), AuditStore.Created, AuditStore.Payload(i))).ToList());
        }

        StoreHead head = audit.Store.GetHead();
        Assert.Equal(2700, head.NextGlobalSequence);

        CompactionResult result = audit.Store.Compact(new CompactionOptions { Retain = e => e.Header.GlobalSequence % 2 == 0 });

        Assert.Equal((1350L, 1350L), (result.EventsKept, result.EventsDropped));
        Assert.Equal(head, audit.Store.GetHead());
        ChainVerification all = audit.Store.VerifyAll(head);
        Assert.Equal(new ChainVerification(true, 1350, null), all);
        Assert.True(audit.Store.Verify("bulk:3").IsValid);
    }

    [SkippableFact]
    public async Task VerifyAndGetHead_WhileAnotherInstanceCompactsAndAppends_SeeOneConsistentSnapshotEachTime()
    {
        using AuditStore audit = AuditStore.Open(keyed: true);
        for (int batch = 0; batch < 4; batch++)
        {
            audit.Store.AppendBatch(Enumerable.Range(0, 1000).Select(i => new EventData(new Coordinate($"bulk:{i % 3}", "bank"), AuditStore.Created, AuditStore.Payload(i))).ToList());
        }

        StoreHead head = audit.Store.GetHead();
        using PostgresEventStore compactor = audit.OpenAt(audit.Schema);
        using var stop = new CancellationTokenSource();
        Task appends = Task.Run(() =>
        {
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                compactor.Append(new Coordinate($"live:{i % 3}", "bank"), AuditStore.Created, AuditStore.Payload(i));
            }
        });
        Task<CompactionResult> compaction = Task.Run(() => compactor.Compact(new CompactionOptions
        {
            Retain = e =>
            {
                if (e.Header.GlobalSequence % 4 == 0)
                {
                    Thread.Sleep(1); // about a second in all: the verifications below run while chunks commit
                }

                // Only the bulk events are rejected: the live appends racing the start are kept, whichever it sees.
                return !e.Coordinate.Entity.StartsWith("bulk:", StringComparison.Ordinal) || e.Header.GlobalSequence % 3 != 0;
            },
        }));
        var failures = new List<string>();
        int rounds = 0, during = 0;
        while (!compaction.IsCompleted || rounds < 2)
        {
            rounds++;
            during += compaction.IsCompleted ? 0 : 1;
            ChainVerification all = audit.Store.VerifyAll(head);
            ChainVerification one = audit.Store.Verify("bulk:1");
            StoreHead now = audit.Store.GetHead();
            foreach (ChainVerification v in new[] { all, one })
            {
                if (!v.IsValid)
                {
                    failures.Add(v.Failure!);
                }
            }

            if (!audit.Store.VerifyAll(now).IsValid)
            {
                failures.Add($"the head read at {now.NextGlobalSequence} does not verify");
            }
        }

        await stop.CancelAsync();
        await appends.WaitAsync(TimeSpan.FromSeconds(30));
        CompactionResult result = await compaction.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Empty(failures);
        Assert.True(during >= 2, $"only {during} verification rounds overlapped the compaction");
        Assert.Equal(1334L, result.EventsDropped);
        Assert.True(audit.Store.VerifyAll(head).IsValid);
    }

    [SkippableFact]
    public async Task Compact_FromTwoInstancesAtOnce_RunsOneAtATime_AndDropsEachEventOnce()
    {
        using AuditStore audit = AuditStore.Open();
        audit.Seed();
        StoreHead head = audit.Store.GetHead();
        using PostgresEventStore second = audit.OpenAt(audit.Schema);
        int active = 0, overlapped = 0;
        bool Slow(StoredEvent e)
        {
            if (Interlocked.Increment(ref active) > 1)
            {
                Interlocked.Increment(ref overlapped);
            }

            Thread.Sleep(15);
            Interlocked.Decrement(ref active);
            return NotBob(e);
        }

        var options = new CompactionOptions { Retain = Slow };
        Task<CompactionResult> first = Task.Run(() => audit.Store.Compact(options));
        Task<CompactionResult> other = Task.Run(() => second.Compact(options));
        CompactionResult[] results = await Task.WhenAll(first, other).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, overlapped);
        Assert.Equal(4L, results.Sum(r => r.EventsDropped));
        Assert.Equal(4L, audit.Scalar<long>("SELECT count(*) FROM {s}.dropped"));
        AssertAllValid(audit.Store, head, "acct:bob");
    }

    [SkippableFact]
    public void Compact_WhileAnotherInstanceHoldsTheCompactionLock_TimesOutWithATypedException_NamingTheSchema()
    {
        using AuditStore audit = AuditStore.Open();
        audit.Seed();
        PostgresStoreOptions options = TestStores.Options(audit.Schema);
        options.LockTimeout = TimeSpan.FromMilliseconds(300);
        using PostgresEventStore impatient = PostgresEventStore.Open(options);
        using var holder = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(PgServer.ConnectionString) { Pooling = false }.ConnectionString);
        holder.Open();
        using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({impatient.Engine.StoreId}, {Batpak.PostgreSql.Audit.PgCompactionRunner.CompactionLockKey})", holder))
        {
            take.ExecuteNonQuery();
        }

        TimeoutException timeout = Assert.Throws<TimeoutException>(() => impatient.Compact(new CompactionOptions { Retain = NotBob }));

        Assert.Contains(audit.Schema, timeout.Message, StringComparison.Ordinal);
        Assert.Equal(0L, audit.Scalar<long>("SELECT count(*) FROM {s}.dropped"));
        holder.Close(); // not pooled: the session ends, and the lock with it
        Assert.Equal(4, impatient.Compact(new CompactionOptions { Retain = NotBob }).EventsDropped);
    }

    /// <summary>VerifyAll against <paramref name="head"/> and Verify of each entity are valid, and the head is still <paramref name="head"/>.</summary>
    internal static void AssertAllValid(IEventStore store, StoreHead head, params string[] entities)
    {
        ChainVerification all = store.VerifyAll(head);
        Assert.True(all.IsValid, all.Failure);
        Assert.Equal(head, store.GetHead());
        foreach (string entity in entities)
        {
            ChainVerification one = store.Verify(entity);
            Assert.True(one.IsValid, one.Failure);
        }
    }
}
