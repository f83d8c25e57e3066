using Batpak.Contract;
using Batpak.Engine;

namespace Batpak.Tests.Contract;

public class FacadeForwardingTests
{
    [Fact]
    public void TheRuleSeesTheDefaultMembers_TheSpanAppendBatch_TryLocate_RequiresGatePermit_AcquireCursorLeaseAsync_BoundedStream()
    {
        Assert.Equal(
            ["AcquireCursorLeaseAsync", "AppendBatch", "RequiresGatePermit", "Stream", "TryLocate"],
            FacadeForwarding.DefaultMembers().Select(m => m.Name).Order());
    }

    [Theory]
    [InlineData(typeof(EventStore))]
    [InlineData(typeof(StoreCore))]
    public void EmbeddedFacadeAndCore_ImplementEveryDefaultMemberOfIEventStore(Type facade) =>
        FacadeForwarding.AssertImplementsEveryDefaultMember(facade);

    [Fact]
    public void AStoreThatForwardsOnlyThePublicMembers_FailsTheRule()
    {
        var failure = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => FacadeForwarding.AssertImplementsEveryDefaultMember(typeof(ForwardingEventStore)));
        Assert.Contains("ForwardingEventStore does not implement IEventStore.", failure.Message, StringComparison.Ordinal);
    }
}
