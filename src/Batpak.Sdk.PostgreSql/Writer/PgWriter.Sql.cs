// The statements of one group: read the sequencer row (locking it) and the state the group's checks need, stage,
// insert every event with one unnest statement, update entities, keys and the store row, notify, commit; and the
// resolution of a commit whose connection broke. A group first tries the one-round-trip path (PgWriter.FastPath.cs).
// Part of PgWriter; runs on the leader thread only.
using System.Globalization;
using System.Runtime.InteropServices;
using Batpak.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Batpak.PostgreSql.Writer;

internal sealed partial class PgWriter
{
    private void CommitGroup(List<PgCommand> group)
    {
        // Two round trips hold the sequencer: BEGIN + the lock + the reads, then the writes + COMMIT. Raw BEGIN and
        // COMMIT ride in the batches (no NpgsqlTransaction, which would add a round trip); after any failure the
        // connection is dropped, which also ends a transaction left open.
        NpgsqlConnection connection = EnsureConnection();
        if (TryCommitFast(connection, group))
        {
            return;
        }

        GroupSnapshot snapshot = ReadUnderLock(connection, group);
        if (snapshot.NextGlobal != _cachedNext)
        {
            ForgetCachedState(); // another instance committed since this one did: what it cached is stale
        }
        _stager.Begin(snapshot);
        for (int i = 0; i < group.Count; i++)
        {
            _stager.Stage(group[i], i);
        }

        List<StagedRow> rows = _stager.Rows;
        if (rows.Count == 0)
        {
            using var rollback = new NpgsqlCommand("ROLLBACK", connection); // only repeats and refusals: nothing to write
            rollback.ExecuteNonQuery();
            _cachedNext = snapshot.NextGlobal;
            RememberHeads(snapshot, staged: false);
            _cachedClock = (snapshot.WallMilliseconds, snapshot.Counter);
            _cachedChain = (snapshot.ChainFolded, snapshot.ChainDigest);
            return;
        }

        (long folded, EventHash digest, List<EventHash>? open) = FoldChain(connection, snapshot, rows);
        bool durable = group.Exists(static c => c.Durable);
        FaultHook?.Invoke("before-write");
        try
        {
            WriteAndCommit(connection, rows, folded, digest, durable);
            FaultHook?.Invoke("after-commit");
        }
        catch (PostgresException ex) when (!IsConnectionLoss(ex))
        {
            throw; // a statement failed, so the batch stopped before its COMMIT: nothing is stored
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException)
        {
            ResolveInDoubt(rows, ex); // returns only when the group is committed
        }

        Committed(open, folded, digest);
        RememberHeads(snapshot, staged: true);
    }

    /// <summary>Bookkeeping after either path committed the staged group.</summary>
    private void Committed(List<EventHash>? open, long folded, EventHash digest)
    {
        Interlocked.Increment(ref _groups);
        _cachedNext = _stager.NextGlobal;
        _cachedClock = _stager.Clock;
        _cachedChain = (folded, digest);
        _openBlock = open;
        _openBlockStart = open is null ? -1 : folded;
        _notifier.Signal();
    }

    /// <summary>A server error that ends the session (admin or crash shutdown, connection class): the batch's COMMIT may or may not have run.</summary>
    private static bool IsConnectionLoss(PostgresException ex) =>
        ex.SqlState.StartsWith("57P", StringComparison.Ordinal) || ex.SqlState.StartsWith("08", StringComparison.Ordinal);

    private GroupSnapshot ReadUnderLock(NpgsqlConnection connection, List<PgCommand> group)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var causes = new HashSet<Guid>();
        foreach (PgCommand command in group)
        {
            foreach (EventData e in command.Events)
            {
                names.Add(e.Coordinate.Entity);
                if (e.Options?.IdempotencyKey is { } key)
                {
                    keys.Add(key);
                }

                if (e.Options?.CausationId is { IsEmpty: false } cause)
                {
                    causes.Add(cause.ToGuid());
                }
            }
        }

        using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT next_global, hlc_wall_ms, hlc_counter, chain_folded, chain_digest FROM {_q}.store WHERE id = 1 FOR UPDATE"));
        batch.BatchCommands.Add(Command($"SELECT name, last_seq, last_hash, entity_id FROM {_q}.entities WHERE name = ANY($1)", (object)names.ToArray()));
        if (keys.Count > 0)
        {
            batch.BatchCommands.Add(Command($"SELECT i.key, i.fingerprint, n.name, i.kind, i.event_id, i.global_seq, i.entity_seq, i.hash FROM {_q}.idempotency i JOIN {_q}.entities n ON n.entity_id = i.entity_id WHERE i.key = ANY($1)", (object)keys.ToArray()));
        }

