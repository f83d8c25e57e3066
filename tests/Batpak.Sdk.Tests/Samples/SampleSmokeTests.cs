using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace Batpak.Tests.Samples;

/// <summary>Runs every sample's built dll as a user would and checks what it prints.</summary>
public class SampleSmokeTests
{
    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string[] AssertSucceeded((int ExitCode, string Output, string Error) run)
    {
        Assert.True(run.ExitCode == 0, $"exit code {run.ExitCode}\nstdout:\n{run.Output}\nstderr:\n{run.Error}");
        Assert.True(run.Error.Length == 0, "stderr:\n" + run.Error);
        return Lines(run.Output);
    }

    [Fact]
    public async Task Quickstart_RunsToCompletion()
    {
        using var dir = new TempDirectory();
        string[] lines = AssertSucceeded(await SampleProcess.RunSampleAsync("Quickstart", dir.Combine("data")));

        Assert.Contains("#0 opened for Alice Liddell", lines);
        Assert.Contains("Balance: 125.50", lines);
        Assert.Contains("Hash chain: valid (3 events)", lines);
        Assert.Contains(lines, l => l.StartsWith("Reopened: 3 events, 1 segment(s)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EventSourcedCounter_RunsToCompletion()
    {
        string[] lines = AssertSucceeded(await SampleProcess.RunSampleAsync("EventSourcedCounter"));

        Assert.Equal(
            [
                "counter:clicks = 6 after 4 events",
                "stale reset refused: expected 0, actual 3",
                "increments total 10",
                "reopened: counter:clicks = 6 after 4 events",
            ],
            lines);
    }

    [Fact]
    public async Task ChatRoom_RunsToCompletion()
    {
        string[] lines = AssertSucceeded(await SampleProcess.RunSampleAsync("ChatRoom"));

        Assert.Equal(
            [
                "bot saw 3 messages, dropped 0",
                "[0] ann: hello",
                "[1] cy: hi ann",
                "[2] bob: where is the format spec?",
                "[3] bot: @bob: try the docs folder (in reply to \"where is the format spec?\")",
                "resumed transcript: 1 new event(s)",
                "[4] bob: found it, thanks",
            ],
            lines);
    }

    [Fact]
    public async Task PolicyGates_RunsToCompletion()
    {
        string[] lines = AssertSucceeded(await SampleProcess.RunSampleAsync("PolicyGates"));

        Assert.Equal(
            [
                "GateSet \"transfers\" (EvaluateAll): signed-in, not-frozen, funds",
                "committed #0: 40 alice -> bob, gates passed: signed-in, not-frozen, funds",
                "denied by 3 gates:",
                "gate \"signed-in\" denied ANONYMOUS: Sign in to transfer money.",
                "gate \"not-frozen\" denied FROZEN: The account is frozen.",
                "gate \"funds\" denied INSUFFICIENT_FUNDS: The balance does not cover the transfer. {amount=500, balance=60}",
                "audit: #1 250 alice -> treasury bypassed: court order 2026-117 (ops: dana)",
                "events in account:alice: 2",
            ],
            lines);
    }

    [Fact]
    public async Task OrdersApi_ServesPostAndGet_OnALoopbackPort()
    {
        using var dir = new TempDirectory();
        int port = FreeLoopbackPort();
        string dll = SampleProcess.SampleDll("OrdersApi");
        ProcessStartInfo info = SampleProcess.StartInfo("dotnet", [dll, "--urls", $"http://127.0.0.1:{port}", "--Batpak:DataDirectory=" + dir.Combine("data")], Path.GetDirectoryName(dll));
        using Process server = Process.Start(info)!;
        Task<string> output = server.StandardOutput.ReadToEndAsync();
        Task<string> error = server.StandardError.ReadToEndAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            await WaitUntilServing(http, server, output, error);

            HttpResponseMessage created = await http.PostAsJsonAsync("/orders", new { customer = "ann", total = 42.5m });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            using JsonDocument placed = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
            string id = placed.RootElement.GetProperty("id").GetString()!;
            Assert.Equal($"/orders/{id}", created.Headers.Location?.OriginalString);

            HttpResponseMessage fetched = await http.GetAsync($"/orders/{id}");
            Assert.Equal(HttpStatusCode.OK, fetched.StatusCode);
            using JsonDocument order = JsonDocument.Parse(await fetched.Content.ReadAsStringAsync());
            Assert.Equal("ann", order.RootElement.GetProperty("customer").GetString());
            Assert.Equal(42.5m, order.RootElement.GetProperty("total").GetDecimal());
            Assert.Equal("placed", order.RootElement.GetProperty("status").GetString());

            HttpResponseMessage shipped = await http.PostAsJsonAsync($"/orders/{id}/ship", new { carrier = "dhl" });
            Assert.Equal(HttpStatusCode.OK, shipped.StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/orders/{Guid.NewGuid():N}")).StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsJsonAsync("/orders", new { customer = "", total = 1m })).StatusCode);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }

        Assert.True(Directory.EnumerateFiles(dir.Combine("data"), "*.fbat").Any(), "the configured data directory was used");
    }

    private static async Task WaitUntilServing(HttpClient http, Process server, Task<string> output, Task<string> error)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (server.HasExited)
            {
                Assert.Fail($"OrdersApi exited with {server.ExitCode} before serving.\nstdout:\n{await output}\nstderr:\n{await error}");
            }

            try
            {
                HttpResponseMessage probe = await http.GetAsync($"/orders/{Guid.Empty:N}");
                if (probe.StatusCode == HttpStatusCode.NotFound)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            if (waited.Elapsed > TimeSpan.FromSeconds(60))
            {
                Assert.Fail("OrdersApi did not answer within 60 s.");
            }

            await Task.Delay(100);
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
