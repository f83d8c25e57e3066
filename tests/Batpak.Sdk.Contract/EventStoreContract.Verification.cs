using static Batpak.Contract.ContractEvents;

namespace Batpak.Contract;

// The contract of verification on an intact store: Verify and VerifyAll are valid and count what they checked,
// GetHead moves with appends only, and VerifyAll(anchor) accepts an earlier head of the same store and refuses a
// head the store cannot account for.
public abstract partial class EventStoreContract
{
    [SkippableFact]
    public void Verify_IntactEntity_IsValid_CountingItsEvents_AndAnEntityWithoutEventsIsValidWithNone()
    {
        IEventStore store = OpenNew();
        for (int i = 0; i < 6; i++)
        {
            store.Append(i % 3 == 0 ? Bob : Alice, Created, Payload(i));
        }

        Assert.Equal(new ChainVerification(true, 4, null), store.Verify(Alice.Entity));
        Assert.Equal(new ChainVerification(true, 2, null), store.Verify(Bob.Entity));
        Assert.Equal(new ChainVerification(true, 0, null), store.Verify("acct:nobody"));
    }

    [SkippableFact]
    public void VerifyAll_IntactStore_IsValid_CountingEveryEvent_AlsoWhenEmptyAndAfterReopen()
    {
        StoreSetup setup = NewSetup();
        IEventStore store = Open(setup);
        Assert.Equal(new ChainVerification(true, 0, null), store.VerifyAll());
        for (int i = 0; i < 12; i++)
        {
            store.Append(i % 2 == 0 ? Alice : Bob, Created, Payload(i));
        }

        store.AppendBatch([Data(Log, 12), Data(Alice, 13)]);
        Assert.Equal(new ChainVerification(true, 14, null), store.VerifyAll());

        store = Reopen(store, setup);
        Assert.Equal(new ChainVerification(true, 14, null), store.VerifyAll());
    }

    [SkippableFact]
    public void GetHead_CountsTheEvents_ItsDigestChangesWithEveryAppendButNotWithReads_AndSurvivesReopen()
    {
        StoreSetup setup = NewSetup();
        IEventStore store = Open(setup);
        StoreHead empty = store.GetHead();
        Assert.Equal(0, empty.NextGlobalSequence);

        store.Append(Alice, Created, Payload(0));
        StoreHead one = store.GetHead();
        store.Append(Alice, Created, Payload(0));
        StoreHead two = store.GetHead();
        _ = All(store);
        store.VerifyAll();

        Assert.Equal((1L, 2L), (one.NextGlobalSequence, two.NextGlobalSequence));
        Assert.Equal(3, new[] { empty.Digest, one.Digest, two.Digest }.Distinct().Count());
        Assert.Equal(two, store.GetHead());
        store = Reopen(store, setup);
        Assert.Equal(two, store.GetHead());
        Assert.Equal(empty, OpenNew().GetHead());
    }

    [SkippableFact]
    public void VerifyAll_WithAnAnchorTakenEarlier_IsValid_AfterMoreAppendsAndAfterReopen()
    {
        StoreSetup setup = NewSetup();
        IEventStore store = Open(setup);
        StoreHead atEmpty = store.GetHead();
        for (int i = 0; i < 5; i++)
        {
            store.Append(Alice, Created, Payload(i));
        }

        StoreHead anchor = store.GetHead();
        store.AppendBatch([Data(Bob, 5), Data(Alice, 6)]);

        ChainVerification verified = store.VerifyAll(anchor);
        Assert.True(verified.IsValid, verified.Failure);
        Assert.Equal(7, verified.EventsChecked);
        Assert.True(store.VerifyAll(atEmpty).IsValid);
        Assert.True(store.VerifyAll(store.GetHead()).IsValid);
        store = Reopen(store, setup);
        ChainVerification reopened = store.VerifyAll(anchor);
        Assert.True(reopened.IsValid, reopened.Failure);
    }

    [SkippableFact]
    public void VerifyAll_WithAnAnchorCoveringMoreEventsThanTheStoreHolds_IsInvalidAndSaysWhy()
    {
        IEventStore store = OpenNew();
        for (int i = 0; i < 3; i++)
        {
            store.Append(Alice, Created, Payload(i));
        }

        StoreHead head = store.GetHead();

        ChainVerification beyond = store.VerifyAll(head with { NextGlobalSequence = head.NextGlobalSequence + 1 });

        Assert.False(beyond.IsValid);
        Assert.False(string.IsNullOrEmpty(beyond.Failure));
    }

    [SkippableFact]
    public void VerifyAll_WithAnAnchorOfTheSameLengthFromAnotherStore_IsInvalidAndSaysWhy()
    {
        IEventStore store = OpenNew();
        IEventStore other = OpenNew();
        for (int i = 0; i < 3; i++)
        {
            store.Append(Alice, Created, Payload(i));
            other.Append(Alice, Created, Payload(i + 100));
        }

        StoreHead foreign = other.GetHead();
        ChainVerification verified = store.VerifyAll(foreign);

        Assert.Equal(store.GetHead().NextGlobalSequence, foreign.NextGlobalSequence);
        Assert.False(verified.IsValid);
        Assert.False(string.IsNullOrEmpty(verified.Failure));
        Assert.True(store.VerifyAll().IsValid);
    }

    [SkippableFact]
    public void VerifyAll_WithAnAnchorOfNegativeLength_ThrowsArgumentOutOfRange()
    {
        IEventStore store = OpenNew();

        Assert.Throws<ArgumentOutOfRangeException>(() => store.VerifyAll(new StoreHead(-1, EventHash.Zero)));
    }
}
