// samples/OrdersApi on PostgreSQL, as an app behind a load balancer runs it: two processes on one database. Orders
// posted to either are read back from both, and a change made through one is seen by the other.
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Reflection;
using System.Text.Json;
using Npgsql;

namespace Batpak.PostgreSql.Tests.Samples;

public sealed class OrdersApiTwoInstancesTests : IDisposable
{
    private readonly string _database = "orders_" + Guid.NewGuid().ToString("N");
    private bool _created;

    public void Dispose()
    {
        if (_created)
        {
            PgServer.Execute($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)");
        }
    }

    private static string SampleDll
    {
        get
        {
            string path = typeof(OrdersApiTwoInstancesTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "OrdersApiPath").Value!;
            Assert.True(File.Exists(path), $"samples/OrdersApi is not built at {path}; build the test project (it builds the sample through a ProjectReference).");
            return Path.GetFullPath(path);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Process StartInstance(string connectionString, int port)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(SampleDll)! };
        foreach (string argument in new[] { SampleDll, "--urls", $"http://127.0.0.1:{port}", "--Batpak:Engine=PostgreSql", "--ConnectionStrings:Batpak=" + connectionString })
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitUntilServing(HttpClient http, Process server)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(server.HasExited, $"OrdersApi exited with code {(server.HasExited ? server.ExitCode : 0)} before serving");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "OrdersApi did not serve within 60 s");
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

            await Task.Delay(100);
        }
    }

    [SkippableFact]
    public async Task TwoOrdersApiProcessesOnOneDatabase_EachReadsEveryOrderPostedToEither_AndSeesTheOthersShipment()
    {
        PgServer.Require();
        PgServer.Execute($"CREATE DATABASE \"{_database}\"");
        _created = true;
        string connectionString = new NpgsqlConnectionStringBuilder(PgServer.ConnectionString) { Database = _database }.ConnectionString;

        // The first instance creates the schema; the second opens it.
        int[] ports = [FreePort(), FreePort()];
        using Process first = StartInstance(connectionString, ports[0]);
        using Process second = StartInstance(connectionString, ports[1]);
        try
        {
            HttpClient[] clients = [.. ports.Select(p => new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{p}"), Timeout = TimeSpan.FromSeconds(20) })];
            await WaitUntilServing(clients[0], first);
            await WaitUntilServing(clients[1], second);

            var ids = new List<string>();
            for (int i = 0; i < 10; i++)
            {
                HttpResponseMessage created = await clients[i % 2].PostAsJsonAsync("/orders", new { customer = $"c{i}", total = 10m + i });
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
                ids.Add(JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!);
            }

            foreach (HttpClient client in clients)
            {
                for (int i = 0; i < ids.Count; i++)
                {
                    HttpResponseMessage fetched = await client.GetAsync($"/orders/{ids[i]}");
                    Assert.Equal(HttpStatusCode.OK, fetched.StatusCode);
                    JsonElement view = JsonDocument.Parse(await fetched.Content.ReadAsStringAsync()).RootElement;
                    Assert.Equal($"c{i}", view.GetProperty("customer").GetString());
                    Assert.Equal("placed", view.GetProperty("status").GetString());
                }
            }

            // Shipped through the second instance, an order the first one took; the first sees it, and a second
            // shipment through the first is refused as the sample refuses it.
            Assert.Equal(HttpStatusCode.OK, (await clients[1].PostAsJsonAsync($"/orders/{ids[0]}/ship", new { carrier = "dhl" })).StatusCode);
            JsonElement shipped = JsonDocument.Parse(await (await clients[0].GetAsync($"/orders/{ids[0]}")).Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("shipped", shipped.GetProperty("status").GetString());
            Assert.Equal(HttpStatusCode.Conflict, (await clients[0].PostAsJsonAsync($"/orders/{ids[0]}/ship", new { carrier = "ups" })).StatusCode);
        }
        finally
        {
            foreach (Process process in new[] { first, second })
            {
                if (!process.HasExited)
                {
                    process.Kill();
                    process.WaitForExit(10_000);
                }
            }
        }
    }
}
