using static Batpak.Contract.ContractEvents;

namespace Batpak.Contract;

// The contract of causal links: AppendReaction sets the causation and inherits the correlation, explicit
// correlation and causation options are stored, ReadAncestors follows causes up to its limit, and ReadCorrelated
// returns a whole causal tree in global order.
public abstract partial class EventStoreContract
{
    [SkippableFact]
    public void AppendReaction_SetsTheCauseAsCausation_InheritsTheCausesCorrelation_AndDepthGrowsByOne()
    {
        IEventStore store = OpenNew();
        AppendReceipt root = store.Append(Alice, Created, Payload(0));
        AppendReceipt child = store.AppendReaction(root.EventId, Bob, Updated, Payload(1));
        AppendReceipt grandchild = store.AppendReaction(child.EventId, Log, Audit, Payload(2), new AppendOptions { IdempotencyKey = "g" });

        EventHeader c = store.Get(child.EventId).Header;
        StoredEvent g = store.Get(grandchild.EventId);
        Assert.Equal((root.EventId, root.EventId, 1u), (c.CausationId, c.CorrelationId, c.Position.Depth));
        Assert.Equal((child.EventId, root.EventId, 2u), (g.Header.CausationId, g.Header.CorrelationId, g.Header.Position.Depth));
        Assert.Equal(("payload-2", Log, "g"), (Text(g), g.Coordinate, g.IdempotencyKey));
    }

    [SkippableFact]
    public void AppendReaction_CauseNotInTheStore_ThrowsEventNotFound_AndAppendsNothing()
    {
        IEventStore store = OpenNew();
        AppendReceipt root = store.Append(Alice, Created, Payload(0));
        var missing = new EventId(UInt128.MaxValue);

        Assert.Throws<EventNotFoundException>(() => store.AppendReaction(missing, Bob, Updated, Payload(1)));
        Assert.Throws<EventNotFoundException>(() => store.Append(Bob, Updated, Payload(1), new AppendOptions { CausationId = missing }));

        Assert.Equal([root.EventId], Ids(All(store)));
    }

    [SkippableFact]
    public void Append_WithCorrelationAndCausationOptions_StoresBothAsGiven()
    {
        IEventStore store = OpenNew();
        AppendReceipt root = store.Append(Alice, Created, Payload(0));
        AppendReceipt other = store.Append(Bob, Created, Payload(1));

        AppendReceipt correlated = store.Append(Log, Audit, Payload(2), new AppendOptions { CorrelationId = root.EventId });
        AppendReceipt caused = store.Append(Log, Audit, Payload(3), new AppendOptions { CausationId = other.EventId });

        EventHeader a = store.Get(correlated.EventId).Header;
        EventHeader b = store.Get(caused.EventId).Header;
        Assert.Equal((root.EventId, (EventId?)null), (a.CorrelationId, a.CausationId));
        Assert.Equal((other.EventId, other.EventId, 1u), (b.CausationId, b.CorrelationId, b.Position.Depth));
        Assert.Equal([root.EventId, correlated.EventId], Ids(store.ReadCorrelated(root.EventId)));
    }

    [SkippableFact]
    public void WalkAncestors_ReturnsTheEventThenEachCauseInTurn_AtMostLimitEvents()
    {
        IEventStore store = OpenNew();
        AppendReceipt root = store.Append(Alice, Created, Payload(0));
        AppendReceipt child = store.AppendReaction(root.EventId, Bob, Updated, Payload(1));
        AppendReceipt grandchild = store.AppendReaction(child.EventId, Log, Audit, Payload(2));
        store.AppendReaction(root.EventId, Log, Audit, Payload(3)); // a sibling: not an ancestor

        Assert.Equal([grandchild.EventId, child.EventId, root.EventId], Ids(store.ReadAncestors(grandchild.EventId)));
        Assert.Equal([grandchild.EventId, child.EventId], Ids(store.ReadAncestors(grandchild.EventId, limit: 2)));
        Assert.Equal([grandchild.EventId], Ids(store.ReadAncestors(grandchild.EventId, limit: 1)));
        Assert.Equal([root.EventId], Ids(store.ReadAncestors(root.EventId)));
    }

    [SkippableFact]
    public void WalkAncestors_ChainLongerThanTheDefaultLimit_Returns64Events()
    {
        IEventStore store = OpenNew();
        AppendReceipt last = store.Append(Alice, Created, Payload(0));
        for (int i = 1; i < 70; i++)
        {
            last = store.AppendReaction(last.EventId, Alice, Updated, Payload(i));
        }

        IReadOnlyList<StoredEvent> walked = store.ReadAncestors(last.EventId);

        Assert.Equal(64, walked.Count);
        Assert.Equal(Enumerable.Range(0, 64).Select(i => $"payload-{69 - i}"), walked.Select(Text));
        Assert.Equal(69u, walked[0].Header.Position.Depth);
    }

    [SkippableFact]
    public void WalkAncestors_IdNotInTheStore_ThrowsEventNotFound()
    {
        IEventStore store = OpenNew();
        store.Append(Alice, Created, Payload(0));

        Assert.Throws<EventNotFoundException>(() => store.ReadAncestors(new EventId(UInt128.MaxValue)));
    }

    [SkippableFact]
    public void ByCorrelation_ReturnsTheRootAndEverythingItCausedTransitively_InGlobalOrder_AndNothingElse()
    {
        IEventStore store = OpenNew();
        AppendReceipt root = store.Append(Alice, Created, Payload(0));
        AppendReceipt unrelated = store.Append(Alice, Updated, Payload(1));
        AppendReceipt child = store.AppendReaction(root.EventId, Bob, Updated, Payload(2));
        AppendReceipt unrelatedChild = store.AppendReaction(unrelated.EventId, Bob, Updated, Payload(3));
        AppendReceipt grandchild = store.AppendReaction(child.EventId, Log, Audit, Payload(4));
        AppendReceipt sibling = store.AppendReaction(root.EventId, Log, Audit, Payload(5));

        Assert.Equal([root.EventId, child.EventId, grandchild.EventId, sibling.EventId], Ids(store.ReadCorrelated(root.EventId)));
        Assert.Equal([unrelated.EventId, unrelatedChild.EventId], Ids(store.ReadCorrelated(unrelated.EventId)));
        Assert.Empty(store.ReadCorrelated(child.EventId)); // a child is not a correlation root
        Assert.Empty(store.ReadCorrelated(new EventId(UInt128.MaxValue)));
    }
}
