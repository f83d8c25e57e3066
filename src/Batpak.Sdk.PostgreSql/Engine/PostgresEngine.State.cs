// The state every part of PostgresEngine shares: the schema's quoted name, the two data sources, the chain key,
// the store row's identity, the name cache, the writer and the commit listener. Set once at open (PostgresEngine.Open.cs); read by
// every PostgresEngine.*.cs file.
using Batpak.Engine;
using Batpak.PostgreSql.Writer;
using Npgsql;

namespace Batpak.PostgreSql.Engine;

internal sealed partial class PostgresEngine
{
    private PgWriter? _writer;
    private CommitListener? _listener;
    private int _disposed;

    private PostgresEngine(PostgresStoreOptions options, BatpakOptions batpakOptions, NpgsqlDataSource dataSource, NpgsqlDataSource sessions, CommitNotifier notifier, TimeProvider time)
    {
        Options = options;
        BatpakOptions = batpakOptions;
        StoreSchema = options.Schema;
        Q = Schema.SchemaName.Quote(options.Schema);
        DataSource = dataSource;
        SessionSource = sessions;
        ChainKey = batpakOptions.ChainKey;
        Notifier = notifier;
        Time = time;
        Names = new NameCache(options.Schema, Q);
    }

    /// <summary>The schema's name, as configured.</summary>
    internal string StoreSchema { get; }

    /// <summary>The schema as a quoted identifier, to prefix table names in SQL (<c>{Q}.events</c>).</summary>
    internal string Q { get; }

    /// <summary>Pooled connections for reads and verification: nothing on them sets session state (not reset on return).</summary>
    internal NpgsqlDataSource DataSource { get; }

    /// <summary>Pooled connections that set session state: the writer, the listener, migrations, the compaction lock (reset on return).</summary>
    internal NpgsqlDataSource SessionSource { get; }

    /// <summary>The chain key (HMAC-SHA256 chains), or <see langword="null"/> for SHA-256 (<see cref="BatpakOptions.ChainKey"/>).</summary>
    internal byte[]? ChainKey { get; }

    /// <summary>The store row's <c>store_id</c>: first key of this store's advisory locks, suffix of its NOTIFY channel.</summary>
    internal int StoreId { get; private set; }

    /// <summary>The engine's settings (a private copy).</summary>
    internal PostgresStoreOptions Options { get; }

    /// <summary>The engine-neutral store settings (a validated copy).</summary>
    internal BatpakOptions BatpakOptions { get; }

    /// <summary>Signalled after every commit this instance makes or hears of.</summary>
    internal CommitNotifier Notifier { get; }

    /// <summary>Entity and scope names by id, for the reads.</summary>
    internal NameCache Names { get; }

    /// <summary>The clock for event timestamps.</summary>
    internal TimeProvider Time { get; }

    /// <summary>The writer (tests reach its fault hook and backend pid).</summary>
    internal PgWriter Writer => _writer ?? throw new InvalidOperationException("The engine is not open.");

    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, typeof(PostgresEventStore));
}
