using System.Globalization;

namespace Batpak.Bench;

/// <summary>A tiny <c>--name value</c> / <c>--flag</c> parser (no dependency for a bench tool).</summary>
internal sealed class BenchArgs
{
    private static readonly HashSet<string> s_flags = ["quick", "keep", "help", "h", "chain-key", "cold"];
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

    public const string Usage = """
        Batpak.Bench [run] [options]          run every workload for every engine and print the table
          --quick                 tiny sizes (seconds)
          --events N              W1 events (default 1,000,000)
          --entities N            entities (default 10,000)
          --scopes N              scopes (default 10)
          --payload B             payload bytes (default 200)
          --sync-every N          fsync every N events in W1 (default 1,000)
          --durable-events N      W2 acknowledged appends in total (default 20,000)
          --concurrency N         W2 concurrent appenders (default 32)
          --reads N               W3 random point reads (default 200,000)
          --seed S                dataset seed (default 42)
          --engines a,b           subset of batpak,sqlite,litedb,fasterlog (the default: all four), and/or the
                                  PostgreSQL peers batpak-pg,marten,npgsql,npgsql-rows (pg = all four; they run only
                                  when named; batpak-pg and npgsql-rows, the raw floor of Batpak-PG's own rows, need
                                  src/Batpak.Sdk.PostgreSql in the build). The PostgreSQL
                                  peers share one server: BATPAK_PG_CONNECTION when set, else a throwaway cluster the
                                  bench starts and stops (.ci/pg-cluster start --bench: fsync on, shared_buffers=1GB);
                                  each gets a fresh database per store. e.g. --engines pg --events 100000
          --dir PATH              where stores are created (default: temp)
          --keep                  keep the stores (PostgreSQL: the databases, on a BATPAK_PG_CONNECTION server)
          --out FILE              also write the report as Markdown
          --chain-key             Batpak only: keyed chains (BatpakOptions.ChainKey = a fixed 32-byte key, HMAC-SHA256
                                  instead of SHA-256) for every store it opens, the W6 child's included
        Batpak.Bench reopen --engine KEY --dir PATH [--chain-key]   (W6 child, started by the runner)
        Batpak.Bench micro [BenchmarkDotNet args]     micro-benchmarks, e.g. micro --filter *Append* --job short
        Batpak.Bench scale [--scale-events N] [--entities N] [--payload B] [--reads N] [--dir PATH] [--keep] [--cold] [--out FILE]
                                                      W9: one embedded store grown to N events (default 10,000,000 over
                                                      100,000 entities); W1 over the first and last million, and open
                                                      time, RSS, W3 and W4 in a fresh process at 1M and at N
        """;

    public static BenchArgs Parse(string[] args)
    {
        var result = new BenchArgs();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) && !(arg.StartsWith('-') && arg.Length == 2))
            {
                throw new ArgumentException($"Unexpected argument '{arg}'.");
            }

            string name = arg.TrimStart('-');
            if (s_flags.Contains(name))
            {
                result._values[name] = null;
                continue;
            }

            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"Option '{arg}' needs a value.");
            }

            result._values[name] = args[++i];
        }

        return result;
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string? Get(string name) => _values.GetValueOrDefault(name);

    private int Int(string name, int fallback) =>
        Get(name) is { } text
            ? int.Parse(text.Replace("_", "", StringComparison.Ordinal).Replace(",", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture)
            : fallback;

    /// <summary>Splits <c>--engines</c>, replacing <see cref="BenchConfig.PostgresAlias"/> by the PostgreSQL peers (each key once, in order).</summary>
    private static string[] ExpandEngines(string engines) =>
        engines.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .SelectMany(key => key == BenchConfig.PostgresAlias ? BenchConfig.PostgresEngines : [key])
            .Distinct(StringComparer.Ordinal)
            .ToArray();

    public BenchConfig ToConfig()
    {
        var known = new HashSet<string>(s_flags) { "events", "entities", "scopes", "payload", "sync-every", "durable-events", "concurrency", "reads", "seed", "engines", "dir", "out" };
        foreach (string name in _values.Keys)
        {
            if (!known.Contains(name))
            {
                throw new ArgumentException($"Unknown option '--{name}'.");
            }
        }

        var config = new BenchConfig();
        if (Has("quick"))
        {
            config = config.AsQuick();
        }

        return config with
        {
            Events = Int("events", config.Events),
            Entities = Int("entities", config.Entities),
            Scopes = Int("scopes", config.Scopes),
            PayloadBytes = Int("payload", config.PayloadBytes),
            SyncEvery = Int("sync-every", config.SyncEvery),
            DurableEvents = Int("durable-events", config.DurableEvents),
            Concurrency = Int("concurrency", config.Concurrency),
            Reads = Int("reads", config.Reads),
            Seed = Int("seed", config.Seed),
            Engines = Get("engines") is { } engines ? ExpandEngines(engines) : config.Engines,
            Root = Get("dir") is { } dir ? Path.GetFullPath(dir) : config.Root,
            Keep = Has("keep"),
            OutFile = Get("out") is { } outFile ? Path.GetFullPath(outFile) : null,
            ChainKey = Has("chain-key"),
        };
    }
}
