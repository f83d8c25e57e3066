// The entry points of the PostgreSQL engine without DI: opening a store and printing the schema's DDL for a DBA.
// Called by applications and by UsePostgreSql.
using Batpak.PostgreSql.Schema;

namespace Batpak.PostgreSql;

/// <summary>Opens <see cref="IEventStore"/>s kept in PostgreSQL, and prints their DDL.</summary>
public static partial class PostgresEventStore
{
    /// <summary>
    /// The SQL that creates (or, from <paramref name="fromVersion"/>, migrates) the tables of a store in
    /// <paramref name="schema"/>, as one transaction, for databases whose DDL a DBA applies
    /// (<see cref="PostgresSchemaMode.VerifyOnly"/>).
    /// </summary>
    /// <param name="schema">The schema name (<see cref="PostgresStoreOptions.Schema"/>).</param>
    /// <param name="fromVersion">The schema version the database is at: 0 for none.</param>
    public static string MigrationScript(string schema, int fromVersion = 0) => Migrations.Script(schema, fromVersion);

    /// <summary>The newest schema version this library applies and accepts.</summary>
    public static int SchemaVersion => Migrations.LatestVersion;
}
