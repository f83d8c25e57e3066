using Npgsql;
using NpgsqlTypes;

namespace Batpak.Bench.Engines;

/// <summary>
/// A second raw Npgsql baseline for the PostgreSQL section: the fewest statements that store <em>Batpak-PG's</em>
/// rows, in Batpak-PG's own schema (<c>PostgresEventStore.MigrationScript</c>: the same tables and indexes). Where
/// <see cref="NpgsqlRawEngine"/> is the floor for the peers' narrow rows, this is the floor for the rows the engine
/// must write: the SQL it must run. Everything the engine decides is computed before the clock starts (global and
/// entity numbers, ids, clocks, 32-byte hashes), so what is timed is the server's work and the wire.
/// W1, per 1,000 events: one batch (BEGIN, the sequencer row locked FOR UPDATE, new entities inserted, the others'
/// heads updated, the store row updated), one binary COPY into <c>events</c>, COMMIT. W2: one autocommit statement
/// per event (the sequencer row, the entity head and the event in one CTE). No notification, no checks, no chain
/// arithmetic. Reads are those of <see cref="NpgsqlRawEngine"/> and are not repeated here.
/// Compiled with the engine only (BATPAK_PG_ENGINE, like <see cref="BatpakPgEngine"/>).
/// </summary>
internal sealed class NpgsqlRowsEngine : NpgsqlBaseline
{
    private const string SchemaName = "rows";
    private const string Q = "\"rows\"";

    private const string Copy = $"COPY {Q}.events (global_seq, event_id, entity_id, entity_seq, scope_id, kind, flags, ts_us, hlc_wall_ms, hlc_counter, depth, correlation_id, causation_id, prev_hash, hash, idem_key, bypass_reason, payload) FROM STDIN (FORMAT BINARY)";

    private byte[][] _hashes = [];
    private string[] _scopes = [];

    public override string Name => "Npgsql raw, Batpak's rows";

    public override string Key => "npgsql-rows";

    public override string? UnavailableReason =>
#if BATPAK_PG_ENGINE
        null;
#else
        "Batpak.Sdk.PostgreSql is not in this build (its schema is the one this baseline fills)";
#endif

    public override string Settings => "Npgsql 10.0.3, Batpak-PG's schema (its events row with two 32-byte hashes, its six B-tree indexes and BRIN, entity heads, the sequencer row); "
        + "W1 per 1,000 events one batch (lock, entity inserts and head updates, store row) + binary COPY + COMMIT; W2 one autocommit CTE per event; "
        + "every number, id and hash precomputed (no chain, no checks, no NOTIFY); reads n/a (see Npgsql raw)";

    public override bool Supports(Workload workload) => workload is Workload.W1Append or Workload.W2Durable or Workload.W8Bytes;

    public override string NotApplicableReason(Workload workload) => workload == Workload.W6Reopen
        ? "server-side store: no local open to time (a new process only connects)"
        : "a write floor only: the read floor is Npgsql raw's";

    /// <summary>Untimed: a 32-byte hash per event (deterministic bytes; the server only stores them).</summary>
    public override void Prepare(Dataset data)
    {
        _scopes = data.Scopes;
        var random = new Random(17);
        _hashes = new byte[data.Count][];
        for (int i = 0; i < data.Count; i++)
        {
            _hashes[i] = new byte[32];
            random.NextBytes(_hashes[i]);
        }
    }

    public override void CreateForAppend(string directory, int syncEvery)
    {
        OpenExisting(directory);
        using var connection = Source.OpenConnection();
#if BATPAK_PG_ENGINE
        string script = Batpak.PostgreSql.PostgresEventStore.MigrationScript(SchemaName);
#else
        string script = throw new InvalidOperationException(UnavailableReason);
#endif
        using (var command = new NpgsqlCommand(script, connection))
        {
            command.ExecuteNonQuery();
        }

        using var scopes = new NpgsqlCommand($"INSERT INTO {Q}.scopes (scope_id, name) OVERRIDING SYSTEM VALUE SELECT * FROM unnest($1::int[], $2::text[])", connection);
        scopes.Parameters.Add(new NpgsqlParameter { Value = Enumerable.Range(1, _scopes.Length).ToArray() });
        scopes.Parameters.Add(new NpgsqlParameter { Value = _scopes });
        scopes.ExecuteNonQuery(); // untimed, like Batpak-PG's scope dictionary after its first batch
    }

