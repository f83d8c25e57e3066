using Npgsql;
using NpgsqlTypes;

namespace Batpak.Bench.Engines;

/// <summary>
/// The raw Npgsql baseline of the PostgreSQL section: the fewest statements that store and read the peers' rows, the
/// floor the server allows. One <c>events</c> table keyed by <c>(entity, seq)</c> with unique indexes on the event id
/// and the global position and indexes on scope and kind. W1 is one binary COPY of 1,000 rows per transaction; W2 is
/// one connection per appender, each an autocommit prepared INSERT; reads are prepared SELECTs (by id, by
/// <c>(entity, seq)</c>, one query per stream, one per scope or kind). No hash chain, no checks: that is Batpak's cost.
/// </summary>
internal sealed class NpgsqlRawEngine : NpgsqlBaseline
{
    private const string Schema = """
        CREATE TABLE events(
            pos bigint NOT NULL,
            id uuid NOT NULL,
            entity text COLLATE "C" NOT NULL,
            seq integer NOT NULL,
            scope text COLLATE "C" NOT NULL,
            kind integer NOT NULL,
            payload bytea NOT NULL,
            PRIMARY KEY (entity, seq));
        CREATE UNIQUE INDEX events_id ON events(id);
        CREATE UNIQUE INDEX events_pos ON events(pos);
        CREATE INDEX events_scope ON events(scope, pos);
        CREATE INDEX events_kind ON events(kind, pos);
        """;

    private const string Copy = "COPY events(pos, id, entity, seq, scope, kind, payload) FROM STDIN (FORMAT BINARY)";
    private const string Insert = "INSERT INTO events(pos, id, entity, seq, scope, kind, payload) VALUES ($1, $2, $3, $4, $5, $6, $7)";

    public override string Name => "Npgsql raw";

    public override string Key => "npgsql";

    public override string Settings => "Npgsql 10.0.3, one events table (PK (entity, seq), unique id and position indexes, (scope, pos) and (kind, pos) indexes, text COLLATE \"C\"); "
        + "W1 binary COPY of 1,000 rows per transaction; W2 one connection per appender, autocommit prepared INSERT (synchronous_commit as the server has it); "
        + "W3/W4/W5/W7 prepared SELECTs (by id, by (entity, seq), one query per stream / scope / kind); no hash chain, no checks";

    public override bool Supports(Workload workload) => workload != Workload.W6Reopen;

    public override string NotApplicableReason(Workload workload) =>
        "server-side store: no local open to time (a new process only connects)";

    public override void CreateForAppend(string directory, int syncEvery)
    {
        OpenExisting(directory);
        using var connection = Source.OpenConnection();
        using var command = new NpgsqlCommand(Schema, connection);
        command.ExecuteNonQuery();
    }

    public override void AppendAll(Dataset data, int syncEvery)
    {
        using var connection = Source.OpenConnection();
        int i = 0;
        while (i < data.Count)
        {
            int end = Math.Min(data.Count, i + syncEvery);
            using var transaction = connection.BeginTransaction();
            using (var writer = connection.BeginBinaryImport(Copy))
            {
                for (; i < end; i++)
                {
                    writer.StartRow();
                    writer.Write((long)i, NpgsqlDbType.Bigint);
                    writer.Write(data.PeerIds[i], NpgsqlDbType.Uuid);
                    writer.Write(data.Entities[data.EntityOf[i]], NpgsqlDbType.Text);
                    writer.Write(data.SequenceOf[i], NpgsqlDbType.Integer);
                    writer.Write(data.ScopeOfEvent(i), NpgsqlDbType.Text);
                    writer.Write((int)Dataset.KindValues[data.KindOf[i]], NpgsqlDbType.Integer);
                    writer.Write(data.Payloads[i], NpgsqlDbType.Bytea);
                }

                writer.Complete();
            }

            transaction.Commit();
        }
    }

