// Owns what the index keeps per idempotency key (receipt, entity, kind, fingerprint) and the check a repeated key
// must pass. StoreIndex holds the records; the writer checks a keyed append against them (and against the keys
// pending in its own batch).
namespace Batpak.Storage;

/// <summary>What the index remembers about an idempotency key: the receipt a repeat gets, and what a repeat must match.</summary>
/// <param name="Receipt">The receipt of the event that holds the key.</param>
/// <param name="Entity">That event's entity.</param>
/// <param name="Kind">That event's kind.</param>
/// <param name="Fingerprint"><see cref="IdempotencyFingerprint.Compute"/> of that event.</param>
internal readonly record struct IdempotencyRecord(AppendReceipt Receipt, string Entity, ushort Kind, ulong Fingerprint)
{
    /// <summary>Null when an append of <paramref name="entity"/>, <paramref name="kind"/> and <paramref name="fingerprint"/> repeats this event; else the conflict to throw.</summary>
    public IdempotencyConflictException? Check(string key, string entity, ushort kind, ulong fingerprint)
    {
        bool sameEntity = string.Equals(entity, Entity, StringComparison.Ordinal);
        if (sameEntity && kind == Kind && fingerprint == Fingerprint)
        {
            return null;
        }

        return new IdempotencyConflictException(key, Receipt.EventId, Entity, EventKind.FromValue(Kind), entity, EventKind.FromValue(kind), payloadDiffers: sameEntity && kind == Kind);
    }
}
