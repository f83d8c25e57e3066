// Owns the tests of idempotency-key conflicts: a key repeated with the same entity, kind and payload returns the
// original receipt; repeated with anything else it throws IdempotencyConflictException naming the key and what
// differs, for every append kind, inside one batch, against a concurrent append, and across a reopen.
using Batpak.Storage;
using Xunit.Abstractions;

namespace Batpak.Tests.Store;

public sealed class IdempotencyConflictTests(ITestOutputHelper output)
{
    private static readonly Coordinate s_alice = new("acct:alice", "bank");
    private static readonly Coordinate s_bob = new("acct:bob", "bank");
    private static readonly AppendOptions s_key = new() { IdempotencyKey = "payment-42" };

    [Fact]
    public void Append_KeyReusedWithAnotherPayloadKindOrEntity_ThrowsConflictNamingTheKeyAndTheDifference()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        AppendReceipt first = store.Append(s_alice, TestEvents.Created, TestEvents.Payload(1), s_key);
        Assert.Equal(first, store.Append(s_alice, TestEvents.Created, TestEvents.Payload(1), s_key));

        var payload = Assert.Throws<IdempotencyConflictException>(() => store.Append(s_alice, TestEvents.Created, TestEvents.Payload(2), s_key));
        output.WriteLine(payload.Message);
        Assert.Equal("payment-42", payload.IdempotencyKey);
        Assert.Equal(first.EventId, payload.OriginalEventId);
        Assert.True(payload.PayloadDiffers);
        Assert.Equal(s_alice.Entity, payload.Entity);
        Assert.Equal(s_alice.Entity, payload.OriginalEntity);
        Assert.Contains("payment-42", payload.Message, StringComparison.Ordinal);
        Assert.Contains("payload", payload.Message, StringComparison.Ordinal);

        var kind = Assert.Throws<IdempotencyConflictException>(() => store.Append(s_alice, TestEvents.Updated, TestEvents.Payload(1), s_key));
        Assert.Equal(TestEvents.Created, kind.OriginalKind);
        Assert.Equal(TestEvents.Updated, kind.Kind);
        Assert.Contains(TestEvents.Updated.ToString(), kind.Message, StringComparison.Ordinal);

        var entity = Assert.Throws<IdempotencyConflictException>(() => store.Append(s_bob, TestEvents.Created, TestEvents.Payload(1), s_key));
        Assert.Equal(s_alice.Entity, entity.OriginalEntity);
        Assert.Equal(s_bob.Entity, entity.Entity);
        Assert.Contains(s_bob.Entity, entity.Message, StringComparison.Ordinal);