        if (causes.Count > 0)
        {
            batch.BatchCommands.Add(Command($"SELECT event_id, depth, correlation_id FROM {_q}.events WHERE event_id = ANY($1)", (object)causes.ToArray()));
        }

        string[] unknownScopes = [.. group.SelectMany(static c => c.Events).Select(static e => e.Coordinate.Scope).Where(s => !_scopeIds.ContainsKey(s)).Distinct(StringComparer.Ordinal)];
        if (unknownScopes.Length > 0)
        {
            batch.BatchCommands.Add(Command($"SELECT name, scope_id FROM {_q}.scopes WHERE name = ANY($1)", (object)unknownScopes));
        }

        var snapshot = new GroupSnapshot();
        using NpgsqlDataReader reader = batch.ExecuteReader();
        if (!reader.Read())
        {
            throw new PostgresSchemaException(_schema, $"Schema \"{_schema}\" has no store row (table store, id 1); it was not created by this library or was damaged.");
        }

        snapshot.NextGlobal = reader.GetInt64(0);
        snapshot.WallMilliseconds = reader.GetInt64(1);
        snapshot.Counter = unchecked((uint)reader.GetInt32(2));
        snapshot.ChainFolded = reader.GetInt64(3);
        snapshot.ChainDigest = EventHash.FromBytes(reader.GetFieldValue<byte[]>(4));
        reader.NextResult();
        while (reader.Read())
        {
            snapshot.Entities[reader.GetString(0)] = (reader.GetInt64(1), EventHash.FromBytes(reader.GetFieldValue<byte[]>(2)));
            snapshot.EntityIds[reader.GetString(0)] = reader.GetInt64(3);
        }

        if (keys.Count > 0)
        {
            reader.NextResult();
            while (reader.Read())
            {
                var receipt = new AppendReceipt(EventId.FromGuid(reader.GetGuid(4)), reader.GetInt64(5), reader.GetInt64(6), default, EventHash.FromBytes(reader.GetFieldValue<byte[]>(7)));
                snapshot.Keys[reader.GetString(0)] = new IdempotencyRecord(receipt, reader.GetString(2), (ushort)reader.GetInt32(3), unchecked((ulong)reader.GetInt64(1)));
            }
        }

        if (causes.Count > 0)
        {
            reader.NextResult();
            while (reader.Read())
            {
                var id = EventId.FromGuid(reader.GetGuid(0));
                EventId correlation = reader.IsDBNull(2) ? id : EventId.FromGuid(reader.GetGuid(2));
                snapshot.Causes[id] = (unchecked((uint)reader.GetInt32(1)), correlation);
            }
        }

        if (unknownScopes.Length > 0)
        {
            reader.NextResult();
            while (reader.Read())
            {
                snapshot.ScopeIds[reader.GetString(0)] = reader.GetInt32(1);
            }
        }

