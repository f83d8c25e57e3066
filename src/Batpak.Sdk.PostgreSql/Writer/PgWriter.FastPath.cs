// The last-writer fast path: when this instance made the store's last commit, the group is staged from what it
// cached (entity heads and ids, scope ids, the clock, the chain's fold state) and committed in one round trip. Every
// statement is conditioned on the sequencer row still holding the number this instance left there, so if another
// instance committed in between, nothing is written and the group runs the two-round-trip path instead
// (PgWriter.Sql.cs). Part of PgWriter; runs on the leader thread only.
using Batpak.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Batpak.PostgreSql.Writer;

internal sealed partial class PgWriter
{
    private const int MaxCachedHeads = 100_000;

    // Valid while store.next_global == _cachedNext: the heads of entities this instance read or wrote, as of then.
    private readonly Dictionary<string, (long Id, long Sequence, EventHash Hash)> _heads = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _scopeIds = new(StringComparer.Ordinal); // ids never change: always valid
    private (long Wall, uint Counter) _cachedClock;
    private (long Folded, EventHash Digest) _cachedChain;
    private long _fastGroups;

    /// <summary>Groups committed by the one-round-trip path (tests check it is taken and left).</summary>
    internal long FastGroupCount => Interlocked.Read(ref _fastGroups);

    /// <summary>Commits <paramref name="group"/> in one round trip from the cache; false when it could not (nothing of it was stored then).</summary>
    private bool TryCommitFast(NpgsqlConnection connection, List<PgCommand> group)
    {
        long expected = _cachedNext;
        if (expected < 0 || !Cacheable(group))
        {
            return false;
        }

        var snapshot = new GroupSnapshot
        {
            NextGlobal = expected,
            WallMilliseconds = _cachedClock.Wall,
            Counter = _cachedClock.Counter,
            ChainFolded = _cachedChain.Folded,
            ChainDigest = _cachedChain.Digest,
        };
        foreach (PgCommand command in group)
        {
            foreach (EventData e in command.Events)
            {
                (long id, long sequence, EventHash hash) = _heads[e.Coordinate.Entity];
                snapshot.Entities[e.Coordinate.Entity] = (sequence, hash);
                snapshot.EntityIds[e.Coordinate.Entity] = id;
            }
        }

        _stager.Begin(snapshot);
        for (int i = 0; i < group.Count; i++)
        {
            _stager.Stage(group[i], i);
        }

        List<StagedRow> rows = _stager.Rows;
        bool completesBlock = expected - snapshot.ChainFolded + rows.Count >= GlobalChain.BlockSize;
        bool openKnown = _openBlockStart == snapshot.ChainFolded && _openBlock is not null;
        if (rows.Count == 0 || group.Exists(static c => c.Failure is not null) || (completesBlock && !openKnown))
        {
            // A refusal is decided on the stored state, which the slow path reads; a block to fold needs its hashes.
            ResetOutcomes(group);
            return false;
        }

        (long folded, EventHash digest, List<EventHash>? open) = FoldChain(connection, snapshot, rows);
        bool durable = group.Exists(static c => c.Durable);
        FaultHook?.Invoke("before-write");
        bool stored;
        try
        {
            stored = WriteFast(connection, rows, snapshot, expected, folded, digest, durable);
            FaultHook?.Invoke("after-commit");
        }
        catch (PostgresException ex) when (!IsConnectionLoss(ex))
        {
            throw; // a statement failed, so the batch stopped before its COMMIT: nothing is stored
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException)
        {
            ResolveInDoubt(rows, ex); // returns only when the group is committed
            stored = true;
        }

        if (!stored)
        {
            ForgetCachedState(); // another instance committed: the two-round-trip path reads the stored state
            ResetOutcomes(group);
            return false;
        }

        Committed(open, folded, digest);
        RememberHeads(snapshot, staged: true);
        Interlocked.Increment(ref _fastGroups);
        return true;
    }

