// Owns the embedded engine's side of idempotency keys: the pinned fingerprint, keys registered without their event
// (what recovery does after compaction), and keys rebuilt from sealed and active segments and batches on reopen.
// What every engine must do with a repeated or conflicting key is in the contract (EventStoreContract.Idempotency.cs).
using Batpak.Storage;

namespace Batpak.Tests.Store;

public sealed class IdempotencyConflictTests
{
    private static readonly Coordinate s_alice = new("acct:alice", "bank");
    private static readonly Coordinate s_bob = new("acct:bob", "bank");

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
