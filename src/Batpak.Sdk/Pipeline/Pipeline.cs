using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace Batpak;

/// <summary>
/// The gated write path: <see cref="Proposal{T}"/> → <see cref="Evaluate{T}"/> → <see cref="Receipt{T}"/> →
/// <see cref="Commit{T}(Receipt{T}, IPayloadEncoder{T})"/> → <see cref="Committed{T}"/>; and the audited way round
/// the gates, <see cref="Bypass{T}(Proposal{T}, string, IPayloadEncoder{T})"/>.
/// </summary>
/// <remarks>
/// <para>
/// Thread-safe and stateless apart from its store and gate set: any number of threads may evaluate and commit at
/// once. A receipt commits at most once (see <see cref="Receipt{T}"/>); the store orders concurrent appends.
/// </para>
/// <para>
/// What gates prove is "at evaluation time". Between <c>Evaluate</c> and <c>Commit</c> the world may change; put an
/// <see cref="AppendOptions.ExpectedSequence"/> in the proposal when a gate's decision depends on the entity's
/// current state, so the store refuses the append if another event got in between.
/// </para>
/// <para>
/// Cost of a commit beyond the store's append: the encoder writes into a per-thread reused buffer (no byte array
/// per event; see <see cref="IPayloadEncoder{T}"/>), one <see cref="Committed{T}"/> allocation, two interlocked
/// operations on the receipt.
/// </para>
/// </remarks>
/// <typeparam name="TContext">What the gates inspect.</typeparam>
public sealed class Pipeline<TContext>
{
    private readonly IEventStore _store;
    private readonly GateSet<TContext> _gates;

