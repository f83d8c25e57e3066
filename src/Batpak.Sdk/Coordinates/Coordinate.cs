using System.Diagnostics.CodeAnalysis;

namespace Batpak;

/// <summary>
/// The address of an event: the <see cref="Entity"/> names the stream (for example <c>"order:507"</c>) and the
/// <see cref="Scope"/> names the isolation boundary it lives in (for example <c>"tenant:acme"</c>).
/// </summary>
/// <remarks>
/// Both parts are non-empty, at most <see cref="MaxLength"/> UTF-16 characters, and contain no control
/// characters. A <see cref="Coordinate"/> can only be created valid: the constructor throws
/// <see cref="ArgumentException"/> naming the bad part and the reason. <c>default(Coordinate)</c> is the only
/// invalid value and is rejected by every store API.
/// </remarks>
public readonly record struct Coordinate
{
    /// <summary>The longest entity or scope accepted, in UTF-16 characters.</summary>
    public const int MaxLength = 256;

    /// <summary>Creates a coordinate, validating both parts.</summary>
    /// <param name="entity">The stream key, for example <c>"order:507"</c>.</param>
    /// <param name="scope">The isolation boundary, for example <c>"tenant:acme"</c>.</param>
    /// <exception cref="ArgumentException">A part is null, empty, too long or holds a control character.</exception>
    public Coordinate(string entity, string scope)
    {
        Validate(entity, nameof(entity));
        Validate(scope, nameof(scope));
        Entity = entity;
        Scope = scope;
    }

    /// <summary>Wraps parts already known to be valid (read back from the index or a checksummed frame).</summary>
    internal static Coordinate FromTrusted(string entity, string scope) => new(entity, scope, trusted: true);

    private Coordinate(string entity, string scope, bool trusted)
    {
        System.Diagnostics.Debug.Assert(trusted && Check(entity) is null && Check(scope) is null);
        Entity = entity;
        Scope = scope;
    }

    /// <summary>The stream key. Events of one entity form one ordered, hash-chained stream.</summary>
    public string Entity { get; }

    /// <summary>The isolation boundary (tenant, bounded context, ...).</summary>
    public string Scope { get; }

    /// <summary><see langword="true"/> for every coordinate made by the constructor; <see langword="false"/> for <c>default</c>.</summary>
    public bool IsValid => Entity is not null;

    /// <summary>Tries to create a coordinate without throwing.</summary>
    /// <returns><see langword="true"/> when both parts are valid.</returns>
    public static bool TryCreate(string? entity, string? scope, out Coordinate coordinate)
    {
        if (Check(entity) is null && Check(scope) is null)
        {
            coordinate = new Coordinate(entity!, scope!);
            return true;
        }

        coordinate = default;
        return false;
    }

    /// <summary>Returns <c>"scope/entity"</c>.</summary>
    public override string ToString() => IsValid ? $"{Scope}/{Entity}" : "(invalid coordinate)";

    /// <summary>Validates one entity, scope or prefix string; throws <see cref="ArgumentException"/> naming <paramref name="paramName"/>.</summary>
    internal static void Validate([NotNull] string? value, string paramName)
    {
        string? problem = Check(value);
        if (problem is not null || value is null)
        {
            ThrowInvalid(value, paramName, problem ?? "it is null");
        }
    }

    internal static string? Check(string? value)
    {
        if (value is null)
        {
            return "it is null";
        }

        if (value.Length == 0)
        {
            return "it is empty";
        }

        if (value.Length > MaxLength)
        {
            return $"it is {value.Length} characters long; the limit is {MaxLength}";
        }

        for (int i = 0; i < value.Length; i++)
        {
            if (char.IsControl(value[i]))
            {
                return $"it holds the control character U+{(int)value[i]:X4} at index {i}";
            }

            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
                continue;
            }

            if (char.IsSurrogate(value[i]))
            {
                return $"it holds a lone surrogate at index {i}";
            }
        }

        return null;
    }

    [DoesNotReturn]
    private static void ThrowInvalid(string? value, string paramName, string problem)
    {
        string shown = value is null ? "null" : value.Length > 40 ? $"\"{value[..40]}...\"" : $"\"{value}\"";
        throw new ArgumentException($"Invalid {paramName} {shown}: {problem}.", paramName);
    }

    internal void EnsureValid(string paramName)
    {
        if (!IsValid)
        {
            throw new ArgumentException("The coordinate is default(Coordinate); create it with new Coordinate(entity, scope).", paramName);
        }
    }
}
