namespace Batpak;

/// <summary>
/// One policy check: a pure predicate over a caller-built context that either passes or returns a
/// <see cref="Denial"/> saying why not.
/// </summary>
/// <remarks>
/// <para>
/// A gate sees only <typeparamref name="TContext"/>: put into the context everything the gate needs (the acting
/// principal, the entity's current state, the proposed payload when a gate checks it). A gate must be pure and
/// thread-safe: <see cref="GateSet{TContext}"/> may call it from any thread, concurrently, and relies on the
/// same context giving the same answer. It should not throw for a policy failure; an exception propagates out of
/// the evaluation unchanged and no receipt is issued.
/// </para>
/// <para>
/// Passing costs nothing beyond the call: <see cref="GateResult.Pass"/> is a value and allocates nothing.
/// </para>
/// </remarks>
/// <typeparam name="TContext">What the gate inspects.</typeparam>
public interface IGate<in TContext>
{
    /// <summary>
    /// The gate's name, unique within a <see cref="GateSet{TContext}"/>. It appears in every <see cref="Denial"/>
    /// the gate produces and in <see cref="Receipt{T}.GatesPassed"/>.
    /// </summary>
    string Name { get; }

    /// <summary>Checks <paramref name="context"/>.</summary>
    /// <param name="context">What the caller is about to do, and the state it needs to decide.</param>
    /// <returns><see cref="GateResult.Pass"/>, or a denial made with <see cref="GateResult.Deny(Denial)"/>.</returns>
    GateResult Evaluate(TContext context);
}

/// <summary>Factories for gates written as lambdas.</summary>
public static class Gate
{
    /// <summary>Wraps a function as an <see cref="IGate{TContext}"/>.</summary>
    /// <param name="name">The gate's name (see <see cref="IGate{TContext}.Name"/>).</param>
    /// <param name="evaluate">The check; must be pure and thread-safe.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or whitespace.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="evaluate"/> is null.</exception>
    public static IGate<TContext> Create<TContext>(string name, Func<TContext, GateResult> evaluate)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(evaluate);
        return new DelegateGate<TContext>(name, evaluate);
    }

    /// <summary>
    /// A gate that passes when <paramref name="predicate"/> returns <see langword="true"/> and otherwise denies with
    /// <paramref name="code"/> and <paramref name="message"/> (and no context).
    /// </summary>
    /// <param name="name">The gate's name.</param>
    /// <param name="predicate">The condition that must hold; must be pure and thread-safe.</param>
    /// <param name="code">The denial code, for example <c>"TOTAL_TOO_HIGH"</c>.</param>
    /// <param name="message">The denial message for people.</param>
    /// <exception cref="ArgumentException">A string is null, empty or whitespace.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="predicate"/> is null.</exception>
    public static IGate<TContext> Require<TContext>(string name, Func<TContext, bool> predicate, string code, string message)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        // The denial is built once: a failing check then allocates nothing either.
        var denial = new Denial(name, code, message);
        return new DelegateGate<TContext>(name, context => predicate(context) ? GateResult.Pass : GateResult.Deny(denial));
    }

    private sealed class DelegateGate<TContext>(string name, Func<TContext, GateResult> evaluate) : IGate<TContext>
    {
        public string Name { get; } = name;

        public GateResult Evaluate(TContext context) => evaluate(context);

        public override string ToString() => $"gate \"{Name}\"";
    }
}
