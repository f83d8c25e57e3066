using System.Globalization;

namespace Batpak.Bench;

/// <summary>Sizes and switches of one run. Defaults are the full-size workloads.</summary>
internal sealed record BenchConfig
{
    /// <summary>The embedded engines: the default run (no <c>--engines</c>), so earlier figures stay comparable.</summary>
    public static readonly string[] AllEngines = ["batpak", "sqlite", "litedb", "fasterlog"];

    /// <summary>The PostgreSQL section's peers, run only when named (or with the alias <see cref="PostgresAlias"/>).</summary>
    public static readonly string[] PostgresEngines = ["batpak-pg", "marten", "npgsql", "npgsql-rows"];

    /// <summary><c>--engines pg</c> stands for every engine of <see cref="PostgresEngines"/>.</summary>
    public const string PostgresAlias = "pg";

    public int Events { get; init; } = 1_000_000;

    public int Entities { get; init; } = 10_000;

    public int Scopes { get; init; } = 10;

    public int PayloadBytes { get; init; } = 200;

    public int SyncEvery { get; init; } = 1_000;

    public int DurableEvents { get; init; } = 20_000;

    public int Concurrency { get; init; } = 32;

    public int Reads { get; init; } = 200_000;

    public int Seed { get; init; } = 42;

    public IReadOnlyList<string> Engines { get; init; } = AllEngines;

    /// <summary>Where the stores go; a fresh sub-folder per run, deleted afterwards unless <see cref="Keep"/>.</summary>
    public string Root { get; init; } = Path.Combine(Path.GetTempPath(), "batpak-bench");

    public bool Keep { get; init; }

    public string? OutFile { get; init; }

    public bool Quick { get; init; }

    /// <summary><c>--chain-key</c>: Batpak opens its stores with <see cref="Engines.BatpakEngine.BenchChainKey"/> as <c>BatpakOptions.ChainKey</c>.</summary>
    public bool ChainKey { get; init; }

    /// <summary>The <c>--quick</c> sizes: seconds, not minutes.</summary>
    public BenchConfig AsQuick() => this with
    {
        Quick = true,
        Events = 20_000,
        Entities = 200,
        DurableEvents = 1_000,
        Reads = 10_000,
    };

    /// <summary>Checks the sizes; W2 reuses the first <see cref="DurableEvents"/> events of the dataset.</summary>
    public void Validate()
    {
        static void Positive(int value, string name)
        {
            if (value < 1)
            {
                throw new ArgumentException($"--{name} must be at least 1 (got {value}).");
            }
        }

        Positive(Events, "events");
        Positive(Entities, "entities");
        Positive(Scopes, "scopes");
        Positive(SyncEvery, "sync-every");
        Positive(DurableEvents, "durable-events");
        Positive(Concurrency, "concurrency");
        Positive(Reads, "reads");
        if (DurableEvents > Events)
        {
            throw new ArgumentException($"--durable-events ({DurableEvents}) cannot exceed --events ({Events}): W2 appends the first N events of the dataset.");
        }

        if (Scopes > Entities)
        {
            throw new ArgumentException("--scopes cannot exceed --entities.");
        }

        if (PayloadBytes is < 32 or > 255 + 26)
        {
            throw new ArgumentException("--payload must be 32..281 bytes.");
        }

        foreach (string engine in Engines)
        {
            if (!AllEngines.Contains(engine) && !PostgresEngines.Contains(engine))
            {
                throw new ArgumentException($"Unknown engine '{engine}'; known: {string.Join(", ", AllEngines.Concat(PostgresEngines))} (or {PostgresAlias} for {string.Join(",", PostgresEngines)}).");
            }
        }
    }

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"events={Events:N0}, entities={Entities:N0}, scopes={Scopes}, payload~{PayloadBytes} B, sync every {SyncEvery:N0}, W2 {DurableEvents:N0} durable events x {Concurrency} appenders, W3 {Reads:N0} reads, seed {Seed}{(ChainKey ? ", Batpak chain key (HMAC-SHA256)" : "")}");
}
