using System.Diagnostics;

namespace Batpak.Bench;

/// <summary>Starts a child process (this executable again, by default) and collects its output: W6's and W9's fresh-process measurements.</summary>
internal static class ChildProcess
{
    /// <summary>Runs <paramref name="fileName"/> (default: this executable) with <paramref name="arguments"/>; returns standard output, throws when it fails or times out.</summary>
    public static string Run(IReadOnlyList<string> arguments, TimeSpan timeout, string? fileName = null)
    {
        var (file, prefix) = fileName is null ? SelfCommand() : (fileName, []);
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in prefix.Concat(arguments))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start " + file);
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} timed out after {timeout}");
        }

        return process.ExitCode == 0 ? stdout : throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {stdout.Trim()} {stderr.Result.Trim()}".Trim());
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
