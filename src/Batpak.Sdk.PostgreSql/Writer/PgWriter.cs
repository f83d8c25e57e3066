// The PostgreSQL writer of one store instance: callers queue appends, and whichever caller finds the writer idle
// becomes the leader and commits everything queued as one group (combining), on one dedicated connection. The SQL
// of a group is in PgWriter.Sql.cs. Created and driven by PostgresEngine only.
using System.Collections.Concurrent;
using System.Data;
using System.Globalization;
using System.Net.Sockets;
using Batpak.Engine;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Batpak.PostgreSql.Writer;

/// <summary>Combines queued appends into groups and commits each group in one transaction under the sequencer row lock.</summary>
internal sealed partial class PgWriter : IDisposable
{
    private const long MaxGroupBytes = 16L * 1024 * 1024;
    private static readonly TimeSpan s_commandWaitSlack = TimeSpan.FromMinutes(2); // beyond the lock timeout: the group's own statements

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _q; // quoted schema
    private readonly string _schema;
    private readonly PostgresStoreOptions _options;
    private readonly CommitNotifier _notifier;
    private readonly GroupStager _stager;
    private readonly byte[]? _chainKey;
    private readonly int _maxGroupEvents;
    private readonly ConcurrentQueue<PgCommand> _queue = new();
    private readonly SemaphoreSlim _leader = new(1, 1);
    private readonly HashSet<string> _knownScopes = new(StringComparer.Ordinal);
    private readonly List<PgCommand> _group = [];
    private NpgsqlConnection? _connection;
    private volatile bool _closed;
    private long _groups;

    // The open global-chain block as this instance last committed it: valid while store.next_global == _cachedNext.
    private List<EventHash>? _openBlock;
    private long _openBlockStart = -1;
    private long _cachedNext = -1;

    private readonly ILogger _logger;

    public PgWriter(NpgsqlDataSource dataSource, PostgresStoreOptions options, BatpakOptions batpakOptions, TimeProvider time, CommitNotifier notifier, int storeId, ILogger logger)
    {
        _logger = logger;
        _dataSource = dataSource;
        _options = options;
        _schema = options.Schema;
        _q = Schema.SchemaName.Quote(options.Schema);
        _notifier = notifier;
        _chainKey = batpakOptions.ChainKey;
        _stager = new GroupStager(_chainKey, time, batpakOptions.MaxEventBytes);
        _maxGroupEvents = batpakOptions.MaxBatchEvents;
        Channel = NotifyChannel(storeId);
    }

    /// <summary>Groups this instance committed (one transaction each) since open.</summary>
    public long GroupCount => Interlocked.Read(ref _groups);

    /// <summary>Commands waiting for the writer now.</summary>
    public int QueueDepth => _queue.Count;

    /// <summary>The NOTIFY channel commits are announced on.</summary>
    public string Channel { get; }

    /// <summary>Test hook: called with "before-write" and "before-commit" while the group holds the sequencer.</summary>
    internal Action<string>? FaultHook { get; set; }

    /// <summary>The writer connection's backend process id (tests terminate it), or 0 before the first append.</summary>
    internal int BackendProcessId => _connection?.ProcessID ?? 0;

    /// <summary>The NOTIFY channel of store <paramref name="storeId"/>.</summary>
    public static string NotifyChannel(int storeId) => "batpak_" + storeId.ToString(CultureInfo.InvariantCulture);

    /// <summary>Queues <paramref name="command"/> and waits for its outcome.</summary>
    public AppendReceipt Append(PgCommand command)
    {
        Submit(command);
        bool answered;
        try
        {
            answered = command.Task.Wait(_options.LockTimeout + s_commandWaitSlack);
        }
        catch (AggregateException)
        {
            answered = true; // faulted: GetResult below rethrows the failure itself
        }

        if (!answered)
        {
            throw new TimeoutException($"The append to schema \"{_schema}\" got no answer within {_options.LockTimeout + s_commandWaitSlack}; its outcome is unknown.");
        }

        return command.Task.GetAwaiter().GetResult();
    }

    /// <summary>Queues <paramref name="command"/>; the task completes with its outcome.</summary>
    public Task<AppendReceipt> AppendAsync(PgCommand command)
    {
        Submit(command);
        return command.Task;
    }

