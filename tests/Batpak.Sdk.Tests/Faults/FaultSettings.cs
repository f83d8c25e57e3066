using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;

namespace Batpak.Tests.Faults;

/// <summary>
/// Knobs of the fault suite. <c>BATPAK_FAULT_ITERATIONS</c> multiplies the work of the randomized tests (kill
/// points, bit flips, fuzz cases, stress time); <c>BATPAK_FAULT_SEED</c> replays a run (every test prints its seed).
/// </summary>
internal static class FaultSettings
{
    /// <summary>The scale factor: 1 by default (the CI budget), larger to run longer.</summary>
    public static int Scale
    {
        get
        {
            string? text = Environment.GetEnvironmentVariable("BATPAK_FAULT_ITERATIONS");
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : 1;
        }
    }

    public static int Seed()
    {
        string? text = Environment.GetEnvironmentVariable("BATPAK_FAULT_SEED");
        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int seed) ? seed : Random.Shared.Next();
    }
}

/// <summary>Runs tests/Batpak.CrashChild as a separate process and collects its stdout lines.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly ManualResetEventSlim _ready = new();

    public ChildProcess(params string[] arguments)
        : this(environment: null, arguments)
    {
    }

    /// <summary>Starts the child with extra environment variables (for example DOTNET_SYSTEM_IO_DISABLEFILELOCKING).</summary>
    public ChildProcess(IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path) ? path : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ChildPath);
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            // Enqueue first: a test reads Lines as soon as WaitReady returns.
            _lines.Enqueue(e.Data);
            if (e.Data == "ready" || e.Data.StartsWith("locked", StringComparison.Ordinal))
            {
                _ready.Set();
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _errors.Enqueue(e.Data);
            }
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static string ChildPath
    {
        get
        {
            string path = typeof(ChildProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .Single(a => a.Key == "CrashChildPath").Value!;
            Assert.True(File.Exists(path), $"The crash child is not built at {path}; build the test project (it builds the child through a ProjectReference).");
            return Path.GetFullPath(path);
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public IReadOnlyList<string> Lines => _lines.ToArray();

    public string Errors => string.Join(Environment.NewLine, _errors);

    /// <summary>Waits for the child's "ready" (or "locked") line; fails the test with the child's stderr when it dies first.</summary>
    public void WaitReady(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!_ready.Wait(TimeSpan.FromMilliseconds(20)))
        {
            if (_process.HasExited)
            {
                _process.WaitForExit();
                if (_ready.IsSet)
                {
                    return;
                }

                Assert.Fail($"The crash child exited with {_process.ExitCode} before it was ready: {Errors}");
            }

            Assert.True(clock.Elapsed < timeout, $"The crash child was not ready within {timeout}: {Errors}");
        }
    }

    /// <summary>SIGKILL (Process.Kill on Unix), then waits until its output is drained.</summary>
    public void KillHard()
    {
        try
        {
            _process.Kill(entireProcessTree: false);
        }
        catch (InvalidOperationException)
        {
            // already exited
        }

        _process.WaitForExit();
    }

    /// <summary>Closes the child's stdin (a --hold-lock child then exits) and waits for it.</summary>
    public void CloseInputAndWait(TimeSpan timeout)
    {
        _process.StandardInput.Close();
        Assert.True(_process.WaitForExit(timeout), "The crash child did not exit after its stdin closed.");
        _process.WaitForExit();
    }

    /// <summary>Waits, at most <paramref name="timeout"/>, for a child that ends by itself (for example --contend).</summary>
    public void WaitForExit(TimeSpan timeout)
    {
        Assert.True(_process.WaitForExit(timeout), $"The crash child did not exit within {timeout}: {Errors}");
        _process.WaitForExit(); // drains the redirected output
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            KillHard();
        }

        _process.Dispose();
        _ready.Dispose();
    }
}
