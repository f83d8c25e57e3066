using System.Diagnostics;
using System.Reflection;

namespace Batpak.Tests.Samples;

/// <summary>Runs a built sample (<c>dotnet &lt;dll&gt;</c>) or any other command and collects its output.</summary>
internal static class SampleProcess
{
    public static string RepoRoot { get; } = Metadata("BatpakRepoRoot");

    public static string Configuration { get; } = Metadata("BatpakConfiguration");

    /// <summary>The built dll of samples/<paramref name="name"/> (the test project builds the samples first).</summary>
    public static string SampleDll(string name)
    {
        string dll = Path.Combine(RepoRoot, "samples", name, "bin", Configuration, "net10.0", name + ".dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: the test project references the samples, so building it builds them.");
        return dll;
    }

    public static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        return info;
    }

    /// <summary>Runs to completion (killed after <paramref name="timeout"/>) and returns the exit code and output.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(ProcessStartInfo info, TimeSpan timeout)
    {
        using Process process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {info.FileName}.");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{info.FileName} {string.Join(' ', info.ArgumentList)} did not finish within {timeout}. Output so far:\n{await output}\n{await error}");
        }

        return (process.ExitCode, await output, await error);
    }

    public static Task<(int ExitCode, string Output, string Error)> RunSampleAsync(string name, params string[] arguments) =>
        RunAsync(StartInfo("dotnet", [SampleDll(name), .. arguments]), TimeSpan.FromSeconds(60));

    private static string Metadata(string key) =>
        typeof(SampleProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"Assembly metadata {key} is empty.");
}
