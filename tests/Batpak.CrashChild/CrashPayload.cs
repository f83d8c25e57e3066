using System.Text;

namespace Batpak.CrashChild;

/// <summary>
/// The payload the crash child writes for an entity's sequence number: deterministic, so the test can check every
/// event it finds after a crash byte for byte. Shared with the test project as a linked source file.
/// </summary>
public static class CrashPayload
{
    public static readonly EventKind Kind = EventKind.Create(0x1, 0x0C1);

    public static byte[] For(string entity, long entitySequence)
    {
        string unit = $"{entity}#{entitySequence};";
        int length = 16 + (int)((entitySequence * 37 + entity.Length * 11) % 700);
        var text = new StringBuilder(length + unit.Length);
        while (text.Length < length)
        {
            text.Append(unit);
        }

        return Encoding.UTF8.GetBytes(text.ToString(0, length));
    }
}
