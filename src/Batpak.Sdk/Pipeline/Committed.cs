namespace Batpak;

/// <summary>
/// A committed proposal: the spent <see cref="Receipt{T}"/> it was committed with and the store's
/// <see cref="AppendReceipt"/>. Only a <see cref="Pipeline{TContext}"/> creates one.
/// </summary>
/// <typeparam name="T">The payload type.</typeparam>
public sealed class Committed<T>
{
    internal Committed(Receipt<T> receipt, AppendReceipt append)
    {
        Receipt = receipt;
        Append = append;
    }

    /// <summary>The receipt, now in <see cref="ReceiptState.Committed"/>. For a bypass it carries the reason and no passed gates.</summary>
    public Receipt<T> Receipt { get; }

    /// <summary>What the store returned: event id, sequences, position, hash.</summary>
    public AppendReceipt Append { get; }

    /// <summary>The committed proposal; shorthand for <c>Receipt.Proposal</c>.</summary>
    public Proposal<T> Proposal => Receipt.Proposal;

    /// <summary>The new event's id; shorthand for <c>Append.EventId</c>.</summary>
    public EventId EventId => Append.EventId;

    /// <summary>Returns a one-line description.</summary>
    public override string ToString() =>
        $"Committed {Receipt.Proposal} as {Append.EventId} (global #{Append.GlobalSequence}, entity seq {Append.EntitySequence})"
        + (Receipt.IsBypass ? $", gates bypassed: {Receipt.BypassReason}" : string.Empty);
}
