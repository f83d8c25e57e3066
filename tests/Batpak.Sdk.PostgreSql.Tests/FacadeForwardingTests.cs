using Batpak.Contract;

namespace Batpak.PostgreSql.Tests;

public class FacadeForwardingTests
{
    [Fact]
    public void PostgresEventStore_ImplementsEveryDefaultMemberOfIEventStore() =>
        FacadeForwarding.AssertImplementsEveryDefaultMember(typeof(PostgresEventStore));
}
