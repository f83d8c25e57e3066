using System.Collections.ObjectModel;
using System.Text;

namespace Batpak;

/// <summary>
/// Why a gate refused a proposal: the gate's name, a stable machine-readable <see cref="Code"/>, a
/// <see cref="Message"/> for people, and key/value <see cref="Context"/> (the limit, the actual value, ...).
/// </summary>
/// <remarks>
/// Immutable: the context is copied when the denial is created, so changing the caller's dictionary afterwards
/// changes nothing here. A denial that does not depend on the evaluated context can be created once and returned
/// from every failing evaluation.
/// </remarks>
public sealed class Denial
{
    private static readonly IReadOnlyDictionary<string, string> s_emptyContext =
        new ReadOnlyDictionary<string, string>(new Dictionary<string, string>(StringComparer.Ordinal));

    /// <summary>Creates a denial.</summary>
    /// <param name="gate">The denying gate's <see cref="IGate{TContext}.Name"/>.</param>
    /// <param name="code">A stable code for programs, for example <c>"TOTAL_TOO_HIGH"</c>.</param>
    /// <param name="message">What went wrong, for people.</param>
    /// <param name="context">Key/value details (copied; keys are compared ordinally and must be unique and non-empty; values must not be null).</param>
    /// <exception cref="ArgumentException">A string is null, empty or whitespace, a key repeats, or a value is null.</exception>
    public Denial(string gate, string code, string message, IEnumerable<KeyValuePair<string, string>>? context = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(gate);
        ArgumentException.ThrowIfNullOrWhiteSpace(code);
        ArgumentException.ThrowIfNullOrWhiteSpace(message);
        Gate = gate;
        Code = code;
        Message = message;
        Context = context is null ? s_emptyContext : Copy(context);
    }

    private Denial(string gate, Denial source)
    {
        Gate = gate;
        Code = source.Code;
        Message = source.Message;
        Context = source.Context;
    }

    /// <summary>The name of the gate that denied.</summary>
    public string Gate { get; }

    /// <summary>A stable, machine-readable reason code.</summary>
    public string Code { get; }

    /// <summary>A human-readable explanation.</summary>
    public string Message { get; }

    /// <summary>Key/value details; empty when there are none. Read-only and never changes.</summary>
    public IReadOnlyDictionary<string, string> Context { get; }

    /// <summary>
    /// Returns <c>gate "name" denied CODE: message {key=value, ...}</c>, with the context keys in ordinal order so the
    /// text is stable.
    /// </summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("gate \"").Append(Gate).Append("\" denied ").Append(Code).Append(": ").Append(Message);
        if (Context.Count > 0)
        {
            string[] keys = [.. Context.Keys];
            Array.Sort(keys, StringComparer.Ordinal);
            text.Append(" {");
            for (int i = 0; i < keys.Length; i++)
            {
                text.Append(i == 0 ? string.Empty : ", ").Append(keys[i]).Append('=').Append(Context[keys[i]]);
            }

            text.Append('}');
        }

        return text.ToString();
    }

    /// <summary>The same denial attributed to <paramref name="gate"/> (itself when the name already matches).</summary>
    internal Denial AttributedTo(string gate) =>
        string.Equals(gate, Gate, StringComparison.Ordinal) ? this : new Denial(gate, this);

    private static ReadOnlyDictionary<string, string> Copy(IEnumerable<KeyValuePair<string, string>> context)
    {
        var copy = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> pair in context)
        {
            if (string.IsNullOrWhiteSpace(pair.Key))
            {
                throw new ArgumentException("A denial context key is null, empty or whitespace.", nameof(context));
            }

            if (pair.Value is null)
            {
                throw new ArgumentException($"The denial context value of \"{pair.Key}\" is null.", nameof(context));
            }

            if (!copy.TryAdd(pair.Key, pair.Value))
            {
                throw new ArgumentException($"The denial context key \"{pair.Key}\" appears twice.", nameof(context));
            }
        }

        return new ReadOnlyDictionary<string, string>(copy);
    }
}
