// Hears commits of every instance on the same schema: LISTEN on the store's channel, plus a poll of the high-water
// mark every PollInterval (a lost notification, a reconnect, a pooler that cannot LISTEN). Each wake-up signals the
// CommitNotifier; StoreCore's dispatcher and cursors then read by position. Owned by PostgresEngine.
using System.Net.Sockets;
using Batpak.Engine;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Batpak.PostgreSql.Engine;

/// <summary>One listener connection per store instance, reconnecting on failure, until disposed.</summary>
internal sealed class CommitListener : IDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _channel;
    private readonly string _q;
    private readonly TimeSpan _poll;
    private readonly CommitNotifier _notifier;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _lastSeen = -1;

    private readonly ILogger _logger;
    private readonly string _schema;

    public CommitListener(NpgsqlDataSource dataSource, string channel, string schema, TimeSpan poll, CommitNotifier notifier, ILogger logger)
    {
        _logger = logger;
        _schema = schema;
        _dataSource = dataSource;
        _channel = channel;
        _q = Schema.SchemaName.Quote(schema);
        _poll = poll;
        _notifier = notifier;
        _loop = Task.Run(LoopAsync);
    }

    private async Task LoopAsync()
    {
        CancellationToken token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(token).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    connection.Notification += (_, _) => _notifier.Signal();
                    await using (var listen = new NpgsqlCommand($"LISTEN {_channel}", connection))
                    {
                        await listen.ExecuteNonQueryAsync(token).ConfigureAwait(false);
                    }

                    PgLog.ListenerListening(_logger, _schema, _channel);
                    await PollAsync(connection, token).ConfigureAwait(false); // catch up on what came before LISTEN
                    while (!token.IsCancellationRequested)
                    {
                        if (!await connection.WaitAsync(_poll, token).ConfigureAwait(false))
                        {
                            await PollAsync(connection, token).ConfigureAwait(false);
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or SocketException or TimeoutException or InvalidOperationException)
            {
                // The server went away: wait one poll interval, reconnect, and signal once reconnected.
                PgLog.ListenerLost(_logger, _schema, _poll, ex);
                try
                {
                    await Task.Delay(_poll, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task PollAsync(NpgsqlConnection connection, CancellationToken token)
    {
        await using var command = new NpgsqlCommand($"SELECT next_global FROM {_q}.store WHERE id = 1", connection);
        object? result = await command.ExecuteScalarAsync(token).ConfigureAwait(false);
        long next = result is long value ? value : 0;
        if (next != Interlocked.Exchange(ref _lastSeen, next))
        {
            _notifier.Signal();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loop ends with the store; its failures were retried, never surfaced.
        }

        _stop.Dispose();
    }
}
