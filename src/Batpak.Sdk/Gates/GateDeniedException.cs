using System.Text;

namespace Batpak;

/// <summary>
/// A <see cref="GateSet{TContext}"/> refused a proposal. <see cref="Denials"/> lists every denial collected (one
/// under <see cref="GatePolicy.FailFast"/>, all of them, in gate order, under <see cref="GatePolicy.EvaluateAll"/>).
/// Nothing was appended.
/// </summary>
public sealed class GateDeniedException : BatpakException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="gateSet">The name of the gate set that denied.</param>
    /// <param name="proposal">A description of the denied proposal.</param>
    /// <param name="denials">The denials, in gate order; at least one.</param>
    /// <exception cref="ArgumentException"><paramref name="denials"/> is empty or holds a null.</exception>
    public GateDeniedException(string gateSet, string proposal, IReadOnlyList<Denial> denials)
        : base(Describe(gateSet, proposal, denials))
    {
        GateSet = gateSet;
        Proposal = proposal;
        Denials = [.. denials];
    }

    /// <summary>Creates the exception.</summary>
    public GateDeniedException()
        : this("Gates denied the proposal.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public GateDeniedException(string message)
        : base(message)
    {
        GateSet = string.Empty;
        Proposal = string.Empty;
        Denials = [];
    }

    /// <summary>Creates the exception.</summary>
    public GateDeniedException(string message, Exception innerException)
        : base(message, innerException)
    {
        GateSet = string.Empty;
        Proposal = string.Empty;
        Denials = [];
    }

    /// <summary>The name of the gate set that denied.</summary>
    public string GateSet { get; }

    /// <summary>A description of the denied proposal (its kind, coordinate and payload type).</summary>
    public string Proposal { get; }

    /// <summary>The denials, in gate order.</summary>
    public IReadOnlyList<Denial> Denials { get; }

    private static string Describe(string gateSet, string proposal, IReadOnlyList<Denial> denials)
    {
        ArgumentNullException.ThrowIfNull(denials);
        if (denials.Count == 0)
        {
            throw new ArgumentException("A gate denial needs at least one denial.", nameof(denials));
        }

        var text = new StringBuilder();
        text.Append("Gate set \"").Append(gateSet).Append("\" denied ").Append(proposal).Append(": ");
        if (denials.Count == 1)
        {
            return text.Append(denials[0] ?? throw new ArgumentException("A denial is null.", nameof(denials))).ToString();
        }

        text.Append(denials.Count).Append(" denials:");
        foreach (Denial denial in denials)
        {
            text.AppendLine().Append("  - ").Append(denial ?? throw new ArgumentException("A denial is null.", nameof(denials)));
        }

        return text.ToString();
    }
}
