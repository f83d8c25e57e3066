using System.Globalization;
using System.Numerics;
using System.Text;

namespace Batpak;

// The configuration forms of the BatpakOptionRules table: how each kind of setting is parsed from a configuration
// string, and how a bad value is shown in a failure message. Only the table calls these.
internal static partial class BatpakOptionRules
{
    private const int ShownTextLength = 80;

    private static bool ParseText(string text, out string value)
    {
        value = text;
        return true;
    }

    /// <summary>A string in quotes, control characters escaped (<c>\u000A</c>), cut after <see cref="ShownTextLength"/> characters.</summary>
    private static string ShowText(string? value)
    {
        if (value is null)
        {
            return "null";
        }

        var shown = new StringBuilder("\"");
        foreach (char c in value.Length > ShownTextLength ? value[..ShownTextLength] : value)
        {
            shown.Append(char.IsControl(c) ? $"\\u{(int)c:X4}" : c);
        }

        return shown.Append(value.Length > ShownTextLength ? "...\"" : "\"").ToString();
    }

    private static bool ParseInteger<T>(string text, out T value)
        where T : struct, INumber<T> =>
        T.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out value);

    /// <summary>A name of <see cref="SyncMode"/>, not a number: <c>Enum.TryParse</c> alone would take <c>"7"</c>.</summary>
    private static bool ParseSyncMode(string text, out SyncMode value)
    {
        text = text.Trim();
        value = default;
        return text.Length > 0 && char.IsAsciiLetter(text[0]) && Enum.TryParse(text, ignoreCase: true, out value) && Enum.IsDefined(value);
    }

    /// <summary>
    /// The constant ("c") format, with at least hours and minutes: a bare number would otherwise be read as days
    /// (<c>"30"</c> as thirty days), which nobody writing a timeout means.
    /// </summary>
    private static bool ParseDuration(string text, out TimeSpan value)
    {
        text = text.Trim();
        value = default;
        return text.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParseExact(text, "c", CultureInfo.InvariantCulture, out value);
    }

    private static string ShowDuration(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);

    /// <summary>Standard base64. An empty string is a key of no bytes (refused by the range), never "no key": a secret that did not arrive must not open an unkeyed store.</summary>
    private static bool ParseBase64(string text, out byte[]? value)
    {
        try
        {
            value = Convert.FromBase64String(text.Trim());
            return true;
        }
        catch (FormatException)
        {
            value = null;
            return false;
        }
    }

    /// <summary>Kinds separated by commas, each <c>0x</c> and 1 to 4 hex digits (<see cref="EventKind.ToString"/> prints 4); an empty string is no kind.</summary>
    private static bool ParseKinds(string text, out IEnumerable<EventKind> value)
    {
        var kinds = new List<EventKind>();
        value = kinds;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        foreach (string part in text.Split(','))
        {
            ReadOnlySpan<char> item = part.AsSpan().Trim();
            if (item.Length is < 3 or > 6 || !item.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                || !ushort.TryParse(item[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ushort raw))
            {
                return false;
            }

            kinds.Add(EventKind.FromValue(raw));
        }

        return true;
    }

    /// <summary>The reserved kinds of a set, in value order (a set has no order of its own).</summary>
    private static string ShowReserved(IEnumerable<EventKind> kinds) =>
        string.Join(", ", kinds.Where(static k => k.IsReserved).OrderBy(static k => k.Value).Select(static k => k.ToString()));
}
