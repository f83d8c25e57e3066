// The settings of a PostgreSQL store (server, schema, schema mode, polling and lock waits) and their validation.
// Read by PostgresEventStore.Open and UsePostgreSql; BatpakOptions carries the engine-neutral settings.
using Batpak.PostgreSql.Schema;
using Npgsql;

namespace Batpak.PostgreSql;

/// <summary>Whether opening a store may change its schema.</summary>
public enum PostgresSchemaMode
{
    /// <summary>Create the schema and apply missing migrations at open (under an advisory lock). The default.</summary>
    Apply = 0,

    /// <summary>Change nothing: fail at open when the schema is missing or older than this library (a DBA applies <see cref="PostgresEventStore.MigrationScript"/>).</summary>
    VerifyOnly = 1,
}

/// <summary>
/// Where and how a PostgreSQL store lives. One PostgreSQL schema holds one store; any number of processes may open the
/// same schema at once. Checked at open, with one message per bad setting.
/// </summary>
public sealed class PostgresStoreOptions
{
    /// <summary>An Npgsql connection string (<c>Host=...;Port=...;Username=...;Database=...</c>). Required.</summary>
    /// <remarks>Use a direct connection or a session-mode pooler: the engine LISTENs and holds session advisory locks.</remarks>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>The PostgreSQL schema holding the store's tables. Default <c>"batpak"</c>.</summary>
    /// <remarks>Valid: 1 to 63 ASCII letters, digits or '_', starting with a letter or '_', not starting with <c>pg_</c>.</remarks>
    public string Schema { get; set; } = "batpak";

    /// <summary>Whether opening may create or migrate the schema. Default <see cref="PostgresSchemaMode.Apply"/>.</summary>
    public PostgresSchemaMode SchemaMode { get; set; } = PostgresSchemaMode.Apply;

    /// <summary>
    /// How often the store checks for commits of other instances when no notification arrived (a lost NOTIFY or a
    /// listener that reconnects). Default 1 second.
    /// </summary>
    /// <remarks>Valid: 10 ms to 1 hour.</remarks>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The longest an append waits for the store's sequencer row held by another instance before it fails with a
    /// <see cref="StoreConnectionException"/> (PostgreSQL <c>lock_timeout</c>). Default 30 seconds.
    /// </summary>
    /// <remarks>Valid: 1 ms to 1 hour.</remarks>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The most pooled connections the store's readers use (the writer and the listener have their own). Default 10.</summary>
    /// <remarks>Valid: 1 to 1000.</remarks>
    public int MaxReadConnections { get; set; } = 10;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first bad setting and its value.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new ArgumentException("PostgresStoreOptions.ConnectionString is empty; give an Npgsql connection string such as \"Host=localhost;Username=app;Database=app\".", nameof(ConnectionString));
        }

        try
        {
            _ = new NpgsqlConnectionStringBuilder(ConnectionString);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"PostgresStoreOptions.ConnectionString is not a valid Npgsql connection string: {e.Message}", nameof(ConnectionString), e);
        }

        if (SchemaName.Problem(Schema) is { } problem)
        {
            throw new ArgumentException($"PostgresStoreOptions.Schema \"{Schema}\" is not valid: {problem}.", nameof(Schema));
        }

        if (!Enum.IsDefined(SchemaMode))
        {
            throw new ArgumentException($"PostgresStoreOptions.SchemaMode {(int)SchemaMode} is not Apply or VerifyOnly.", nameof(SchemaMode));
        }

        if (PollInterval < TimeSpan.FromMilliseconds(10) || PollInterval > TimeSpan.FromHours(1))
        {
            throw new ArgumentException($"PostgresStoreOptions.PollInterval {PollInterval} is not between 10 ms and 1 hour.", nameof(PollInterval));
        }

        if (LockTimeout < TimeSpan.FromMilliseconds(1) || LockTimeout > TimeSpan.FromHours(1))
        {
            throw new ArgumentException($"PostgresStoreOptions.LockTimeout {LockTimeout} is not between 1 ms and 1 hour.", nameof(LockTimeout));
        }

        if (MaxReadConnections is < 1 or > 1000)
        {
            throw new ArgumentException($"PostgresStoreOptions.MaxReadConnections {MaxReadConnections} is not between 1 and 1000.", nameof(MaxReadConnections));
        }
    }

    /// <summary>A copy, so that later changes by the caller do not reach an open store.</summary>
    internal PostgresStoreOptions Clone() => (PostgresStoreOptions)MemberwiseClone();
}