        return snapshot;
    }

    /// <summary>The global chain's fold state after the group, and the open block's hashes when this instance knows them.</summary>
    private (long Folded, EventHash Digest, List<EventHash>? Open) FoldChain(NpgsqlConnection connection, GroupSnapshot snapshot, List<StagedRow> rows)
    {
        long folded = snapshot.ChainFolded;
        bool completesBlock = snapshot.NextGlobal - folded + rows.Count >= GlobalChain.BlockSize;
        List<EventHash>? open = _cachedNext == snapshot.NextGlobal && _openBlockStart == folded ? _openBlock : null;
        if (open is null && completesBlock)
        {
            open = LoadOpenBlock(connection, folded, snapshot.NextGlobal);
        }

        if (open is null)
        {
            return (folded, snapshot.ChainDigest, null); // no block completes: the fold state stays
        }

        using GlobalChain chain = GlobalChain.Resume(_chainKey, folded, snapshot.ChainDigest, CollectionsMarshal.AsSpan(open));
        var all = new List<EventHash>(open.Count + rows.Count);
        all.AddRange(open);
        foreach (StagedRow row in rows)
        {
            chain.Add(row.Fields.Hash);
            all.Add(row.Fields.Hash);
        }

        int keep = (int)(chain.Next - chain.Folded);
        return (chain.Folded, chain.Blocks, all.GetRange(all.Count - keep, keep));
    }

    private List<EventHash> LoadOpenBlock(NpgsqlConnection connection, long from, long to)
    {
        using var command = new NpgsqlCommand(
            $"SELECT global_seq, hash FROM {_q}.events WHERE global_seq >= $1 AND global_seq < $2 UNION ALL SELECT global_seq, hash FROM {_q}.dropped WHERE global_seq >= $1 AND global_seq < $2 ORDER BY 1",
            connection);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = from });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = to });
        var hashes = new List<EventHash>((int)(to - from));
        using NpgsqlDataReader reader = command.ExecuteReader();
        long expected = from;
        while (reader.Read())
        {
            if (reader.GetInt64(0) != expected)
            {
                throw new InvalidOperationException($"Schema \"{_schema}\": global sequence {expected} is in neither events nor dropped; the log has a hole.");
            }

            hashes.Add(EventHash.FromBytes(reader.GetFieldValue<byte[]>(1)));
            expected++;
        }

        return expected == to ? hashes : throw new InvalidOperationException($"Schema \"{_schema}\": global sequences {expected} to {to - 1} are in neither events nor dropped; the log has a hole.");
    }

    private void WriteAndCommit(NpgsqlConnection connection, List<StagedRow> rows, long folded, EventHash digest, bool durable)
    {
        int n = rows.Count;
        var c = new GroupColumns(rows);
        var newScopes = new List<string>();
        foreach (string scope in c.Scopes)
        {
            if (!_knownScopes.Contains(scope) && !newScopes.Contains(scope))
            {
                newScopes.Add(scope);
            }
        }

        using var batch = new NpgsqlBatch(connection);
        if (!durable)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL synchronous_commit = off"));
        }

        if (newScopes.Count > 0)
        {
            batch.BatchCommands.Add(Command($"INSERT INTO {_q}.scopes (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING", (object)newScopes.ToArray()));
        }

        string[] entityNames = [.. _stager.Entities.Keys];
        long[] lastSeqs = [.. entityNames.Select(e => _stager.Entities[e].Sequence)];
        byte[][] lastHashes = [.. entityNames.Select(e => _stager.Entities[e].Hash.ToArray())];
        batch.BatchCommands.Add(Command(
            $"INSERT INTO {_q}.entities (name, last_seq, last_hash) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bytea[]) ON CONFLICT (name) DO UPDATE SET last_seq = EXCLUDED.last_seq, last_hash = EXCLUDED.last_hash",
            entityNames,
            lastSeqs,
            lastHashes));
        batch.BatchCommands.Add(Command(
            $"""
            INSERT INTO {_q}.events ({GroupColumns.EventColumns})
            SELECT u.g, u.id, n.entity_id, u.es, s.scope_id, u.k, u.f, u.ts, u.w, u.c, u.d, u.corr, u.cause, u.prev, u.h, u.ik, u.br, u.p
            FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::bigint[], $5::text[], $6::int[], $7::int[], $8::bigint[], $9::bigint[], $10::int[], $11::int[], $12::uuid[], $13::uuid[], $14::bytea[], $15::bytea[], $16::text[], $17::text[], $18::bytea[])
                 AS u(g, id, en, es, sc, k, f, ts, w, c, d, corr, cause, prev, h, ik, br, p)
            LEFT JOIN {_q}.entities n ON n.name = u.en
            LEFT JOIN {_q}.scopes s ON s.name = u.sc
            """,
            c.Global, c.Ids, c.Entities, c.EntitySequences, c.Scopes, c.Kinds, c.Flags, c.Timestamps, c.Walls, c.Counters, c.Depths,
            Typed(c.Correlations, NpgsqlDbType.Uuid), Typed(c.Causations, NpgsqlDbType.Uuid), c.PrevHashes, c.Hashes,
            Typed(c.Keys, NpgsqlDbType.Text), Typed(c.Bypasses, NpgsqlDbType.Text), c.Payloads));
        if (c.Keyed > 0)
        {
            var keyRows = Enumerable.Range(0, n).Where(i => c.Keys[i] is not null).ToArray();
            batch.BatchCommands.Add(Command(
                $"INSERT INTO {_q}.idempotency (key, fingerprint, entity_id, kind, event_id, global_seq, entity_seq, hash) SELECT u.key, u.fp, n.entity_id, u.k, u.id, u.g, u.es, u.h FROM unnest($1::text[], $2::bigint[], $3::text[], $4::int[], $5::uuid[], $6::bigint[], $7::bigint[], $8::bytea[]) AS u(key, fp, en, k, id, g, es, h) LEFT JOIN {_q}.entities n ON n.name = u.en",
                keyRows.Select(i => c.Keys[i]!).ToArray(),
                keyRows.Select(i => unchecked((long)rows[i].Fingerprint)).ToArray(),
                keyRows.Select(i => c.Entities[i]).ToArray(),
                keyRows.Select(i => c.Kinds[i]).ToArray(),
                keyRows.Select(i => c.Ids[i]).ToArray(),
                keyRows.Select(i => c.Global[i]).ToArray(),
                keyRows.Select(i => c.EntitySequences[i]).ToArray(),
                keyRows.Select(i => c.Hashes[i]).ToArray()));
        }

        (long wall, uint counter) = _stager.Clock;
        batch.BatchCommands.Add(Command(
            $"UPDATE {_q}.store SET next_global = $1, hlc_wall_ms = $2, hlc_counter = $3, event_count = event_count + $4, entity_count = entity_count + $5, chain_folded = $6, chain_digest = $7 WHERE id = 1",
            _stager.NextGlobal, wall, unchecked((int)counter), (long)n, (long)_stager.NewEntities, folded, digest.ToArray()));
        batch.BatchCommands.Add(Command("SELECT pg_notify($1, $2)", Channel, _stager.NextGlobal.ToString(CultureInfo.InvariantCulture)));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        batch.ExecuteNonQuery();

        foreach (string scope in newScopes)
        {
            _knownScopes.Add(scope);
        }

    }

    /// <summary>
    /// The connection broke during COMMIT: asks the server, on a new connection and after the old transaction ended
    /// (the sequencer lock is free again), whether the group's first event is stored. Returns when it is (every event
    /// of the group is); throws <see cref="StoreConnectionException"/> when it is not, and
    /// <see cref="AppendOutcomeUnknownException"/> when the server cannot be asked.
    /// </summary>
    private void ResolveInDoubt(List<StagedRow> rows, Exception cause)
    {
        DropConnection();
        Guid first = rows[0].Fields.EventId.ToGuid();
        bool stored;
        try
        {
            using NpgsqlConnection connection = _dataSource.OpenConnection();
            using NpgsqlTransaction transaction = connection.BeginTransaction();
            using (var wait = new NpgsqlCommand(string.Create(CultureInfo.InvariantCulture, $"SET LOCAL lock_timeout = '{(long)_options.LockTimeout.TotalMilliseconds}ms'; SELECT 1 FROM {_q}.store WHERE id = 1 FOR UPDATE"), connection, transaction))
            {
                wait.ExecuteNonQuery();
            }

            using var check = new NpgsqlCommand($"SELECT EXISTS (SELECT 1 FROM {_q}.events WHERE event_id = $1) OR EXISTS (SELECT 1 FROM {_q}.dropped WHERE event_id = $1)", connection, transaction);
            check.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = first });
            stored = (bool)check.ExecuteScalar()!;
            transaction.Rollback();
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException)
        {
            Engine.PgLog.CommitInDoubt(_logger, _schema, rows.Count, "the server could not be asked, the outcome is unknown", cause);
            throw new AppendOutcomeUnknownException([.. rows.Select(static r => r.Fields.EventId)], cause);
        }

        Engine.PgLog.CommitInDoubt(_logger, _schema, rows.Count, stored ? "the group is stored" : "nothing of the group is stored", cause);
        if (!stored)
        {
            throw new StoreConnectionException($"The connection to schema \"{_schema}\" broke during the commit of {rows.Count} event(s); the server confirms nothing of it was stored: {cause.Message}", cause);
        }
    }

    private static NpgsqlParameter Typed(object values, NpgsqlDbType element) => new() { Value = values, NpgsqlDbType = NpgsqlDbType.Array | element };

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (object value in values)
        {
            command.Parameters.Add(value as NpgsqlParameter ?? new NpgsqlParameter { Value = value });
        }

        return command;
    }
}
