// The IStorageEngine members of the PostgreSQL engine other than reads (PostgresEngine.Reads.cs) and verification
// and compaction (PostgresEngine.cs): appends through the writer, the high-water mark, last sequences, named
// cursors, durability, stats, drain and dispose. Called by StoreCore only.
using Batpak.Engine;
using Batpak.PostgreSql.Writer;
using Npgsql;

namespace Batpak.PostgreSql.Engine;

internal sealed partial class PostgresEngine : IStorageEngine
{
    /// <summary>The most events one AppendBatch may hold (one insert statement's arrays).</summary>
    internal const int MaxBatchEvents = 100_000;

    /// <summary>The most payload bytes one AppendBatch may hold.</summary>
    internal const long MaxBatchBytes = 256L * 1024 * 1024;

    /// <inheritdoc />
    public string? ReadOnlyReason => null;

    /// <inheritdoc />
    public long NextGlobalSequence => Scalar<long>($"SELECT next_global FROM {Q}.store WHERE id = 1");

    /// <inheritdoc />
    public AppendReceipt Append(in Coordinate coordinate, EventKind kind, ReadOnlySpan<byte> payload, AppendOptions options) =>
        Writer.Append(PgCommand.Single(coordinate, kind, payload.ToArray(), options));

    /// <inheritdoc />
    public ValueTask<AppendReceipt> AppendAsync(Coordinate coordinate, EventKind kind, ReadOnlyMemory<byte> payload, AppendOptions options, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<AppendReceipt>(cancellationToken);
        }

        // Once queued, an append is not abandoned: its outcome is what the caller gets.
        return new ValueTask<AppendReceipt>(Writer.AppendAsync(PgCommand.Single(coordinate, kind, payload, options with { Durable = true })));
    }

    /// <inheritdoc />
    public AppendReceipt[] AppendBatch(IReadOnlyList<EventData> events, bool durable, AppendReceipt[]? receipts)
    {
        if (events.Count > MaxBatchEvents)
        {
            throw new ArgumentException($"The batch holds {events.Count} events; the PostgreSQL engine commits at most {MaxBatchEvents} as one unit.", nameof(events));
        }

        long bytes = 0;
        foreach (EventData e in events)
        {
            bytes += e.Payload.Length;
        }

        if (bytes > MaxBatchBytes)
        {
            throw new ArgumentException($"The batch holds {bytes} payload bytes; the PostgreSQL engine commits at most {MaxBatchBytes} as one unit.", nameof(events));
        }

        var command = PgCommand.Batch(events, durable, receipts);
        Writer.Append(command);
        return command.Receipts;
    }

    /// <inheritdoc />
    public long GetLastSequence(string entity)
    {
        using NpgsqlConnection connection = DataSource.OpenConnection();
        using var command = new NpgsqlCommand($"SELECT last_seq FROM {Q}.entities WHERE name = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entity });
        return command.ExecuteScalar() is long last ? last : AppendOptions.NoStream;
    }

    /// <inheritdoc />
    public long ReadCheckpoint(string name)
    {
        using NpgsqlConnection connection = DataSource.OpenConnection();
        using var command = new NpgsqlCommand($"SELECT position FROM {Q}.cursors WHERE name = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        return command.ExecuteScalar() is long position ? position : 0;
    }

    /// <inheritdoc />
    public void WriteCheckpoint(string name, long position)
    {
        if (TryWriteLeasedCheckpoint(name, position))
        {
            return; // on the lease's session: fenced (PostgresEngine.Leases.cs)
        }

        using NpgsqlConnection connection = DataSource.OpenConnection();
        UpsertCheckpoint(connection, name, position);
    }

    /// <summary>Stores a named cursor's position on <paramref name="connection"/>, autocommit at synchronous_commit on (the default): durable.</summary>
    private void UpsertCheckpoint(NpgsqlConnection connection, string name, long position)
    {
        using var command = new NpgsqlCommand($"INSERT INTO {Q}.cursors (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = position });
        command.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public void Sync()
    {
        // A transaction with an xid commits with a WAL flush (synchronous_commit on), and the flush covers every
        // earlier commit, including the ones made with synchronous_commit off.
        using NpgsqlConnection connection = DataSource.OpenConnection();
        using var command = new NpgsqlCommand("BEGIN; SET LOCAL synchronous_commit = on; SELECT txid_current(); COMMIT", connection);
        command.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public StoreStats GetStats()
    {
        using NpgsqlConnection connection = DataSource.OpenConnection();
        using var command = new NpgsqlCommand(
            $"""
            SELECT s.event_count, s.entity_count, s.next_global,
                   (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c WHERE c.relnamespace = $1::regnamespace AND c.relkind = 'r')
            FROM {Q}.store s WHERE s.id = 1
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Q });
        using NpgsqlDataReader reader = command.ExecuteReader();
        reader.Read();
        return new StoreStats
        {
            EventCount = reader.GetInt64(0),
            EntityCount = reader.GetInt64(1),
            NextGlobalSequence = reader.GetInt64(2),
            BytesOnDisk = reader.GetInt64(3),
            BatchCount = Writer.GroupCount, // this instance's group transactions
            QueueDepth = Writer.QueueDepth,
        };
    }

    /// <inheritdoc />
    public void Drain(TimeSpan timeout) => _writer?.Drain(timeout);

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        CloseLeases();
        _listener?.Dispose();
        _writer?.Dispose();
        DataSource.Dispose();
        SessionSource.Dispose();
    }

    private T Scalar<T>(string sql)
    {
        ThrowIfDisposed();
        using NpgsqlConnection connection = DataSource.OpenConnection();
        using var command = new NpgsqlCommand(sql, connection);
        return (T)command.ExecuteScalar()!;
    }
}