    /// <summary>Every entity and scope of the group is cached, and no event needs a stored key or cause.</summary>
    private bool Cacheable(List<PgCommand> group)
    {
        foreach (PgCommand command in group)
        {
            foreach (EventData e in command.Events)
            {
                if (e.Options?.IdempotencyKey is not null || e.Options?.CausationId is { IsEmpty: false }
                    || !_heads.ContainsKey(e.Coordinate.Entity) || !_scopeIds.ContainsKey(e.Coordinate.Scope))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>The one-round-trip batch; false when the guard found another instance's commit (nothing written).</summary>
    private bool WriteFast(NpgsqlConnection connection, List<StagedRow> rows, GroupSnapshot snapshot, long expected, long folded, EventHash digest, bool durable)
    {
        var c = new GroupColumns(rows);
        long[] entityIds = [.. c.Entities.Select(e => snapshot.EntityIds[e])];
        int[] scopeIds = [.. c.Scopes.Select(s => _scopeIds[s])];
        string[] names = [.. _stager.Entities.Keys];
        string guard = $"EXISTS (SELECT 1 FROM {_q}.store WHERE id = 1 AND next_global = $";
        using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT 1 FROM {_q}.store WHERE id = 1 FOR UPDATE"));
        if (!durable)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL synchronous_commit = off"));
        }

        batch.BatchCommands.Add(Command(
            $"UPDATE {_q}.entities n SET last_seq = u.s, last_hash = u.h FROM unnest($1::bigint[], $2::bigint[], $3::bytea[]) AS u(id, s, h) WHERE n.entity_id = u.id AND {guard}4)",
            names.Select(e => snapshot.EntityIds[e]).ToArray(),
            names.Select(e => _stager.Entities[e].Sequence).ToArray(),
            names.Select(e => _stager.Entities[e].Hash.ToArray()).ToArray(),
            expected));
        batch.BatchCommands.Add(Command(
            $"""
            INSERT INTO {_q}.events ({GroupColumns.EventColumns})
            SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::bigint[], $4::bigint[], $5::int[], $6::int[], $7::int[], $8::bigint[], $9::bigint[], $10::int[], $11::int[], $12::uuid[], $13::uuid[], $14::bytea[], $15::bytea[], $16::text[], $17::text[], $18::bytea[])
            WHERE {guard}19)
            """,
            c.Global, c.Ids, entityIds, c.EntitySequences, scopeIds, c.Kinds, c.Flags, c.Timestamps, c.Walls, c.Counters, c.Depths,
            Typed(c.Correlations, NpgsqlDbType.Uuid), Typed(c.Causations, NpgsqlDbType.Uuid), c.PrevHashes, c.Hashes,
            Typed(c.Keys, NpgsqlDbType.Text), Typed(c.Bypasses, NpgsqlDbType.Text), c.Payloads, expected));
        batch.BatchCommands.Add(Command($"SELECT pg_notify($1, $2) WHERE {guard}3)", Channel, _stager.NextGlobal.ToString(System.Globalization.CultureInfo.InvariantCulture), expected));
        (long wall, uint counter) = _stager.Clock;
        NpgsqlBatchCommand store = Command(
            $"UPDATE {_q}.store SET next_global = $1, hlc_wall_ms = $2, hlc_counter = $3, event_count = event_count + $4, chain_folded = $5, chain_digest = $6 WHERE id = 1 AND next_global = $7",
            _stager.NextGlobal, wall, unchecked((int)counter), (long)rows.Count, folded, digest.ToArray(), expected);
        batch.BatchCommands.Add(store);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        batch.ExecuteNonQuery();
        return store.RecordsAffected == 1;
    }

    /// <summary>After a commit or a read of <paramref name="snapshot"/>: caches its entities' heads (the staged ones when <paramref name="staged"/>) and scope ids.</summary>
    private void RememberHeads(GroupSnapshot snapshot, bool staged)
    {
        if (_heads.Count > MaxCachedHeads)
        {
            _heads.Clear();
        }

        foreach ((string scope, int id) in snapshot.ScopeIds)
        {
            _scopeIds[scope] = id;
        }

        foreach ((string entity, (long sequence, EventHash hash)) in snapshot.Entities)
        {
            _heads[entity] = (snapshot.EntityIds[entity], sequence, hash);
        }

        if (!staged)
        {
            return;
        }

        foreach ((string entity, (long sequence, EventHash hash, int _)) in _stager.Entities)
        {
            if (snapshot.EntityIds.TryGetValue(entity, out long id))
            {
                _heads[entity] = (id, sequence, hash);
            }
            else
            {
                _heads.Remove(entity); // created by this group: its id is read the next time it is appended to
            }
        }
    }

    /// <summary>Drops what is cached as of <see cref="_cachedNext"/> (the heads and the open block's hashes): another instance committed after it.</summary>
    private void ForgetCachedState()
    {
        _heads.Clear();
        _openBlock = null;
        _openBlockStart = -1;
        _cachedNext = -1;
    }

    private static void ResetOutcomes(List<PgCommand> group)
    {
        foreach (PgCommand command in group)
        {
            command.Failure = null;
            command.FailureAwaitsGroup = false;
        }
    }
}
