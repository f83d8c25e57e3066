// Helpers every PostgreSQL test shares: store options for a schema on the test server, and dropping a schema.
namespace Batpak.PostgreSql.Tests;

/// <summary>Test store settings: a small pool and a fast poll, so parallel test classes fit the server's connection limit.</summary>
public static class TestStores
{
    public static PostgresStoreOptions Options(string schema) => new()
    {
        ConnectionString = PgServer.ConnectionString,
        Schema = schema,
        MaxReadConnections = 4,
        PollInterval = TimeSpan.FromMilliseconds(200),
        LockTimeout = TimeSpan.FromSeconds(20),
    };

    /// <summary>Drops <paramref name="schema"/> and everything in it (best effort: the server may be gone).</summary>
    public static void DropSchema(string schema)
    {
        if (string.IsNullOrWhiteSpace(PgServer.ConnectionString))
        {
            return; // no server: nothing was created
        }

        try
        {
            PgServer.Execute($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            // The server went away; its throwaway cluster takes the schema with it.
        }
    }
}
