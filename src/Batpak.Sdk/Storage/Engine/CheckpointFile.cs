using System.Text;

namespace Batpak.Storage;

/// <summary>
/// The embedded engine's named-cursor checkpoints (cursors/&lt;name&gt;.cursor in the data directory): atomic, durable small files holding one position: write a temporary file, fsync it, rename it over the old one, fsync the folder.
/// Called by <see cref="SegmentEngine"/> only.
/// </summary>
internal static class CheckpointFile
{
    public static void Write(string path, long position)
    {
        string temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(Encoding.UTF8.GetBytes(position.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n"));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        NativeFile.SyncDirectory(Path.GetDirectoryName(path)!);
    }

    public static long Read(string path)
    {
        if (!File.Exists(path))
        {
            return 0;
        }

        string text = File.ReadAllText(path).Trim();
        if (!long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long position))
        {
            throw new BatpakException($"The cursor checkpoint \"{path}\" holds \"{text}\", not a position.");
        }

        return position;
    }
}
