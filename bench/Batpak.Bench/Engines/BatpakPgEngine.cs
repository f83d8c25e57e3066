namespace Batpak.Bench.Engines;

/// <summary>
/// Batpak's PostgreSQL store as the third peer of the PostgreSQL section, under the same <see cref="EventStoreEngine"/>
/// workloads as the embedded store: W1 AppendBatch of 1,000 (each batch one transaction), W2 AppendAsync from 32
/// appenders (durable), W3 TryGet and Stream(entity, seq), W4 Stream. The store is opened with the connection string of
/// the phase's fresh database and the schema <see cref="Schema"/>; this class only opens it.
/// </summary>
/// <remarks>
/// Only BatpakPgEngine.Factory.cs names <c>PostgresEventStore</c>; it is compiled when
/// src/Batpak.Sdk.PostgreSql is in the tree (BATPAK_PG_ENGINE). Without it the column reports "engine not in this build".
/// </remarks>
internal sealed partial class BatpakPgEngine : EventStoreEngine
{
    /// <summary>The schema the store is opened in (one per fresh database).</summary>
    public const string Schema = "batpak";

    public override string Name => ReportWriter.BatpakPgName;

    public override string Key => "batpak-pg";

    public override bool RunsOnPostgres => true;

    public override string Settings => $"Batpak.Sdk.PostgreSql PostgresEventStore (schema {Schema}), W1 one AppendBatch of 1,000 per transaction, W2 AppendAsync (durable, commits combined under the sequencer row), "
        + "W3 TryGet and Stream(entity, seq), W4/W7 Stream, W5 Read(Region); SHA-256 hash chain";

    /// <summary><see langword="true"/> when this build contains the engine (src/Batpak.Sdk.PostgreSql was in the tree).</summary>
    public static bool IsAvailable => OpenImpl is not null;

    public override string? UnavailableReason => IsAvailable ? null : "Batpak.Sdk.PostgreSql is not in this build (src/Batpak.Sdk.PostgreSql missing at build time)";

    /// <summary>Opens the store from a connection string and a schema name.</summary>
    private static partial Func<string, string, IEventStore>? OpenImpl { get; }

    private static IEventStore Open(string connectionString) =>
        (OpenImpl ?? throw new InvalidOperationException("This build has no Batpak.Sdk.PostgreSql."))(connectionString, Schema);

    public override bool Supports(Workload workload) => workload != Workload.W6Reopen;

    public override string NotApplicableReason(Workload workload) =>
        "server-side store: no local open to time (a new process only connects)";

    public override void CreateForAppend(string directory, int syncEvery) => Store = Open(directory);

    public override void CreateForDurable(string directory) => Store = Open(directory);

    public override void OpenExisting(string directory) => Store = Open(directory);

    public override long ReopenProbe(string directory, Dataset? data) =>
        throw new NotSupportedException(NotApplicableReason(Workload.W6Reopen));
}