    /// <summary>Creates a pipeline that appends to <paramref name="store"/> what <paramref name="gates"/> pass.</summary>
    /// <param name="store">The store commits append to.</param>
    /// <param name="gates">The gates every proposal must pass; the only issuer of receipts this pipeline commits.</param>
    /// <param name="defaultScope">The scope of typed events whose record has no <see cref="ScopeAttribute"/> member (see <see cref="Propose{TEvent}"/>); should match <see cref="BatpakOptions.DefaultScope"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="store"/> or <paramref name="gates"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="defaultScope"/> is not a valid scope.</exception>
    public Pipeline(IEventStore store, GateSet<TContext> gates, string defaultScope = "default")
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(gates);
        Coordinate.Validate(defaultScope, nameof(defaultScope));
        _store = store;
        _gates = gates;
        DefaultScope = defaultScope;
    }

    /// <summary>The store commits append to.</summary>
    public IEventStore Store => _store;

    /// <summary>The gates; their set issues every receipt this pipeline accepts.</summary>
    public GateSet<TContext> Gates => _gates;

    /// <summary>The scope given to typed events without a scope member.</summary>
    public string DefaultScope { get; }

    /// <summary>Proposes a typed event: its kind, and its coordinate built by the event with <see cref="DefaultScope"/>.</summary>
    /// <exception cref="ArgumentException">The event's coordinate or kind is invalid, or the options set an SDK-owned flag.</exception>
    public Proposal<TEvent> Propose<TEvent>(TEvent evt, AppendOptions? options = null)
        where TEvent : IBatpakEvent<TEvent> => Proposal.FromEvent(evt, DefaultScope, options);

    /// <summary>Runs the gates over <paramref name="context"/>; when all pass, returns a receipt for <paramref name="proposal"/>.</summary>
    /// <exception cref="GateDeniedException">A gate denied; lists every denial collected under the set's policy.</exception>
    public Receipt<T> Evaluate<T>(TContext context, Proposal<T> proposal) => _gates.Evaluate(context, proposal);

    /// <summary>Runs the gates; returns the receipt, or the denials without throwing.</summary>
    /// <param name="context">What the gates inspect.</param>
    /// <param name="proposal">What the caller wants to append.</param>
    /// <param name="receipt">The receipt when every gate passed, else <see langword="null"/>.</param>
    /// <param name="denials">The denials in gate order; empty on success.</param>
    /// <returns><see langword="true"/> when every gate passed.</returns>
    public bool TryEvaluate<T>(TContext context, Proposal<T> proposal, [NotNullWhen(true)] out Receipt<T>? receipt, out IReadOnlyList<Denial> denials) =>
        _gates.TryEvaluate(context, proposal, out receipt, out denials);

    /// <summary>Encodes the receipt's payload and appends it through the store; the receipt is spent whatever the outcome of the append.</summary>
    /// <param name="receipt">A receipt issued by this pipeline's gate set and not yet committed.</param>
    /// <param name="encoder">Turns the payload into bytes.</param>
    /// <returns>The spent receipt and the store's append receipt.</returns>
    /// <exception cref="InvalidOperationException">The receipt was already committed (or is being committed, or an earlier commit of it failed), or it was not issued by this pipeline's gate set.</exception>
    /// <exception cref="SequenceMismatchException">The proposal's expected sequence does not match; the receipt is spent (<see cref="ReceiptState.Failed"/>).</exception>
    /// <remarks>
    /// The payload is encoded before the receipt is claimed, so an encoder that throws leaves the receipt
    /// <see cref="ReceiptState.Issued"/>. Once claimed, a failing append spends it: the gates' decision is not
    /// reused after a failure, re-evaluate instead.
    /// </remarks>
    public Committed<T> Commit<T>(Receipt<T> receipt, IPayloadEncoder<T> encoder)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        ArgumentNullException.ThrowIfNull(encoder);
        if (!ReferenceEquals(receipt.Issuer, _gates))
        {
            ThrowForeignReceipt(receipt);
        }

        receipt.EnsureIssued();
        return EncodeAndAppend(receipt, encoder, receipt.Proposal.Options);
    }

    /// <summary>Commits a typed event's receipt, encoding the event with its generated MessagePack serializer.</summary>
    /// <inheritdoc cref="Commit{T}(Receipt{T}, IPayloadEncoder{T})"/>
    public Committed<TEvent> Commit<TEvent>(Receipt<TEvent> receipt)
        where TEvent : IBatpakEvent<TEvent> => Commit(receipt, BatpakEventEncoder<TEvent>.Instance);

    /// <summary>
    /// Appends <paramref name="proposal"/> without running the gates, recording <paramref name="reason"/> with the
    /// event and setting <see cref="EventFlags.Bypassed"/>, so <see cref="Pipeline.ReadBypasses"/> finds it.
    /// </summary>
    /// <param name="proposal">What to append.</param>
    /// <param name="reason">Why the gates are skipped; required, at most <see cref="Pipeline.MaxBypassReasonLength"/> characters. Stored as given.</param>
    /// <param name="encoder">Turns the payload into bytes.</param>
    /// <returns>A committed result whose receipt has <see cref="Receipt{T}.IsBypass"/> set and no passed gates.</returns>
    /// <exception cref="ArgumentException"><paramref name="reason"/> is null, empty, whitespace or too long.</exception>
    public Committed<T> Bypass<T>(Proposal<T> proposal, string reason, IPayloadEncoder<T> encoder)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        Pipeline.ValidateBypassReason(reason);
        ArgumentNullException.ThrowIfNull(encoder);

        return EncodeAndAppend(_gates.IssueBypass(proposal, reason), encoder, BypassOptions(proposal, reason));
    }

    /// <summary>Bypasses the gates for a typed event, encoding it with its generated MessagePack serializer.</summary>
    /// <inheritdoc cref="Bypass{T}(Proposal{T}, string, IPayloadEncoder{T})"/>
    public Committed<TEvent> Bypass<TEvent>(Proposal<TEvent> proposal, string reason)
        where TEvent : IBatpakEvent<TEvent> => Bypass(proposal, reason, BatpakEventEncoder<TEvent>.Instance);

    /// <summary>
    /// Like <see cref="Commit{T}(Receipt{T}, IPayloadEncoder{T})"/>, but appends with <see cref="IEventStore.AppendAsync"/>:
    /// completes once the event is durable (fsynced), without blocking a thread while it waits.
    /// </summary>
    /// <param name="receipt">A receipt issued by this pipeline's gate set and not yet committed.</param>
    /// <param name="encoder">Turns the payload into bytes.</param>
    /// <param name="cancellationToken">Cancels the wait for queue space only. A cancelled commit appended nothing, but it still spends the receipt.</param>
    /// <exception cref="InvalidOperationException">The receipt was already committed, is being committed, failed before, or was not issued by this pipeline's gate set.</exception>
    public ValueTask<Committed<T>> CommitAsync<T>(Receipt<T> receipt, IPayloadEncoder<T> encoder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        ArgumentNullException.ThrowIfNull(encoder);
        if (!ReferenceEquals(receipt.Issuer, _gates))
        {
            ThrowForeignReceipt(receipt);
        }

        receipt.EnsureIssued();
        return EncodeAndAppendAsync(receipt, encoder, receipt.Proposal.Options, cancellationToken);
    }

    /// <summary>Commits a typed event's receipt durably, encoding the event with its generated MessagePack serializer.</summary>
    /// <inheritdoc cref="CommitAsync{T}(Receipt{T}, IPayloadEncoder{T}, CancellationToken)"/>
    public ValueTask<Committed<TEvent>> CommitAsync<TEvent>(Receipt<TEvent> receipt, CancellationToken cancellationToken = default)
        where TEvent : IBatpakEvent<TEvent> => CommitAsync(receipt, BatpakEventEncoder<TEvent>.Instance, cancellationToken);

    /// <summary>Like <see cref="Bypass{T}(Proposal{T}, string, IPayloadEncoder{T})"/>, but completes once the event is durable.</summary>
    /// <param name="proposal">What to append.</param>
    /// <param name="reason">Why the gates are skipped; required, at most <see cref="Pipeline.MaxBypassReasonLength"/> characters.</param>
    /// <param name="encoder">Turns the payload into bytes.</param>
    /// <param name="cancellationToken">Cancels the wait for queue space only.</param>
    /// <exception cref="ArgumentException"><paramref name="reason"/> is null, empty, whitespace or too long.</exception>
    public ValueTask<Committed<T>> BypassAsync<T>(Proposal<T> proposal, string reason, IPayloadEncoder<T> encoder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        Pipeline.ValidateBypassReason(reason);
        ArgumentNullException.ThrowIfNull(encoder);
        return EncodeAndAppendAsync(_gates.IssueBypass(proposal, reason), encoder, BypassOptions(proposal, reason), cancellationToken);
    }

    /// <summary>Bypasses the gates for a typed event durably, encoding it with its generated MessagePack serializer.</summary>
    /// <inheritdoc cref="BypassAsync{T}(Proposal{T}, string, IPayloadEncoder{T}, CancellationToken)"/>
    public ValueTask<Committed<TEvent>> BypassAsync<TEvent>(Proposal<TEvent> proposal, string reason, CancellationToken cancellationToken = default)
        where TEvent : IBatpakEvent<TEvent> => BypassAsync(proposal, reason, BatpakEventEncoder<TEvent>.Instance, cancellationToken);

    /// <summary>Returns <c>Pipeline over GateSet "name" (...)</c>.</summary>
    public override string ToString() => $"Pipeline over {_gates}";

    private Committed<T> EncodeAndAppend<T>(Receipt<T> receipt, IPayloadEncoder<T> encoder, AppendOptions options)
    {
        Proposal<T> proposal = receipt.Proposal;
        ArrayBufferWriter<byte> buffer = PayloadBuffer.Rent();
        try
        {
            encoder.Encode(proposal.Payload, buffer);

            // Invariant ReceiptCommitsOnce: only the thread that wins this compare-exchange appends.
            receipt.BeginCommit();
            bool appended = false;
            try
            {
                AppendReceipt append = _store.Append(proposal.Coordinate, proposal.Kind, buffer.WrittenSpan, WithPermit(proposal, options));
                appended = true;
                return new Committed<T>(receipt, append);
            }
            finally
            {
                receipt.EndCommit(appended);
            }
        }
        finally
        {
            PayloadBuffer.Return(buffer);
        }
    }

    /// <summary>
    /// Adds the one-shot permission a store with <see cref="BatpakOptions.GatedKinds"/> requires. Called only after
    /// the receipt was claimed, so only the one commit that wins the claim carries it. An SDK store that does not gate
    /// the kind gets the options unchanged (no allocation); any other store (a decorator that may forward to one) gets
    /// the permit (IEventStore.RequiresGatePermit).
    /// </summary>
    private AppendOptions WithPermit<T>(Proposal<T> proposal, AppendOptions options) =>
        !_store.RequiresGatePermit(proposal.Kind)
            ? options
            : options with { GatePermit = new GatePermit(proposal.Kind, proposal.Coordinate) };

    /// <summary>The proposal's options plus the recorded reason and the SDK-owned flag; the caller's options are not changed.</summary>
    private static AppendOptions BypassOptions<T>(Proposal<T> proposal, string reason) => proposal.Options with
    {
        BypassReason = reason,
        Flags = proposal.Options.Flags | EventFlags.Bypassed,
    };

    /// <summary>
    /// The async commit. The encode buffer is rented from the calling thread's slot and held until the store has taken
    /// the payload (AppendAsync does not copy it before completion), then returned to whichever thread finishes.
    /// A synchronously completed append takes no state machine.
    /// </summary>
    private ValueTask<Committed<T>> EncodeAndAppendAsync<T>(Receipt<T> receipt, IPayloadEncoder<T> encoder, AppendOptions options, CancellationToken cancellationToken)
    {
        Proposal<T> proposal = receipt.Proposal;
        ArrayBufferWriter<byte> buffer = PayloadBuffer.Rent();
        ValueTask<AppendReceipt> pending;
        try
        {
            encoder.Encode(proposal.Payload, buffer);
            receipt.BeginCommit(); // Invariant ReceiptCommitsOnce, as in EncodeAndAppend.
        }
        catch
        {
            PayloadBuffer.Return(buffer);
            throw;
        }

        try
        {
            pending = _store.AppendAsync(proposal.Coordinate, proposal.Kind, buffer.WrittenMemory, WithPermit(proposal, options), cancellationToken);
        }
        catch
        {
            receipt.EndCommit(appended: false);
            PayloadBuffer.Return(buffer);
            throw;
        }

        if (pending.IsCompletedSuccessfully)
        {
            AppendReceipt append = pending.Result;
            receipt.EndCommit(appended: true);
            PayloadBuffer.Return(buffer);
            return new ValueTask<Committed<T>>(new Committed<T>(receipt, append));
        }

        return AwaitAppend(receipt, buffer, pending);

        static async ValueTask<Committed<T>> AwaitAppend(Receipt<T> receipt, ArrayBufferWriter<byte> buffer, ValueTask<AppendReceipt> pending)
        {
            bool appended = false;
            try
            {
                AppendReceipt append = await pending.ConfigureAwait(false);
                appended = true;
                return new Committed<T>(receipt, append);
            }
            finally
            {
                receipt.EndCommit(appended);
                PayloadBuffer.Return(buffer);
            }
        }
    }

    [DoesNotReturn]
    private void ThrowForeignReceipt<T>(Receipt<T> receipt) => throw new InvalidOperationException(
        receipt.Issuer is null
            ? "The receipt was not issued by any gate set (it was made without its constructor); only receipts from this pipeline's gate set can be committed."
            : $"The receipt for {receipt.Proposal} was issued by gate set \"{receipt.GateSetName}\" (#{receipt.GateSetId}), not by this pipeline's gate set \"{_gates.Name}\" (#{_gates.Id}); evaluate the proposal through this pipeline.");
}