    public override long AppendDurable(Dataset data, int count, int concurrency) => RunAppenders(count, concurrency, connection =>
    {
        var insert = new NpgsqlCommand(Insert, connection);
        var pos = new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint };
        var id = new NpgsqlParameter<Guid> { NpgsqlDbType = NpgsqlDbType.Uuid };
        var entity = new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text };
        var seq = new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer };
        var scope = new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text };
        var kind = new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer };
        var payload = new NpgsqlParameter<byte[]> { NpgsqlDbType = NpgsqlDbType.Bytea };
        insert.Parameters.AddRange(new NpgsqlParameter[] { pos, id, entity, seq, scope, kind, payload });
        insert.Prepare();
        return i =>
        {
            pos.TypedValue = i;
            id.TypedValue = data.PeerIds[i];
            entity.TypedValue = data.Entities[data.EntityOf[i]];
            seq.TypedValue = data.SequenceOf[i];
            scope.TypedValue = data.ScopeOfEvent(i);
            kind.TypedValue = Dataset.KindValues[data.KindOf[i]];
            payload.TypedValue = data.Payloads[i];
            insert.ExecuteNonQuery();
        };
    });

    public override long PointReads(Dataset data, int[] indexes)
    {
        using var connection = Source.OpenConnection();
        using var select = new NpgsqlCommand("SELECT entity, seq, scope, kind, payload FROM events WHERE id = $1", connection);
        var id = new NpgsqlParameter<Guid> { NpgsqlDbType = NpgsqlDbType.Uuid };
        select.Parameters.Add(id);
        select.Prepare();
        long found = 0;
        foreach (int i in indexes)
        {
            id.TypedValue = data.PeerIds[i];
            using var reader = select.ExecuteReader();
            if (reader.Read() && reader.GetFieldValue<byte[]>(4).Length == data.PayloadLengths[i])
            {
                found++;
            }
        }

        return found;
    }

    public override long PointReadsByStream(Dataset data, int[] indexes)
    {
        using var connection = Source.OpenConnection();
        using var select = new NpgsqlCommand("SELECT id, scope, kind, pos, payload FROM events WHERE entity = $1 AND seq = $2", connection);
        var entity = new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text };
        var seq = new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer };
        select.Parameters.Add(entity);
        select.Parameters.Add(seq);
        select.Prepare();
        long found = 0;
        foreach (int i in indexes)
        {
            entity.TypedValue = data.Entities[data.EntityOf[i]];
            seq.TypedValue = data.SequenceOf[i];
            using var reader = select.ExecuteReader();
            if (reader.Read() && reader.GetFieldValue<byte[]>(4).Length == data.PayloadLengths[i])
            {
                found++;
            }
        }

        return found;
    }

    public override long ReadAllStreams(Dataset data) => PerEntity(data, "SELECT id, seq, scope, kind, pos, payload FROM events WHERE entity = $1 ORDER BY seq", 5, null);

    public override long FoldAll(Dataset data, long[] sums) => PerEntity(data, "SELECT payload FROM events WHERE entity = $1 ORDER BY seq", 0, sums);

    /// <summary>One prepared query per entity stream; with <paramref name="sums"/>, folds the payload amounts into it.</summary>
    private long PerEntity(Dataset data, string sql, int payloadColumn, long[]? sums)
    {
        using var connection = Source.OpenConnection();
        using var select = new NpgsqlCommand(sql, connection);
        var entity = new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text };
        select.Parameters.Add(entity);
        select.Prepare();
        long read = 0;
        for (int e = 0; e < data.EntityCount; e++)
        {
            entity.TypedValue = data.Entities[e];
            using var reader = select.ExecuteReader();
            long sum = 0;
            while (reader.Read())
            {
                byte[] payload = reader.GetFieldValue<byte[]>(payloadColumn);
                if (sums is not null)
                {
                    sum += Dataset.ReadAmount(payload);
                }

                read++;
            }

            if (sums is not null)
            {
                sums[e] = sum;
            }
        }

        return read;
    }

    public override long QueryScope(string scope) => Query("SELECT id, entity, seq, kind, pos, payload FROM events WHERE scope = $1 ORDER BY pos", new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = scope });

    public override long QueryKind(ushort kind) => Query("SELECT id, entity, seq, scope, pos, payload FROM events WHERE kind = $1 ORDER BY pos", new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer, TypedValue = kind });

    private long Query(string sql, NpgsqlParameter parameter)
    {
        using var connection = Source.OpenConnection();
        using var select = new NpgsqlCommand(sql, connection);
        select.Parameters.Add(parameter);
        using var reader = select.ExecuteReader();
        long read = 0;
        while (reader.Read())
        {
            _ = reader.GetFieldValue<byte[]>(5);
            read++;
        }

        return read;
    }

    public override long ReopenProbe(string directory, Dataset? data) =>
        throw new NotSupportedException(NotApplicableReason(Workload.W6Reopen));
}
