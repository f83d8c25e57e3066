using System.Globalization;
using Batpak.Bench;
using BenchmarkDotNet.Running;

// Batpak.Bench: one process runs every workload against every engine on the same generated dataset.
//   Batpak.Bench [run] [--quick] [--events N] [--entities N] [--scopes N] [--payload B] [--sync-every N]
//                [--durable-events N] [--concurrency N] [--reads N] [--seed S] [--engines a,b] [--dir PATH] [--keep] [--out FILE] [--chain-key]
//   Batpak.Bench --engines pg [...]   the PostgreSQL section (Marten and raw Npgsql; see BenchArgs.Usage)
//   Batpak.Bench reopen --engine KEY --dir PATH [--chain-key]   (W6 child; used by the runner)
//   Batpak.Bench micro [BenchmarkDotNet args]      (BenchmarkDotNet micro-benchmarks, e.g. --filter *Append*)
//   Batpak.Bench scale [--scale-events N] [--entities N] [--payload B] [--reads N] [--dir PATH] [--keep] [--cold] [--out FILE]
//                                                   (W9: one store grown to N events; figures at 1M and at N)
if (args.Length > 0 && args[0] == "micro")
{
    BenchmarkSwitcher.FromAssembly(typeof(BenchRunner).Assembly).Run(args[1..]);
    return 0;
}

if (args.Length > 0 && args[0] == "reopen")
{
    var child = BenchArgs.Parse(args[1..]);
    return ReopenLauncher.ChildMain(child.Get("engine") ?? throw new ArgumentException("reopen needs --engine"), child.Get("dir") ?? throw new ArgumentException("reopen needs --dir"), Console.Out, child.Has("chain-key"));
}

if (args.Length > 0 && args[0] == "scale-child")
{
    var child = BenchArgs.Parse(args[1..]);
    return Batpak.Bench.Scale.ScaleChild.Run(child.Get("dir") ?? throw new ArgumentException("scale-child needs --dir"), int.Parse(child.Get("reads") ?? "200000", CultureInfo.InvariantCulture), int.Parse(child.Get("entities") ?? "100000", CultureInfo.InvariantCulture), Console.Out);
}

if (args.Length > 0 && args[0] == "scale")
{
    var scale = BenchArgs.Parse(args[1..]);
    string report = new Batpak.Bench.Scale.ScaleRunner(
        long.Parse(scale.Get("scale-events") ?? "10000000", CultureInfo.InvariantCulture),
        int.Parse(scale.Get("entities") ?? "100000", CultureInfo.InvariantCulture),
        int.Parse(scale.Get("payload") ?? "200", CultureInfo.InvariantCulture),
        int.Parse(scale.Get("reads") ?? "200000", CultureInfo.InvariantCulture),
        scale.Get("dir") ?? Path.GetTempPath(),
        scale.Has("keep"),
        scale.Has("cold"),
        Console.Out).Run();
    Console.WriteLine(report);
    if (scale.Get("out") is { } scaleOut)
    {
        File.WriteAllText(scaleOut, report);
    }

    return 0;
}

BenchArgs options;
try
{
    options = BenchArgs.Parse(args.Length > 0 && args[0] == "run" ? args[1..] : args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(BenchArgs.Usage);
    return 2;
}

if (options.Has("help") || options.Has("h"))
{
    Console.WriteLine(BenchArgs.Usage);
    return 0;
}

BenchConfig config;
try
{
    config = options.ToConfig();
    config.Validate();
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

var results = new BenchRunner(config, Console.Out).Run();
Console.WriteLine();
Console.WriteLine(ReportWriter.Text(results));
bool embeddedRun = results.Any(r => !r.OnPostgres);
if (embeddedRun)
{
    Console.WriteLine(ReportWriter.Targets(results));
}

Console.Write(ReportWriter.PostgresTargets(results));
if (config.OutFile is { } outFile)
{
    string markdown = "# Batpak.Bench results\n\n" +
        string.Create(CultureInfo.InvariantCulture, $"Run: {TimeProvider.System.GetUtcNow():u}, {Environment.ProcessorCount} logical CPUs, .NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}\n\n") +
        ReportWriter.Markdown(config, results) + (embeddedRun ? "\n## Targets (Batpak)\n\n" + ReportWriter.Targets(results) : "") +
        (ReportWriter.PostgresTargets(results) is { Length: > 0 } postgresTargets ? "\n## Targets (PostgreSQL)\n\n" + postgresTargets : "");
    File.WriteAllText(outFile, markdown);
    Console.WriteLine($"Wrote {outFile}");
}

return results.SelectMany(r => r.Measurements.Values).All(m => m.IsValid || double.IsNaN(m.Value)) ? 0 : 1;
