using System.Runtime.CompilerServices;
using System.Text;

namespace Batpak.Storage;

/// <summary>
/// Returns one string instance per distinct UTF-8 value, looking up without allocating (recovery reads the same
/// entity and scope names again and again). Not thread-safe: one owner (the recovery scan).
/// </summary>
internal sealed class StringInterner
{
    private const int MaxStackChars = 512;
    private readonly HashSet<string> _strings = new(StringComparer.Ordinal);
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public StringInterner() => _lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per frame during recovery: tiering would run it unoptimized for most of an open
    public string Intern(ReadOnlySpan<byte> utf8)
    {
        int max = Encoding.UTF8.GetMaxCharCount(utf8.Length);
        if (max > MaxStackChars)
        {
            return Intern(Encoding.UTF8.GetString(utf8));
        }

        Span<char> chars = stackalloc char[MaxStackChars];
        int length = Encoding.UTF8.GetChars(utf8, chars);
        ReadOnlySpan<char> text = chars[..length];
        if (_lookup.TryGetValue(text, out string? existing))
        {
            return existing;
        }

        string created = new(text);
        _strings.Add(created);
        return created;
    }

    private string Intern(string value)
    {
        if (_strings.TryGetValue(value, out string? existing))
        {
            return existing;
        }

        _strings.Add(value);
        return value;
    }
}