    public override void AppendAll(Dataset data, int syncEvery)
    {
        using var connection = Source.OpenConnection();
        var known = new bool[data.EntityCount];
        var prev = new byte[data.EntityCount][];
        byte[] zero = new byte[32];
        int entityCount = 0;
        int i = 0;
        while (i < data.Count)
        {
            int start = i;
            int end = Math.Min(data.Count, i + syncEvery);
            var heads = new Dictionary<int, int>(); // entity -> its last event in this batch
            var fresh = new HashSet<int>();
            for (int k = start; k < end; k++)
            {
                int e = data.EntityOf[k];
                heads[e] = k;
                if (!known[e])
                {
                    known[e] = true;
                    fresh.Add(e);
                }
            }

            using (var batch = new NpgsqlBatch(connection))
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
                batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT next_global FROM {Q}.store WHERE id = 1 FOR UPDATE"));
                var old = heads.Where(h => !fresh.Contains(h.Key)).ToArray();
                var created = heads.Where(h => fresh.Contains(h.Key)).ToArray();
                if (created.Length > 0)
                {
                    batch.BatchCommands.Add(Command(
                        $"INSERT INTO {Q}.entities (entity_id, name, last_seq, last_hash) OVERRIDING SYSTEM VALUE SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bytea[])",
                        created.Select(h => (long)h.Key + 1).ToArray(), created.Select(h => data.Entities[h.Key]).ToArray(),
                        created.Select(h => (long)data.SequenceOf[h.Value]).ToArray(), created.Select(h => _hashes[h.Value]).ToArray()));
                }

                if (old.Length > 0)
                {
                    batch.BatchCommands.Add(Command(
                        $"UPDATE {Q}.entities n SET last_seq = u.s, last_hash = u.h FROM unnest($1::bigint[], $2::bigint[], $3::bytea[]) AS u(id, s, h) WHERE n.entity_id = u.id",
                        old.Select(h => (long)h.Key + 1).ToArray(), old.Select(h => (long)data.SequenceOf[h.Value]).ToArray(), old.Select(h => _hashes[h.Value]).ToArray()));
                }

                entityCount += created.Length;
                batch.BatchCommands.Add(Command(
                    $"UPDATE {Q}.store SET next_global = $1, hlc_wall_ms = $1, hlc_counter = 0, event_count = $1, entity_count = $2, chain_folded = $3, chain_digest = $4 WHERE id = 1",
                    (long)end, (long)entityCount, (long)(end / 1024 * 1024), _hashes[end - 1]));
                batch.ExecuteNonQuery();
            }

            using (var writer = connection.BeginBinaryImport(Copy))
            {
                for (; i < end; i++)
                {
                    int e = data.EntityOf[i];
                    writer.StartRow();
                    writer.Write((long)i, NpgsqlDbType.Bigint);
                    writer.Write(data.PeerIds[i], NpgsqlDbType.Uuid);
                    writer.Write((long)e + 1, NpgsqlDbType.Bigint);
                    writer.Write((long)data.SequenceOf[i], NpgsqlDbType.Bigint);
                    writer.Write(data.ScopeOfEntity(e) + 1, NpgsqlDbType.Integer);
                    writer.Write((int)Dataset.KindValues[data.KindOf[i]], NpgsqlDbType.Integer);
                    writer.Write(0, NpgsqlDbType.Integer);
                    writer.Write(1_800_000_000_000_000L + i, NpgsqlDbType.Bigint);
                    writer.Write(1_800_000_000_000L + (i / 1000), NpgsqlDbType.Bigint);
                    writer.Write(i % 1000, NpgsqlDbType.Integer);
                    writer.Write(0, NpgsqlDbType.Integer);
                    writer.WriteNull();
                    writer.WriteNull();
                    writer.Write(prev[e] ?? zero, NpgsqlDbType.Bytea);
                    writer.Write(_hashes[i], NpgsqlDbType.Bytea);
                    writer.WriteNull();
                    writer.WriteNull();
                    writer.Write(data.Payloads[i], NpgsqlDbType.Bytea);
                    prev[e] = _hashes[i];
                }

                writer.Complete();
            }

            using var commit = new NpgsqlCommand("COMMIT", connection);
            commit.ExecuteNonQuery();
        }
    }

    public override long AppendDurable(Dataset data, int count, int concurrency)
    {
        string sql = $"""
            WITH s AS (UPDATE {Q}.store SET next_global = next_global + 1, event_count = event_count + 1 WHERE id = 1 RETURNING next_global - 1 AS g),
            n AS (INSERT INTO {Q}.entities (entity_id, name, last_seq, last_hash) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4)
                  ON CONFLICT (entity_id) DO UPDATE SET last_seq = excluded.last_seq, last_hash = excluded.last_hash)
            INSERT INTO {Q}.events (global_seq, event_id, entity_id, entity_seq, scope_id, kind, flags, ts_us, hlc_wall_ms, hlc_counter, depth, prev_hash, hash, payload)
            SELECT s.g, $5, $1, $3, $6, $7, 0, s.g, s.g, 0, 0, $8, $4, $9 FROM s
            """;
        return RunAppenders(count, concurrency, connection =>
        {
            var insert = new NpgsqlCommand(sql, connection);
            var entityId = new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint };
            var name = new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text };
            var seq = new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint };
            var hash = new NpgsqlParameter<byte[]> { NpgsqlDbType = NpgsqlDbType.Bytea };
            var id = new NpgsqlParameter<Guid> { NpgsqlDbType = NpgsqlDbType.Uuid };
            var scope = new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer };
            var kind = new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer };
            var prevHash = new NpgsqlParameter<byte[]> { NpgsqlDbType = NpgsqlDbType.Bytea };
            var payload = new NpgsqlParameter<byte[]> { NpgsqlDbType = NpgsqlDbType.Bytea };
            insert.Parameters.AddRange(new NpgsqlParameter[] { entityId, name, seq, hash, id, scope, kind, prevHash, payload });
            insert.Prepare();
            return i =>
            {
                int e = data.EntityOf[i];
                entityId.TypedValue = e + 1;
                name.TypedValue = data.Entities[e];
                seq.TypedValue = data.SequenceOf[i];
                hash.TypedValue = _hashes[i];
                id.TypedValue = data.PeerIds[i];
                scope.TypedValue = data.ScopeOfEntity(e) + 1;
                kind.TypedValue = Dataset.KindValues[data.KindOf[i]];
                prevHash.TypedValue = _hashes[Math.Max(0, i - 1)];
                payload.TypedValue = data.Payloads[i];
                insert.ExecuteNonQuery();
            };
        });
    }

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (object value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return command;
    }

    public override long PointReads(Dataset data, int[] indexes) => throw new NotSupportedException(NotApplicableReason(Workload.W3PointRead));

    public override long ReadAllStreams(Dataset data) => throw new NotSupportedException(NotApplicableReason(Workload.W4Streams));

    public override long QueryScope(string scope) => throw new NotSupportedException(NotApplicableReason(Workload.W5Scope));

    public override long QueryKind(ushort kind) => throw new NotSupportedException(NotApplicableReason(Workload.W5Kind));

    public override long FoldAll(Dataset data, long[] sums) => throw new NotSupportedException(NotApplicableReason(Workload.W7Fold));

    public override long ReopenProbe(string directory, Dataset? data) => throw new NotSupportedException(NotApplicableReason(Workload.W6Reopen));
}
