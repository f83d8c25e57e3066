using System.Diagnostics.CodeAnalysis;

namespace Batpak;

/// <summary>
/// What one gate decided: pass, or a <see cref="Batpak.Denial"/>. A small immutable value; <see cref="Pass"/>
/// allocates nothing. <c>default(GateResult)</c> is <see cref="Pass"/>.
/// </summary>
public readonly record struct GateResult
{
    private GateResult(Denial? denial) => Denial = denial;

    /// <summary>The gate passed.</summary>
    public static GateResult Pass => default;

    /// <summary><see langword="true"/> when the gate passed.</summary>
    [MemberNotNullWhen(false, nameof(Denial))]
    public bool IsPass => Denial is null;

    /// <summary>Why the gate denied, or <see langword="null"/> when it passed.</summary>
    public Denial? Denial { get; }

    /// <summary>The gate denied.</summary>
    /// <param name="denial">Why. Its <see cref="Denial.Gate"/> should be the gate's <see cref="IGate{TContext}.Name"/>; a gate set records it under the evaluating gate's name either way.</param>
    /// <exception cref="ArgumentNullException"><paramref name="denial"/> is null.</exception>
    public static GateResult Deny(Denial denial)
    {
        ArgumentNullException.ThrowIfNull(denial);
        return new GateResult(denial);
    }

    /// <summary>The gate denied; shorthand for <c>Deny(new Denial(gate, code, message, context))</c>.</summary>
    /// <exception cref="ArgumentException">A string is null, empty or whitespace, or a context key is.</exception>
    public static GateResult Deny(string gate, string code, string message, IEnumerable<KeyValuePair<string, string>>? context = null) =>
        new(new Denial(gate, code, message, context));

    /// <summary>Wraps a denial; same as <see cref="Deny(Denial)"/>.</summary>
    public static implicit operator GateResult(Denial denial) => Deny(denial);

    /// <summary>Same as <see cref="Deny(Denial)"/>; the named alternative to the implicit conversion.</summary>
    public static GateResult FromDenial(Denial denial) => Deny(denial);

    /// <summary>Returns <c>"pass"</c> or the denial's text.</summary>
    public override string ToString() => Denial is null ? "pass" : Denial.ToString();
}
