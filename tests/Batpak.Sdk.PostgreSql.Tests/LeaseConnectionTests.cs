using Batpak.PostgreSql.Engine;
using Npgsql;

namespace Batpak.PostgreSql.Tests;

public class LeaseConnectionTests
{
    [Fact]
    public void ALeaseSession_IsUnpooled_ChecksItsClient_AndKeepsTheApplicationsServerOptions()
    {
        var lease = new NpgsqlConnectionStringBuilder(PostgresEngine.LeaseConnectionString("Host=db;Username=app;Options=-c search_path=orders"));
        Assert.False(lease.Pooling);
        Assert.Equal(5, lease.KeepAlive);
        Assert.StartsWith("-c search_path=orders ", lease.Options, StringComparison.Ordinal);
        Assert.Contains("-c client_connection_check_interval=1000", lease.Options, StringComparison.Ordinal);
        Assert.Contains("-c tcp_keepalives_count=3", lease.Options, StringComparison.Ordinal);
    }

    [Fact]
    public void ALeaseSession_WithoutApplicationOptions_HasOnlyTheChecks()
    {
        var lease = new NpgsqlConnectionStringBuilder(PostgresEngine.LeaseConnectionString("Host=db;Username=app"));
        Assert.StartsWith("-c client_connection_check_interval=1000", lease.Options, StringComparison.Ordinal);
    }
}
