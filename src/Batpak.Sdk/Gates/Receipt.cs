using System.Globalization;

namespace Batpak;

/// <summary>Where a <see cref="Receipt{T}"/> is in its one-shot life.</summary>
public enum ReceiptState
{
    /// <summary>Issued and not yet committed.</summary>
    Issued = 0,

    /// <summary>A commit is in progress on some thread.</summary>
    Committing = 1,

    /// <summary>Committed: its event is in the store.</summary>
    Committed = 2,

    /// <summary>A commit was attempted and the append failed; the receipt is spent. Evaluate the proposal again.</summary>
    Failed = 3,
}

/// <summary>
/// Proof that every gate of a <see cref="GateSet{TContext}"/> passed a <see cref="Proposal{T}"/>: the only thing a
/// <see cref="Pipeline{TContext}"/> commits (besides an audited <c>Bypass</c>). Commits at most once.
/// </summary>
/// <remarks>
/// <para>
/// Unforgeable: the type is sealed and its only constructor is internal, so code outside Batpak.Sdk cannot create
/// one, derive from one or fill one with an object initializer (the compile-fail tests prove each with the exact
/// compiler errors). A receipt also carries a reference to the gate set that issued it; a pipeline accepts only
/// receipts from its own set, so a receipt conjured by reflection (no issuer) or issued by another set is refused.
/// </para>
/// <para>
/// One-shot: the first commit moves <see cref="State"/> from <see cref="ReceiptState.Issued"/> with an
/// <see cref="Interlocked.CompareExchange(ref int, int, int)"/>; every later or concurrent attempt throws
/// <see cref="InvalidOperationException"/>, so the event is appended at most once however many threads race.
/// </para>
/// </remarks>
/// <typeparam name="T">The proposed payload type.</typeparam>
public sealed class Receipt<T>
{
    private int _state; // a ReceiptState; changed only by Interlocked / Volatile

    internal Receipt(Proposal<T> proposal, object issuer, long gateSetId, string gateSetName, IReadOnlyList<string> gatesPassed, string? bypassReason)
    {
        Proposal = proposal;
        Issuer = issuer;
        GateSetId = gateSetId;
        GateSetName = gateSetName;
        GatesPassed = gatesPassed;
        BypassReason = bypassReason;
    }

    /// <summary>The proposal the gates passed.</summary>
    public Proposal<T> Proposal { get; }

    /// <summary>The <see cref="GateSet{TContext}.Id"/> of the issuing set.</summary>
    public long GateSetId { get; }

    /// <summary>The <see cref="GateSet{TContext}.Name"/> of the issuing set.</summary>
    public string GateSetName { get; }

    /// <summary>The names of the gates that passed, in evaluation order (all of the set's gates; none for a bypass).</summary>
    public IReadOnlyList<string> GatesPassed { get; }

    /// <summary>The recorded reason when this receipt came from <c>Bypass</c>, else <see langword="null"/>.</summary>
    public string? BypassReason { get; }

    /// <summary><see langword="true"/> when the gates were skipped through <c>Bypass</c>.</summary>
    public bool IsBypass => BypassReason is not null;

    /// <summary>Where the receipt is in its one-shot life.</summary>
    public ReceiptState State => (ReceiptState)Volatile.Read(ref _state);

    /// <summary>The issuing gate set; a pipeline compares it by reference. Null only for a receipt made without its constructor.</summary>
    internal object? Issuer { get; }

    /// <summary>Returns a one-line description.</summary>
    public override string ToString() =>
        $"Receipt for {Proposal} from gate set \"{GateSetName}\" (#{GateSetId.ToString(CultureInfo.InvariantCulture)}), {State}";

    /// <summary>Claims the receipt for one commit. Exactly one caller ever succeeds.</summary>
    /// <exception cref="InvalidOperationException">The receipt is committing, committed or spent.</exception>
    internal void BeginCommit()
    {
        int previous = Interlocked.CompareExchange(ref _state, (int)ReceiptState.Committing, (int)ReceiptState.Issued);
        if (previous != (int)ReceiptState.Issued)
        {
            ThrowNotIssued((ReceiptState)previous);
        }
    }

    /// <summary>Fails fast, before any encoding work, when the receipt is plainly spent; <see cref="BeginCommit"/> is still the arbiter.</summary>
    internal void EnsureIssued()
    {
        ReceiptState state = State;
        if (state != ReceiptState.Issued)
        {
            ThrowNotIssued(state);
        }
    }

    /// <summary>Records how the claimed commit ended. Called once, by the thread that won <see cref="BeginCommit"/>.</summary>
    internal void EndCommit(bool appended) =>
        Volatile.Write(ref _state, (int)(appended ? ReceiptState.Committed : ReceiptState.Failed));

    private void ThrowNotIssued(ReceiptState state) => throw new InvalidOperationException(state switch
    {
        ReceiptState.Committed => $"The receipt for {Proposal} was already committed; a receipt commits exactly once. Evaluate the proposal again to append another event.",
        ReceiptState.Committing => $"The receipt for {Proposal} is being committed by another caller; a receipt commits exactly once.",
        _ => $"The receipt for {Proposal} is spent: an earlier commit of it failed. Evaluate the proposal again for a new receipt.",
    });
}
