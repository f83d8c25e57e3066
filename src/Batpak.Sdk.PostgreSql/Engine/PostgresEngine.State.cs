// The state every part of PostgresEngine shares: the schema's quoted name, the reader data source, the chain key
// and the store row's identity. Set once at open (PostgresEngine.Open); read by every PostgresEngine.*.cs file.
using Batpak.PostgreSql.Schema;
using Npgsql;

namespace Batpak.PostgreSql.Engine;

internal sealed partial class PostgresEngine
{
    /// <summary>The schema's name, as configured.</summary>
    internal string StoreSchema { get; }

    /// <summary>The schema as a quoted identifier, to prefix table names in SQL (<c>{Q}.events</c>).</summary>
    internal string Q { get; }

    /// <summary>Pooled connections for reads, verification and compaction (the writer and listener hold their own).</summary>
    internal NpgsqlDataSource DataSource { get; }

    /// <summary>The chain key (HMAC-SHA256 chains), or <see langword="null"/> for SHA-256 (<see cref="BatpakOptions.ChainKey"/>).</summary>
    internal byte[]? ChainKey { get; }

    /// <summary>The store row's <c>store_id</c>: first key of this store's advisory locks, suffix of its NOTIFY channel.</summary>
    internal int StoreId { get; private set; }

    /// <summary>The engine's settings (a private copy).</summary>
    internal PostgresStoreOptions Options { get; }

    private PostgresEngine(PostgresStoreOptions options, NpgsqlDataSource dataSource, byte[]? chainKey)
    {
        Options = options;
        StoreSchema = options.Schema;
        Q = Schema.SchemaName.Quote(options.Schema);
        DataSource = dataSource;
        ChainKey = chainKey;
    }
}
