namespace Batpak.Bench.Engines;

// The only file that names the concrete PostgresEventStore. Batpak.Bench.csproj defines BATPAK_PG_ENGINE (and
// references the project) when src/Batpak.Sdk.PostgreSql exists, so the Batpak-PG column switches itself on once the
// engine is merged. Without it the column reports "engine not in this build" instead of numbers.
internal sealed partial class BatpakPgEngine
{
#if BATPAK_PG_ENGINE
    private static partial Func<string, string, IEventStore>? OpenImpl => static (connectionString, schema) =>
        Batpak.PostgreSql.PostgresEventStore.Open(new Batpak.PostgreSql.PostgresStoreOptions { ConnectionString = connectionString, Schema = schema });
#else
    private static partial Func<string, string, IEventStore>? OpenImpl => null;
#endif
}