    /// <summary>Commits what is queued (waiting up to <paramref name="timeout"/>), then refuses further appends.</summary>
    public void Drain(TimeSpan timeout)
    {
        if (_leader.Wait(timeout))
        {
            try
            {
                RunQueued();
            }
            finally
            {
                _closed = true;
                _leader.Release();
            }
        }

        _closed = true;
        while (_queue.TryDequeue(out PgCommand? left))
        {
            left.Fail(new ObjectDisposedException(nameof(PostgresEventStore), $"The store closed before this append to schema \"{_schema}\" was committed; nothing of it was stored."));
        }
    }

    private void Submit(PgCommand command)
    {
        ObjectDisposedException.ThrowIf(_closed, typeof(PostgresEventStore));
        _queue.Enqueue(command);
        // Whoever finds the writer idle commits the queue. A command queued while another thread leads is seen by that
        // leader's loop, or by its check after it released the writer.
        while (!_queue.IsEmpty && _leader.Wait(0))
        {
            try
            {
                RunQueued();
            }
            finally
            {
                _leader.Release();
            }
        }
    }

    private void RunQueued()
    {
        while (TakeGroup())
        {
            RunGroup(_group);
            _group.Clear();
        }
    }

    private bool TakeGroup()
    {
        int events = 0;
        long bytes = 0;
        while ((_group.Count == 0 || (events < _maxGroupEvents && bytes < MaxGroupBytes)) && _queue.TryPeek(out PgCommand? next))
        {
            if (_group.Count > 0 && events + next.Events.Length > _maxGroupEvents)
            {
                break;
            }

            _queue.TryDequeue(out next);
            _group.Add(next!);
            events += next!.Events.Length;
            bytes += next.PayloadBytes;
        }

        return _group.Count > 0;
    }

    private void RunGroup(List<PgCommand> group)
    {
        Exception? groupFailure = null;
        try
        {
            CommitGroup(group);
        }
        catch (Exception ex)
        {
            DropConnection();
            groupFailure = Classify(ex, group);
            if (groupFailure is StoreConnectionException or AppendOutcomeUnknownException)
            {
                Engine.PgLog.WriterFailed(_logger, _schema, group.Sum(static c => c.Events.Length), groupFailure);
            }
        }

        foreach (PgCommand command in group)
        {
            if (groupFailure is not null && (command.Failure is null || command.FailureAwaitsGroup))
            {
                command.Fail(groupFailure);
            }
            else if (command.Failure is not null)
            {
                command.Fail(command.Failure);
            }
            else
            {
                command.Succeed();
            }
        }
    }

    private Exception Classify(Exception ex, List<PgCommand> group)
    {
        int events = group.Sum(static c => c.Events.Length);
        return ex switch
        {
            BatpakException or ArgumentException or ObjectDisposedException => ex,
            PostgresException { SqlState: PostgresErrorCodes.LockNotAvailable } =>
                new StoreConnectionException($"The append of {events} event(s) waited longer than LockTimeout ({_options.LockTimeout}) for the sequencer row of schema \"{_schema}\" (another instance holds it); nothing of it was stored.", ex),
            NpgsqlException or IOException or SocketException or TimeoutException =>
                new StoreConnectionException($"The append of {events} event(s) to schema \"{_schema}\" failed before its commit, so nothing of it was stored: {ex.Message}", ex),
            _ => ex,
        };
    }

    private NpgsqlConnection EnsureConnection()
    {
        if (_connection is { State: ConnectionState.Open } open)
        {
            return open;
        }

        DropConnection();
        NpgsqlConnection connection = _dataSource.OpenConnection();
        try
        {
            using var settings = new NpgsqlCommand(
                string.Create(CultureInfo.InvariantCulture, $"SET lock_timeout = '{(long)_options.LockTimeout.TotalMilliseconds}ms'; SET idle_in_transaction_session_timeout = '{(long)Math.Max(10_000, _options.LockTimeout.TotalMilliseconds)}ms'"),
                connection);
            settings.ExecuteNonQuery();
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        _connection = connection;
        return connection;
    }

    private void DropConnection()
    {
        NpgsqlConnection? connection = _connection;
        _connection = null;
        ForgetCachedState(); // another instance may commit before the next group
        try
        {
            connection?.Dispose();
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or SocketException)
        {
            // A broken connection may throw while closing; it is gone either way.
        }
    }

    public void Dispose()
    {
        _closed = true;
        DropConnection();
        _stager.Dispose();
        _leader.Dispose();
    }
}
