// Cursor leases across instances: a session advisory lock per named cursor, held on a connection of its own for as
// long as the lease lives, and the checkpoints of a leased cursor written on that same connection (fencing). Called
// by StoreCore (AcquireCursorLeaseAsync) and by WriteCheckpoint (PostgresEngine.Core.cs).
using System.Collections.Concurrent;
using Npgsql;

namespace Batpak.PostgreSql.Engine;

internal sealed partial class PostgresEngine
{
    private readonly ConcurrentDictionary<string, CursorLease> _leases = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _leaseWaits = new(); // cancelled by Dispose: no lease wait outlives the store

    /// <inheritdoc />
    /// <remarks>
    /// Takes <c>pg_advisory_lock(store_id, lock_id)</c> (the cursor's row in <c>leases</c> gives <c>lock_id</c>) on a
    /// dedicated, unpooled connection, waiting as long as another instance holds it. The server frees the lock when the
    /// holder's session ends: at once when its process dies (the socket closes), within seconds when its host or
    /// network does (keepalives and <c>client_connection_check_interval</c>). While the lease lives, the cursor's
    /// checkpoints go through the lease's session, so an instance whose session (and lock) died cannot move the cursor.
    /// </remarks>
    public async ValueTask<IAsyncDisposable> AcquireCursorLeaseAsync(string name, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _leaseWaits.Token);
        var connection = new NpgsqlConnection(LeaseConnectionString(Options.ConnectionString));
        try
        {
            await connection.OpenAsync(linked.Token).ConfigureAwait(false);
            int lockId;
            await using (var row = new NpgsqlCommand($"INSERT INTO {Q}.leases (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING lock_id", connection))
            {
                row.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
                lockId = (int)(await row.ExecuteScalarAsync(linked.Token).ConfigureAwait(false))!;
            }

            await using (var take = new NpgsqlCommand("SELECT pg_advisory_lock($1, $2)", connection) { CommandTimeout = 0 })
            {
                take.Parameters.Add(new NpgsqlParameter<int> { TypedValue = StoreId });
                take.Parameters.Add(new NpgsqlParameter<int> { TypedValue = lockId });
                await take.ExecuteNonQueryAsync(linked.Token).ConfigureAwait(false); // cancelled through a cancel request
            }

            await using (var mark = new NpgsqlCommand($"UPDATE {Q}.leases SET epoch = epoch + 1, holder = $2, acquired_at = now() WHERE name = $1", connection))
            {
                mark.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
                mark.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"{Environment.MachineName}:{Environment.ProcessId}" });
                await mark.ExecuteNonQueryAsync(linked.Token).ConfigureAwait(false);
            }

            var lease = new CursorLease(this, name, connection);
            if (!_leases.TryAdd(name, lease))
            {
                throw new InvalidOperationException($"Cursor \"{name}\" is already leased by this instance."); // StoreCore queues local holders: a bug
            }

            return lease;
        }
        catch (Exception ex)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            if (ex is OperationCanceledException or PostgresException { SqlState: PostgresErrorCodes.QueryCanceled } && _leaseWaits.IsCancellationRequested)
            {
                throw new ObjectDisposedException(typeof(PostgresEventStore).FullName, "The store was disposed while waiting for a cursor lease.");
            }

            if (ex is PostgresException { SqlState: PostgresErrorCodes.QueryCanceled } && cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }

            throw;
        }
    }

    /// <summary>Writes a leased cursor's checkpoint on its lease's session; false when this instance holds no lease for <paramref name="name"/>.</summary>
    private bool TryWriteLeasedCheckpoint(string name, long position)
    {
        if (!_leases.TryGetValue(name, out CursorLease? lease))
        {
            return false;
        }

        lease.WriteCheckpoint(position);
        return true;
    }

    /// <summary>Cancels lease waits and closes the held leases' sessions (their locks go with them). Called by Dispose.</summary>
    private void CloseLeases()
    {
        _leaseWaits.Cancel();
        foreach (CursorLease lease in _leases.Values)
        {
            lease.Close();
        }
    }

    /// <summary>The connection string of a lease session, from the store's <paramref name="connectionString"/>.</summary>
    internal static string LeaseConnectionString(string connectionString)
    {
        // Unpooled: closing the connection ends the session and frees its lock. The server checks the client while a
        // statement runs (1 s) and probes an idle socket with keepalives, so a dead holder or waiter is noticed.
        // The application's own server options (Options=...) are kept, ahead of these.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, KeepAlive = 5 };
        const string Checks = "-c client_connection_check_interval=1000 -c tcp_keepalives_idle=5 -c tcp_keepalives_interval=1 -c tcp_keepalives_count=3";
        builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? Checks : builder.Options + " " + Checks;
        return builder.ConnectionString;
    }

    /// <summary>A held lease: its session, which holds the advisory lock and writes the cursor's checkpoints.</summary>
    private sealed class CursorLease(PostgresEngine engine, string name, NpgsqlConnection connection) : IAsyncDisposable
    {
        private readonly Lock _lock = new();
        private bool _closed;

        public void WriteCheckpoint(long position)
        {
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_closed, this);
                engine.UpsertCheckpoint(connection, name, position); // on the lease's session, which holds the lock
            }
        }

        public void Close()
        {
            lock (_lock)
            {
                if (_closed)
                {
                    return;
                }

                _closed = true;
                engine._leases.TryRemove(new KeyValuePair<string, CursorLease>(name, this));
                connection.Dispose(); // the session ends: the server frees the lock
            }
        }

        public ValueTask DisposeAsync()
        {
            Close();
            return ValueTask.CompletedTask;
        }
    }
}
