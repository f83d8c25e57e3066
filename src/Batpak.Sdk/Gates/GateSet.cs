using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Batpak;

/// <summary>
/// An ordered, immutable list of <see cref="IGate{TContext}"/> and the <see cref="GatePolicy"/> to run them with.
/// The only issuer of <see cref="Receipt{T}"/>: a proposal gets a receipt exactly when every gate passes.
/// </summary>
/// <remarks>
/// <para>
/// Thread-safe: the set never changes after construction, and evaluation keeps no state, so one instance serves
/// any number of threads (provided its gates are pure, as <see cref="IGate{TContext}"/> requires).
/// </para>
/// <para>
/// Cost of a passing evaluation: one call per gate plus one <see cref="Receipt{T}"/> allocation;
/// <see cref="Receipt{T}.GatesPassed"/> is this set's own name list, shared, not copied. A denial allocates the
/// list of denials (and the exception for <see cref="Evaluate{T}"/>).
/// </para>
/// <para>
/// Every set has a process-unique <see cref="Id"/>. A receipt remembers the set that issued it, and a
/// <see cref="Pipeline{TContext}"/> commits only receipts issued by its own set.
/// </para>
/// </remarks>
/// <typeparam name="TContext">What the gates inspect.</typeparam>
public sealed class GateSet<TContext>
{
    private readonly IGate<TContext>[] _gates;
    private readonly string[] _names;

    /// <summary>Creates a fail-fast set of <paramref name="gates"/>, run in the given order.</summary>
    /// <param name="gates">The gates; names must be unique (ordinal).</param>
    /// <exception cref="ArgumentException">A gate is null, has an empty name, or two gates share a name.</exception>
    public GateSet(params IGate<TContext>[] gates)
        : this(gates, GatePolicy.FailFast)
    {
    }

    /// <summary>Creates a set of <paramref name="gates"/>, run in the given order.</summary>
    /// <param name="gates">The gates; names must be unique (ordinal). Copied: later changes to the sequence are not seen.</param>
    /// <param name="policy">Fail-fast or evaluate-all.</param>
    /// <param name="name">A name for messages and receipts; by default <c>"gates#{Id}"</c>.</param>
    /// <exception cref="ArgumentException">A gate is null, has an empty name, or two gates share a name; or <paramref name="policy"/> is undefined.</exception>
    public GateSet(IEnumerable<IGate<TContext>> gates, GatePolicy policy = GatePolicy.FailFast, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(gates);
        if (!Enum.IsDefined(policy))
        {
            throw new ArgumentOutOfRangeException(nameof(policy), policy, "The gate policy must be FailFast or EvaluateAll.");
        }

        _gates = [.. gates];
        _names = new string[_gates.Length];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < _gates.Length; i++)
        {
            IGate<TContext>? gate = _gates[i] ?? throw new ArgumentException($"Gate {i} of the set is null.", nameof(gates));
            string gateName = gate.Name;
            if (string.IsNullOrWhiteSpace(gateName))
            {
                throw new ArgumentException($"Gate {i} of the set ({gate.GetType().Name}) has an empty name.", nameof(gates));
            }

            if (!seen.Add(gateName))
            {
                throw new ArgumentException($"Two gates of the set are named \"{gateName}\"; gate names must be unique so denials and receipts say which gate decided.", nameof(gates));
            }

            _names[i] = gateName;
        }

        Id = GateSetIds.Next();
        Policy = policy;
        Name = string.IsNullOrWhiteSpace(name) ? "gates#" + Id.ToString(CultureInfo.InvariantCulture) : name;
        GateNames = new ReadOnlyCollection<string>(_names);
    }

    /// <summary>A process-unique id of this set, recorded in every receipt it issues.</summary>
    public long Id { get; }

    /// <summary>The set's name, for messages and receipts.</summary>
    public string Name { get; }

    /// <summary>Fail-fast or evaluate-all.</summary>
    public GatePolicy Policy { get; }

    /// <summary>The gates' names, in evaluation order.</summary>
    public IReadOnlyList<string> GateNames { get; }

    /// <summary>The number of gates.</summary>
    public int Count => _gates.Length;

    /// <summary>Runs the gates over <paramref name="context"/> without issuing anything.</summary>
    /// <returns>The denials, in gate order; empty when every gate passed. Fail-fast returns at most one.</returns>
    public IReadOnlyList<Denial> Check(TContext context) => Run(context) ?? [];

    /// <summary>Runs the gates and, when all pass, issues a receipt for <paramref name="proposal"/>.</summary>
    /// <param name="context">What the gates inspect.</param>
    /// <param name="proposal">What the caller wants to append.</param>
    /// <returns>A receipt that a <see cref="Pipeline{TContext}"/> over this set commits once.</returns>
    /// <exception cref="GateDeniedException">A gate denied; the exception lists every denial collected under <see cref="Policy"/>.</exception>
    public Receipt<T> Evaluate<T>(TContext context, Proposal<T> proposal)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        Denial[]? denials = Run(context);
        if (denials is not null)
        {
            ThrowDenied(proposal, denials);
        }

        return Issue(proposal);
    }

    /// <summary>Runs the gates and, when all pass, issues a receipt; a denial is returned, not thrown.</summary>
    /// <param name="context">What the gates inspect.</param>
    /// <param name="proposal">What the caller wants to append.</param>
    /// <param name="receipt">The receipt when every gate passed, else <see langword="null"/>.</param>
    /// <param name="denials">The denials in gate order (at most one under fail-fast); empty on success.</param>
    /// <returns><see langword="true"/> when every gate passed.</returns>
    public bool TryEvaluate<T>(TContext context, Proposal<T> proposal, [NotNullWhen(true)] out Receipt<T>? receipt, out IReadOnlyList<Denial> denials)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        Denial[]? found = Run(context);
        if (found is not null)
        {
            receipt = null;
            denials = found;
            return false;
        }

        receipt = Issue(proposal);
        denials = [];
        return true;
    }

    /// <summary>Returns <c>GateSet "name" (policy): gate1, gate2, ...</c>.</summary>
    public override string ToString() => $"GateSet \"{Name}\" ({Policy}): {string.Join(", ", _names)}";

    /// <summary>Issues the receipt of a gate bypass: no gates passed, the reason recorded.</summary>
    internal Receipt<T> IssueBypass<T>(Proposal<T> proposal, string reason) =>
        new(proposal, this, Id, Name, [], reason);

    private Receipt<T> Issue<T>(Proposal<T> proposal) => new(proposal, this, Id, Name, GateNames, bypassReason: null);

    /// <summary>Runs the gates in order; <see langword="null"/> when all passed (the common case allocates nothing).</summary>
    private Denial[]? Run(TContext context)
    {
        List<Denial>? denials = null;
        for (int i = 0; i < _gates.Length; i++)
        {
            GateResult result = _gates[i].Evaluate(context);
            if (result.IsPass)
            {
                continue;
            }

            // The set, not the gate, decides the attribution: a denial always names the gate that returned it.
            Denial denial = result.Denial.AttributedTo(_names[i]);
            if (Policy == GatePolicy.FailFast)
            {
                return [denial];
            }

            (denials ??= []).Add(denial);
        }

        return denials?.ToArray();
    }

    [DoesNotReturn]
    private void ThrowDenied<T>(Proposal<T> proposal, Denial[] denials) =>
        throw new GateDeniedException(Name, proposal.ToString(), denials);
}

/// <summary>Hands out process-unique gate set ids.</summary>
internal static class GateSetIds
{
    private static long s_last;

    public static long Next() => Interlocked.Increment(ref s_last);
}
