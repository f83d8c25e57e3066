// The fixture's rule for a missing or unreachable server: fail under CI, skip elsewhere, run when it answers.
namespace Batpak.PostgreSql.Tests;

public sealed class PgServerRuleTests
{
    [Theory]
    [InlineData("Host=127.0.0.1;Port=5432", true, true, ServerVerdict.Run)]
    [InlineData("Host=127.0.0.1;Port=5432", true, false, ServerVerdict.Run)]
    [InlineData(null, false, true, ServerVerdict.Fail)]
    [InlineData("", false, true, ServerVerdict.Fail)]
    [InlineData("Host=127.0.0.1;Port=1", false, true, ServerVerdict.Fail)]
    [InlineData(null, false, false, ServerVerdict.Skip)]
    [InlineData("Host=127.0.0.1;Port=1", false, false, ServerVerdict.Skip)]
    [InlineData(null, true, false, ServerVerdict.Skip)] // "reachable" means nothing without a connection string
    public void Decide_RunsOnlyWithAReachableServer_FailsUnderCiOtherwise_AndSkipsElsewhere(string? connectionString, bool reachable, bool ci, ServerVerdict expected) =>
        Assert.Equal(expected, PgServer.Decide(connectionString, reachable, ci));
}