/// <summary>Pipeline helpers that do not depend on the gate context type: the bypass audit.</summary>
public static class Pipeline
{
    /// <summary>The longest bypass reason accepted, in UTF-16 characters.</summary>
    public const int MaxBypassReasonLength = 1024;

    /// <summary>
    /// Lists the events committed through a gate bypass (<see cref="EventFlags.Bypassed"/>), in global order, each
    /// with its recorded <see cref="StoredEvent.BypassReason"/>.
    /// </summary>
    /// <param name="store">The store to audit.</param>
    /// <param name="region">Limits the audit (entity, scope, kinds, ranges); every event when null.</param>
    /// <returns>The bypassed events as of the call.</returns>
    /// <remarks>Reads every event of the region (bypass is not indexed): O(events in the region). Narrow the region for large stores.</remarks>
    public static IReadOnlyList<StoredEvent> ReadBypasses(this IEventStore store, Region? region = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        var bypassed = new List<StoredEvent>();
        foreach (StoredEvent stored in store.Read(region ?? Region.All))
        {
            if ((stored.Header.Flags & EventFlags.Bypassed) != 0)
            {
                bypassed.Add(stored);
            }
        }

        return bypassed;
    }

    internal static void ValidateBypassReason([NotNull] string? reason)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new ArgumentException("A bypass needs a reason: it is recorded with the event and listed by ReadBypasses, so say why the gates are skipped.", nameof(reason));
        }

        if (reason.Length > MaxBypassReasonLength)
        {
            throw new ArgumentException($"The bypass reason is {reason.Length} characters long; the limit is {MaxBypassReasonLength}.", nameof(reason));
        }
    }
}
