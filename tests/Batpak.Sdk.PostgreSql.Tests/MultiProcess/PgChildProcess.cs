// Starts tests/Batpak.PgChild as another process on the same store, collects its stdout lines, writes its stdin, and
// kills it with SIGKILL. Used by the MultiProcess tests only.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;

namespace Batpak.PostgreSql.Tests.MultiProcess;

/// <summary>One child instance of the store (see tests/Batpak.PgChild/Program.cs for its roles and lines).</summary>
internal sealed class PgChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _errors = new();

    private PgChildProcess(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ChildPath);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _lines.Enqueue(e.Data);
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

    /// <summary>Starts a child in <paramref name="role"/> on <paramref name="schema"/> of the test server.</summary>
    public static PgChildProcess Start(string role, string schema, params string[] more) =>
        new([role, PgServer.ConnectionString, schema, .. more]);

    private static string ChildPath
    {
        get
        {
            string path = typeof(PgChildProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .Single(a => a.Key == "PgChildPath").Value!;
            Assert.True(File.Exists(path), $"The PostgreSQL child is not built at {path}; build the test project (it builds the child through a ProjectReference).");
            return Path.GetFullPath(path);
        }
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public IReadOnlyList<string> Lines => _lines.ToArray();

    public string Errors => string.Join(Environment.NewLine, _errors);

    /// <summary>The lines that start with <paramref name="prefix"/> and a space, without it.</summary>
    public IEnumerable<string> Facts(string prefix) => Lines.Where(l => l.StartsWith(prefix + " ", StringComparison.Ordinal)).Select(l => l[(prefix.Length + 1)..]);

    public bool Said(string line) => Lines.Contains(line);

    /// <summary>Waits until the child printed <paramref name="line"/>; fails the test when it exits first or <paramref name="bound"/> passes.</summary>
    public async Task WaitForAsync(string line, TimeSpan bound)
    {
        var clock = Stopwatch.StartNew();
        while (!Said(line))
        {
            Assert.False(_process.HasExited && !Said(line), $"The child exited (code {(_process.HasExited ? _process.ExitCode : 0)}) before saying \"{line}\": {Errors}");
            Assert.True(clock.Elapsed < bound, $"The child did not say \"{line}\" within {bound.TotalSeconds} s. It said: {string.Join(" | ", Lines.TakeLast(5))}; errors: {Errors}");
            await Task.Delay(10);
        }
    }

    public void WriteLine(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>Waits for a normal exit within <paramref name="bound"/> and returns its code.</summary>
    public async Task<int> ExitAsync(TimeSpan bound)
    {
        using var timeout = new CancellationTokenSource(bound);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: the process gets no chance to close anything.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
