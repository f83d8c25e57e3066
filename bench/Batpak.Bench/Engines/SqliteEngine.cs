using Microsoft.Data.Sqlite;

namespace Batpak.Bench.Engines;

/// <summary>
/// SQLite through Microsoft.Data.Sqlite: WAL journal, <c>synchronous=FULL</c> (so every commit fsyncs the WAL: one
/// fsync per 1,000 events in W1, one per append in W2), an <c>events</c> table keyed by <c>(entity, seq)</c> with a
/// unique index on the 16-byte event id and indexes on scope and kind. One connection; prepared statements.
/// </summary>
internal sealed class SqliteEngine : BenchEngine
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS events(
            id BLOB NOT NULL,
            entity TEXT NOT NULL,
            seq INTEGER NOT NULL,
            scope TEXT NOT NULL,
            kind INTEGER NOT NULL,
            ts INTEGER NOT NULL,
            payload BLOB NOT NULL,
            PRIMARY KEY(entity, seq));
        CREATE UNIQUE INDEX IF NOT EXISTS ix_events_id ON events(id);
        CREATE INDEX IF NOT EXISTS ix_events_scope ON events(scope);
        CREATE INDEX IF NOT EXISTS ix_events_kind ON events(kind);
        """;

    private SqliteConnection? _connection;

    public override string Name => "SQLite";

    public override string Key => "sqlite";

    public override string Settings => "Microsoft.Data.Sqlite, journal_mode=WAL, synchronous=FULL (WAL fsync on every commit), PK (entity, seq) + unique id index + scope and kind indexes, prepared statements, one connection";

    private SqliteConnection Connection => _connection ?? throw new InvalidOperationException("Store not open.");

    private static SqliteConnection OpenConnection(string directory)
    {
        Directory.CreateDirectory(directory);
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(directory, "events.db"),
            Pooling = false,
            Mode = SqliteOpenMode.ReadWriteCreate,
        };
        var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public override void CreateForAppend(string directory, int syncEvery)
    {
        _connection = OpenConnection(directory);
        Execute(_connection, Schema);
    }

    public override void CreateForDurable(string directory) => CreateForAppend(directory, 1);

    private static SqliteCommand PrepareInsert(SqliteConnection connection)
    {
        var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO events(id, entity, seq, scope, kind, ts, payload) VALUES ($id, $entity, $seq, $scope, $kind, $ts, $payload)";
        command.Parameters.Add("$id", SqliteType.Blob);
        command.Parameters.Add("$entity", SqliteType.Text);
        command.Parameters.Add("$seq", SqliteType.Integer);
        command.Parameters.Add("$scope", SqliteType.Text);
        command.Parameters.Add("$kind", SqliteType.Integer);
        command.Parameters.Add("$ts", SqliteType.Integer);
        command.Parameters.Add("$payload", SqliteType.Blob);
        command.Prepare();
        return command;
    }

    private static void BindAndInsert(SqliteCommand insert, Dataset data, int i, byte[] idBuffer)
    {
        data.PeerIds[i].TryWriteBytes(idBuffer, bigEndian: true, out _);
        insert.Parameters[0].Value = idBuffer;
        insert.Parameters[1].Value = data.Entities[data.EntityOf[i]];
        insert.Parameters[2].Value = data.SequenceOf[i];
        insert.Parameters[3].Value = data.ScopeOfEvent(i);
        insert.Parameters[4].Value = (int)Dataset.KindValues[data.KindOf[i]];
        insert.Parameters[5].Value = (long)i;
        insert.Parameters[6].Value = data.Payloads[i];
        insert.ExecuteNonQuery();
    }

    public override void AppendAll(Dataset data, int syncEvery)
    {
        var connection = Connection;
        using var insert = PrepareInsert(connection);
        var idBuffer = new byte[16];
        int i = 0;
        while (i < data.Count)
        {
            using var transaction = connection.BeginTransaction();
            insert.Transaction = transaction;
            int end = Math.Min(data.Count, i + syncEvery);
            for (; i < end; i++)
            {
                BindAndInsert(insert, data, i, idBuffer);
            }

            transaction.Commit();
        }
    }

    public override long AppendDurable(Dataset data, int count, int concurrency)
    {
        // One connection shared under a lock: SQLite has one writer anyway, and a lock queues writers without the
        // busy-handler sleeps that 32 competing connections would add. Each append is its own transaction.
        var connection = Connection;
        var gate = new Lock();
        using var insert = PrepareInsert(connection);
        var idBuffer = new byte[16];
        int next = -1;
        long acknowledged = 0;
        var threads = new Thread[concurrency];
        for (int t = 0; t < concurrency; t++)
        {
            threads[t] = new Thread(() =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                {
                    lock (gate)
                    {
                        using var transaction = connection.BeginTransaction();
                        insert.Transaction = transaction;
                        BindAndInsert(insert, data, i, idBuffer);
                        transaction.Commit();
                    }

                    Interlocked.Increment(ref acknowledged);
                }
            })
            { Name = "sqlite-appender-" + t, IsBackground = true };
        }

        RunToCompletion(threads);

        return acknowledged;
    }

    public override void OpenExisting(string directory) => _connection = OpenConnection(directory);

    public override long PointReads(Dataset data, int[] indexes)
    {
        using var select = Connection.CreateCommand();
        select.CommandText = "SELECT entity, seq, scope, kind, payload FROM events WHERE id = $id";
        var id = select.Parameters.Add("$id", SqliteType.Blob);
        select.Prepare();
        var idBuffer = new byte[16];
        long found = 0;
        foreach (int i in indexes)
        {
            data.PeerIds[i].TryWriteBytes(idBuffer, bigEndian: true, out _);
            id.Value = idBuffer;
            using var reader = select.ExecuteReader();
            if (reader.Read())
            {
                var payload = (byte[])reader.GetValue(4);
                if (payload.Length == data.PayloadLengths[i])
                {
                    found++;
                }
            }
        }

        return found;
    }

    public override long ReadAllStreams(Dataset data)
    {
        using var select = Connection.CreateCommand();
        select.CommandText = "SELECT id, seq, scope, kind, ts, payload FROM events WHERE entity = $entity ORDER BY seq";
        var entity = select.Parameters.Add("$entity", SqliteType.Text);
        select.Prepare();
        long read = 0;
        foreach (string name in data.Entities)
        {
            entity.Value = name;
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                _ = (byte[])reader.GetValue(5);
                read++;
            }
        }

        return read;
    }

    private long CountRows(string sql, string parameter, object value)
    {
        using var select = Connection.CreateCommand();
        select.CommandText = sql;
        select.Parameters.AddWithValue(parameter, value);
        using var reader = select.ExecuteReader();
        long read = 0;
        while (reader.Read())
        {
            _ = (byte[])reader.GetValue(5);
            read++;
        }

        return read;
    }

    public override long QueryScope(string scope) =>
        CountRows("SELECT id, entity, seq, kind, ts, payload FROM events WHERE scope = $scope ORDER BY rowid", "$scope", scope);

    public override long QueryKind(ushort kind) =>
        CountRows("SELECT id, entity, seq, scope, ts, payload FROM events WHERE kind = $kind ORDER BY rowid", "$kind", (int)kind);

    public override long FoldAll(Dataset data, long[] sums)
    {
        using var select = Connection.CreateCommand();
        select.CommandText = "SELECT payload FROM events WHERE entity = $entity ORDER BY seq";
        var entity = select.Parameters.Add("$entity", SqliteType.Text);
        select.Prepare();
        long read = 0;
        for (int e = 0; e < data.EntityCount; e++)
        {
            entity.Value = data.Entities[e];
            using var reader = select.ExecuteReader();
            long sum = 0;
            while (reader.Read())
            {
                sum += Dataset.ReadAmount((byte[])reader.GetValue(0));
                read++;
            }

            sums[e] = sum;
        }

        return read;
    }

    public override long ReopenProbe(string directory, Dataset? data)
    {
        _connection = OpenConnection(directory);
        using var select = _connection.CreateCommand();
        select.CommandText = "SELECT MAX(rowid) FROM events";
        return select.ExecuteScalar() is long max ? max : 0;
    }

    public override void Close()
    {
        _connection?.Dispose();
        _connection = null;
    }
}