        Assert.Equal(1, store.GetStats().EventCount);
        Assert.Equal(-1, store.GetLastSequence(s_bob.Entity));
    }

    [Fact]
    public async Task AppendAsync_KeyReusedWithAnotherPayload_ThrowsConflict_SameEventReturnsTheOriginal()
    {
        using var dir = new TempDirectory();
        await using EventStore store = TestEvents.Open(dir.Path);
        AppendReceipt first = await store.AppendAsync(s_alice, TestEvents.Created, TestEvents.Payload(1), s_key);
        Assert.Equal(first, await store.AppendAsync(s_alice, TestEvents.Created, TestEvents.Payload(1), s_key));
        Assert.Equal(first, store.Append(s_alice, TestEvents.Created, TestEvents.Payload(1), s_key));
        var ex = await Assert.ThrowsAsync<IdempotencyConflictException>(async () => await store.AppendAsync(s_alice, TestEvents.Created, TestEvents.Payload(2), s_key));
        Assert.True(ex.PayloadDiffers);
        Assert.Equal(1, store.GetStats().EventCount);
    }

    [Fact]
    public void AppendBatch_KeyOfAStoredEventWithAnotherPayload_ThrowsConflict_AndAppendsNoneOfTheBatch()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        AppendReceipt first = store.Append(s_alice, TestEvents.Created, TestEvents.Payload(1), s_key);

        EventData[] conflicting = [new(s_bob, TestEvents.Created, TestEvents.Payload(7)), new(s_alice, TestEvents.Created, TestEvents.Payload(2), s_key)];
        var ex = Assert.Throws<IdempotencyConflictException>(() => store.AppendBatch(conflicting));
        Assert.Equal("payment-42", ex.IdempotencyKey);
        Assert.Equal(1, store.GetStats().EventCount);

        IReadOnlyList<AppendReceipt> repeated = store.AppendBatch([new(s_alice, TestEvents.Created, TestEvents.Payload(1), s_key), new(s_bob, TestEvents.Created, TestEvents.Payload(7))]);
        Assert.Equal(first, repeated[0]);
        Assert.Equal(0, repeated[1].EntitySequence);
        Assert.Equal(2, store.GetStats().EventCount);
    }

    [Fact]
    public void AppendBatch_TwoEventsWithOneKey_SameEventIsStoredOnce_DifferentEventsConflict()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var key = new AppendOptions { IdempotencyKey = "in-batch" };
        IReadOnlyList<AppendReceipt> same = store.AppendBatch([new(s_alice, TestEvents.Created, TestEvents.Payload(1), key), new(s_alice, TestEvents.Created, TestEvents.Payload(1), key)]);
        Assert.Equal(same[0], same[1]);
        Assert.Equal(1, store.GetStats().EventCount);

        var other = new AppendOptions { IdempotencyKey = "in-batch-2" };
        var ex = Assert.Throws<IdempotencyConflictException>(() => store.AppendBatch(
            [new(s_bob, TestEvents.Created, TestEvents.Payload(1), other), new(s_bob, TestEvents.Created, TestEvents.Payload(2), other)]));
        Assert.Equal("in-batch-2", ex.IdempotencyKey);
        Assert.True(ex.PayloadDiffers);
        Assert.Equal(1, store.GetStats().EventCount);
        Assert.Equal(-1, store.GetLastSequence(s_bob.Entity));
    }

    [Fact]
    public async Task AppendAsync_ConcurrentAppendsOfOneKeyWithDifferentPayloads_OneIsStored_TheOthersConflict()
    {
        using var dir = new TempDirectory();
        await using EventStore store = TestEvents.Open(dir.Path);
        Task<AppendReceipt>[] racing = Enumerable.Range(0, 16)
            .Select(i => store.AppendAsync(s_alice, TestEvents.Created, TestEvents.Payload(i), s_key).AsTask()).ToArray();
        await Task.WhenAny(Task.WhenAll(racing), Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.All(racing, t => Assert.True(t.IsCompleted, "an append was never answered"));
        Assert.Equal(1, racing.Count(t => t.IsCompletedSuccessfully));
        Assert.All(racing.Where(t => !t.IsCompletedSuccessfully), t => Assert.IsType<IdempotencyConflictException>(t.Exception!.InnerException));
        Assert.Equal(1, store.GetStats().EventCount);
        AppendReceipt stored = await racing.Single(t => t.IsCompletedSuccessfully);
        Assert.Equal(stored, store.Append(s_alice, TestEvents.Created, store.Get(stored.EventId).Payload.Span, s_key));
    }

    [Fact]
    public void IdempotencyFingerprint_IsTheDocumentedHash_AndSeparatesEntityKindAndPayload()
    {
        // XxHash64(UTF-8 entity, seed kind), then XxHash64(payload, seed that hash): pinned, as it may be persisted.
        Assert.Equal(0xCE50FAA62AA7A442UL, IdempotencyFingerprint.Compute("acct:alice", 0x1001, "payload-1"u8));
        ulong fingerprint = IdempotencyFingerprint.Compute(s_alice.Entity, TestEvents.Created.Value, TestEvents.Payload(1));
        Assert.NotEqual(fingerprint, IdempotencyFingerprint.Compute(s_bob.Entity, TestEvents.Created.Value, TestEvents.Payload(1)));
        Assert.NotEqual(fingerprint, IdempotencyFingerprint.Compute(s_alice.Entity, TestEvents.Updated.Value, TestEvents.Payload(1)));
        Assert.NotEqual(fingerprint, IdempotencyFingerprint.Compute(s_alice.Entity, TestEvents.Created.Value, TestEvents.Payload(2)));
        Assert.Equal(fingerprint, IdempotencyFingerprint.Compute(new string(s_alice.Entity.AsSpan()), TestEvents.Created.Value, TestEvents.Payload(1)));
        string longEntity = new('\u00e9', Coordinate.MaxLength); // past the stack buffer in UTF-8
        Assert.Equal(IdempotencyFingerprint.Compute(longEntity, 1, [1, 2]), IdempotencyFingerprint.Compute(longEntity, 1, [1, 2]));
    }

    [Fact]
    public void AddIdempotencyLocked_AKeyWithoutItsEvent_IsHonouredLikeAStoredOne()
    {
        // What recovery does for a key whose event compaction dropped: register receipt, entity, kind and fingerprint.
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        AppendReceipt kept = store.Append(s_alice, TestEvents.Created, TestEvents.Payload(1));
        lock (store.Index.SyncRoot)
        {
            store.Index.AddIdempotencyLocked("dropped", kept, s_alice.Entity, TestEvents.Created.Value, IdempotencyFingerprint.Compute(s_alice.Entity, TestEvents.Created.Value, TestEvents.Payload(9)));
        }

        var key = new AppendOptions { IdempotencyKey = "dropped" };
        Assert.Equal(kept, store.Append(s_alice, TestEvents.Created, TestEvents.Payload(9), key));
        Assert.Throws<IdempotencyConflictException>(() => store.Append(s_alice, TestEvents.Created, TestEvents.Payload(8), key));
        Assert.Equal(1, store.GetStats().EventCount);
    }

    [Fact]
    public void Reopen_KeysInSealedAndActiveSegmentsAndBatches_RepeatReturnsTheOriginal_OtherEventsConflict()
    {
        using var dir = new TempDirectory();
        void Small(BatpakOptions o) => o.SegmentMaxBytes = 4096;
        var originals = new List<(string Key, Coordinate Coordinate, byte[] Payload, AppendReceipt Receipt)>();
        using (EventStore store = TestEvents.Open(dir.Path, Small))
        {
            for (int i = 0; i < 60; i++)
            {
                string key = $"k{i}";
                byte[] payload = TestEvents.Payload(i).Concat(new byte[100]).ToArray();
                Coordinate c = i % 2 == 0 ? s_alice : s_bob;
                AppendReceipt receipt = i % 3 == 0
                    ? store.AppendBatch([new(c, TestEvents.Created, payload, new AppendOptions { IdempotencyKey = key }), new(c, TestEvents.Updated, new byte[3])])[0]
                    : store.Append(c, TestEvents.Created, payload, new AppendOptions { IdempotencyKey = key });
                originals.Add((key, c, payload, receipt));
            }

            Assert.True(store.GetStats().SegmentCount > 2, "the keys must span sealed segments too");
        }

        using EventStore reopened = TestEvents.Open(dir.Path, Small);
        long count = reopened.GetStats().EventCount;
        foreach ((string key, Coordinate c, byte[] payload, AppendReceipt receipt) in originals)
        {
            var options = new AppendOptions { IdempotencyKey = key };
            Assert.Equal(receipt, reopened.Append(c, TestEvents.Created, payload, options));
            var ex = Assert.Throws<IdempotencyConflictException>(() => reopened.Append(c, TestEvents.Created, payload.Append((byte)1).ToArray(), options));
            Assert.Equal(key, ex.IdempotencyKey);
            Assert.True(ex.PayloadDiffers);
            Assert.Throws<IdempotencyConflictException>(() => reopened.AppendBatch([new(c, TestEvents.Audit, payload, options)]));
        }

        Assert.Equal(count, reopened.GetStats().EventCount);
        using EventStore readOnly = EventStore.OpenReadOnly(dir.Path);
        Assert.Equal(count, readOnly.GetStats().EventCount);
    }
}
