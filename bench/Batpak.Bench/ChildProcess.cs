using System.Diagnostics;

namespace Batpak.Bench;

/// <summary>Starts a child process (this executable again, by default) and collects its output: W6's and W9's fresh-process measurements.</summary>
internal static class ChildProcess
{
    /// <summary>What a child process did: the file it ran, its exit code (null when it timed out and was killed) and its output.</summary>
    public readonly record struct Outcome(string File, int? ExitCode, string Stdout, string Stderr);

    /// <summary>Runs <paramref name="fileName"/> (default: this executable) with <paramref name="arguments"/>; returns standard output, throws when it fails or times out.</summary>
    public static string Run(IReadOnlyList<string> arguments, TimeSpan timeout, string? fileName = null)
    {
        Outcome outcome = Start(arguments, timeout, fileName);
        string command = $"{outcome.File} {string.Join(' ', arguments)}";
        return outcome.ExitCode switch
        {
            null => throw new InvalidOperationException($"{command} timed out after {timeout}"),
            0 => outcome.Stdout,
            int code => throw new InvalidOperationException($"{command} exited {code}: {outcome.Stdout.Trim()} {outcome.Stderr.Trim()}".Trim()),
        };
    }

    /// <summary>Runs <paramref name="fileName"/> (default: this executable) with <paramref name="arguments"/> and collects its output; kills it after <paramref name="timeout"/>.</summary>
    public static Outcome Start(IReadOnlyList<string> arguments, TimeSpan timeout, string? fileName = null)
    {
        var (file, prefix) = fileName is null ? SelfCommand() : (fileName, []);
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in prefix.Concat(arguments))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start " + file);
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync(); // both read as they come, so the timeout holds even while the child writes
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            return new Outcome(file, null, "", "");
        }

        process.WaitForExit(); // the redirected output is complete only after this
        return new Outcome(file, process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>How to start this executable again: its apphost when there is one, else <c>dotnet exec Batpak.Bench.dll</c>.</summary>
    public static (string FileName, string[] Prefix) SelfCommand()
    {
        string? processPath = Environment.ProcessPath;
        string assembly = typeof(ChildProcess).Assembly.Location;
        if (processPath is not null && Path.GetFileNameWithoutExtension(processPath) == "Batpak.Bench")
        {
            return (processPath, []);
        }

        string apphost = Path.ChangeExtension(assembly, OperatingSystem.IsWindows() ? ".exe" : null);
        if (File.Exists(apphost))
        {
            return (apphost, []);
        }

        string dotnet = processPath is not null && Path.GetFileNameWithoutExtension(processPath) == "dotnet"
            ? processPath
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        return (dotnet, ["exec", assembly]);
    }
}
