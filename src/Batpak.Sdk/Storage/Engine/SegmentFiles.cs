namespace Batpak.Storage;

/// <summary>
/// The segment files of a data directory by name (docs/FORMAT.md, "Files"): their paths and the list of those
/// present. Pure file-name logic, safe from any thread; used by recovery, compaction and stats.
/// </summary>
internal static class SegmentFiles
{
    /// <summary>The path of segment <paramref name="segmentId"/> in <paramref name="directory"/>.</summary>
    public static string PathOf(string directory, int segmentId) => Path.Combine(directory, FrameFormat.SegmentFileName(segmentId));

    /// <summary>The segment files present in <paramref name="directory"/> and their lengths, by ascending id.</summary>
    public static List<(int Id, long Bytes)> List(string directory)
    {
        var segments = new List<(int Id, long Bytes)>();
        foreach (string file in Directory.EnumerateFiles(directory, "*" + FrameFormat.SegmentExtension))
        {
            if (FrameFormat.TryParseSegmentFileName(Path.GetFileName(file), out int id))
            {
                segments.Add((id, new FileInfo(file).Length));
            }
        }

        segments.Sort(static (a, b) => a.Id.CompareTo(b.Id));
        return segments;
    }
}
