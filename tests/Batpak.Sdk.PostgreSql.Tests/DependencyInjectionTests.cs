// UsePostgreSql under a real Host: IEventStore resolves to the PostgreSQL store, opened at host start; a server
// that is down fails host start with one error naming host, port and schema.
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Batpak.PostgreSql.Tests;

public sealed class DependencyInjectionTests : IDisposable
{
    private readonly string _schema = PgServer.NewSchema();

    [SkippableFact]
    public async Task UsePostgreSql_UnderAHost_ResolvesIEventStoreToThePostgreSqlStore_WithoutADataDirectory()
    {
        PgServer.Require();
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddBatpak(o => o.DefaultScope = "shop").UsePostgreSql(PgServer.ConnectionString, o => o.Schema = _schema);
        using IHost host = builder.Build();
        await host.StartAsync().WaitAsync(TestData.Bound);
        IEventStore store = host.Services.GetRequiredService<IEventStore>();
        Assert.IsType<PostgresEventStore>(store);
        Assert.Equal("shop", store.DefaultScope);
        store.Append(TestData.Entity("di:1"), TestData.Created, TestData.Payload(1));
        Assert.Single(host.Services.GetRequiredService<PostgresEventStore>().Read(Region.All));
        Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredService<EventStore>());
        await host.StopAsync().WaitAsync(TestData.Bound);
    }

    [Fact]
    public async Task UsePostgreSql_WithTheServerDown_FailsHostStart_NamingHostPortAndSchema()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddBatpak().UsePostgreSql("Host=127.0.0.1;Port=1;Username=postgres;Timeout=3", o => o.Schema = "orders");
        using IHost host = builder.Build();
        var ex = await Assert.ThrowsAsync<StoreConnectionException>(() => host.StartAsync().WaitAsync(TestData.Bound));
        Assert.Contains("host 127.0.0.1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("port 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("schema \"orders\"", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UsePostgreSql_WithABadSchemaName_FailsHostStart_NamingTheSetting()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddBatpak().UsePostgreSql("Host=127.0.0.1;Port=1", o => o.Schema = "no spaces");
        using IHost host = builder.Build();
        var ex = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => host.StartAsync().WaitAsync(TestData.Bound));
        Assert.Contains("PostgresStoreOptions.Schema \"no spaces\"", ex.Message, StringComparison.Ordinal);
    }

    public void Dispose() => TestStores.DropSchema(_schema);
}
