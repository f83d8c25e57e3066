// The rule for a store's schema name and its quoting as an SQL identifier. Used by the options validation, the
// migrations and every statement the engine builds.
namespace Batpak.PostgreSql.Schema;

/// <summary>Schema names: 1 to 63 ASCII letters, digits or '_', starting with a letter or '_' (quoted, so case is kept).</summary>
internal static class SchemaName
{
    /// <summary><see langword="null"/> when <paramref name="name"/> is a valid schema name, else why not.</summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "it is empty";
        }

        if (name.Length > 63)
        {
            return $"it is {name.Length} characters long, PostgreSQL identifiers have at most 63 bytes";
        }

        if (!(char.IsAsciiLetter(name[0]) || name[0] == '_'))
        {
            return "it does not start with an ASCII letter or '_'";
        }

        if (!name.All(static c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            return "it has a character other than ASCII letters, digits and '_'";
        }

        return name.StartsWith("pg_", StringComparison.OrdinalIgnoreCase) ? "names starting with pg_ are reserved by PostgreSQL" : null;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the bad value when <paramref name="name"/> is not valid.</summary>
    public static void Validate(string? name, string parameter)
    {
        if (Problem(name) is { } problem)
        {
            throw new ArgumentException($"Schema name \"{name}\" is not valid: {problem}.", parameter);
        }
    }

    /// <summary>The name as a quoted identifier (valid names hold no quote).</summary>
    public static string Quote(string name) => "\"" + name + "\"";
}
