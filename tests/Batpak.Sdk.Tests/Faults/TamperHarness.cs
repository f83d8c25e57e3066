// Owns the fault application and the oracle shared by every Tamper*Tests class: a fault point (a change to the
// closed store's files), the byte edits faults are made of, and TamperRun, which applies each point to a fresh copy of
// the fixture, judges it (detected / harmless / lost / undetected), prints one line per fault class and asserts.
// The fixture itself lives in TamperFixture.cs.
using Xunit.Abstractions;

namespace Batpak.Tests.Faults;

/// <summary>One fault: a description naming the file, offset and bit (or whatever applies) and the change to the files.</summary>
/// <param name="Where">Printed when the point fails.</param>
/// <param name="Apply">Changes the copy of the segment files (name to bytes): may add, remove or rename entries, and
/// replaces an entry's array rather than writing into it (the arrays are the fixture's pristine bytes).</param>
/// <param name="Target">The event the fault aimed at, when it aimed at one.</param>
internal sealed record FaultPoint(string Where, Action<SortedDictionary<string, byte[]>> Apply, EventId? Target = null);

/// <summary>
/// A fresh directory for fault points, deleted on dispose: in <c>/dev/shm</c> when the machine has it (thousands of
/// opens, each ending with an fsync, run about twice as fast on tmpfs), else in the system temp folder.
/// </summary>
internal sealed class ScratchDirectory : IDisposable
{
    public ScratchDirectory()
    {
        string root = OperatingSystem.IsLinux() && Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath();
        Path = System.IO.Path.Combine(root, "batpak-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Byte edits; each returns a new array and leaves its input alone.</summary>
internal static class TamperBytes
{
    public static byte[] FlipBit(byte[] bytes, long offset, int bit)
    {
        byte[] copy = (byte[])bytes.Clone();
        copy[offset] ^= (byte)(1 << bit);
        return copy;
    }

    public static byte[] Cut(byte[] bytes, long length) => bytes.AsSpan(0, (int)length).ToArray();

    public static byte[] Remove(byte[] bytes, long offset, int length) => [.. bytes.AsSpan(0, (int)offset), .. bytes.AsSpan((int)offset + length)];

    public static byte[] Insert(byte[] bytes, long offset, ReadOnlySpan<byte> inserted) => [.. bytes.AsSpan(0, (int)offset), .. inserted, .. bytes.AsSpan((int)offset)];

    public static byte[] Replace(byte[] bytes, long offset, int length, ReadOnlySpan<byte> with) => [.. bytes.AsSpan(0, (int)offset), .. with, .. bytes.AsSpan((int)offset + length)];

    public static byte[] Slice(byte[] bytes, FrameSpan frame) => bytes.AsSpan((int)frame.Offset, frame.Length).ToArray();
}

/// <summary>
/// Applies fault points to fresh copies of a fixture and judges each with the generic oracle:
/// <list type="bullet">
/// <item>DETECTED: opening throws <see cref="CorruptSegmentException"/>, or the store opens and <c>VerifyAll()</c> is
/// not valid, and either way the open left the segment files as it found them (it may only cut the tail of the last
/// one, the documented torn-tail repair);</item>
/// <item>HARMLESS: the store opens, <c>VerifyAll()</c> is valid, and every acknowledged event reads back (by
/// <c>Get</c> and in <c>ReadPage</c>, in order, nothing extra) identical to its image from before the fault;</item>
/// <item>LOST: an acknowledged event is missing or unreadable, open threw anything but
/// <see cref="CorruptSegmentException"/>, <c>VerifyAll</c> threw, or the fault was detected only after open had
/// deleted or rewritten a segment file (the detection came after acknowledged data was destroyed);</item>
/// <item>UNDETECTED: <c>VerifyAll()</c> is valid but an event differs from its image, or an event appeared that was
/// never acknowledged, or the global order changed.</item>
/// </list>
/// With <c>tolerateLostSuffix</c>, a store that opens valid with a gap-free prefix of the acknowledged events (only
/// the newest ones missing, the rest identical) counts as PREFIX instead of LOST.
/// </summary>
internal sealed class TamperRun(TamperFixture fixture, string faultClass, ITestOutputHelper output, bool tolerateLostSuffix = false) : IDisposable
{
    private const int ShownFailures = 8;
    private readonly ScratchDirectory _work = new();
    private readonly List<string> _failures = [];
    private int _points, _detectedAtOpen, _detectedByVerify, _harmless, _prefix, _lost, _undetected, _payloadServed, _destroyed;
    private long _suffixEventsMissing;

    /// <summary>Points whose target event was served with an altered payload while <c>VerifyAll</c> said valid.</summary>
    public int AlteredPayloadsServed => _payloadServed;

    public int Points => _points;

    public void Dispose() => _work.Dispose();

    public void RunAll(IEnumerable<FaultPoint> points)
    {
        foreach (FaultPoint point in points)
        {
            Try(point);
        }
    }

    public void Try(FaultPoint point)
    {
        var files = new SortedDictionary<string, byte[]>(fixture.Files, StringComparer.Ordinal);
        point.Apply(files);
        string directory = _work.Combine($"point-{_points++}");
        Directory.CreateDirectory(directory);
        foreach ((string name, byte[] bytes) in files)
        {
            File.WriteAllBytes(Path.Combine(directory, name), bytes);
        }

        string? failure = Judge(directory, files, point);
        if (failure is not null && _failures.Count < ShownFailures)
        {
            _failures.Add($"{point.Where}: {failure}");
        }

        Directory.Delete(directory, recursive: true);
    }

    /// <summary>Prints the fault class's line and fails when any point lost or changed acknowledged data unnoticed.</summary>
    public void AssertNothingLostOrUndetected()
    {
        Assert.True(_points > 0, $"{faultClass}: no fault points");
        string line = $"{faultClass}: {_points} points tried, {(long)_points * fixture.Acknowledged.Count} acknowledged events checked, {_lost} lost, {_undetected} undetected"
            + $" ({_detectedAtOpen} detected at open, {_detectedByVerify} by VerifyAll, {_harmless} harmless"
            + (tolerateLostSuffix ? $", {_prefix} opened with a prefix ({_suffixEventsMissing} newest events cut in all)" : string.Empty)
            + (_destroyed > 0 ? $"; {_destroyed} of the lost were detected only after open had deleted or rewritten a segment file" : string.Empty)
            + (_payloadServed > 0 ? $"; {_payloadServed} served an altered payload" : string.Empty) + ")";
        output.WriteLine(line);
        Console.WriteLine(line);
        Assert.True(_lost == 0 && _undetected == 0, $"{line}{Environment.NewLine}{fixture.Describe()}{Environment.NewLine}first failing points:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", _failures)}");
    }

    /// <summary>Returns null for a point that is detected, harmless or (when tolerated) a prefix; else what went wrong.</summary>
    private string? Judge(string directory, SortedDictionary<string, byte[]> written, FaultPoint point)
    {
        EventStore store;
        try
        {
            store = fixture.Open(directory);
        }
        catch (CorruptSegmentException ex)
        {
            if (ChangedFiles(directory, written) is { } changed)
            {
                _destroyed++;
                return Lost($"open threw CorruptSegmentException only after it had {changed}: {ex.Message}");
            }

            _detectedAtOpen++;
            return null;
        }
        catch (Exception ex)
        {
            return Lost($"open threw {ex.GetType().Name}: {ex.Message}");
        }

        using (store)
        {
            ChainVerification chain;
            try
            {
                chain = store.VerifyAll();
            }
            catch (Exception ex)
            {
                return Lost($"VerifyAll threw {ex.GetType().Name}: {ex.Message}");
            }

            if (!chain.IsValid)
            {
                if (ChangedFiles(directory, written) is { } changed)
                {
                    _destroyed++;
                    return Lost($"VerifyAll failed, but open had {changed} first: {chain.Failure}");
                }

                _detectedByVerify++;
                return null;
            }

            return JudgeValidStore(store, point);
        }
    }

    private string? JudgeValidStore(EventStore store, FaultPoint point)
    {
        IReadOnlyList<EventImage> acknowledged = fixture.Acknowledged;
        var missing = new List<EventImage>();
        string? altered = null;
        string? unreadable = null;
        foreach (EventImage before in acknowledged)
        {
            try
            {
                if (!store.TryGet(before.Id, out StoredEvent? read))
                {
                    missing.Add(before);
                }
                else if (before.FirstDifference(EventImage.Of(read)) is { } difference)
                {
                    altered ??= $"event #{before.GlobalSequence} ({before.Coordinate.Entity} seq {before.EntitySequence}) reads back changed, {difference}";
                    if (before.Id == point.Target && before.PayloadHex != Convert.ToHexString(read.Payload.Span))
                    {
                        _payloadServed++;
                    }
                }
            }
            catch (Exception ex)
            {
                // An acknowledged event that cannot be read is lost, even when the read fails loudly.
                missing.Add(before);
                unreadable ??= $"; reading #{before.GlobalSequence} threw {ex.GetType().Name}: {ex.Message}";
            }
        }

        List<EventId> log;
        try
        {
            log = [.. store.ReadPage(0, 100_000).Events.Select(e => e.Id)];
        }
        catch (Exception ex)
        {
            return Lost($"VerifyAll said valid, then ReadPage threw {ex.GetType().Name}: {ex.Message}");
        }

        List<EventId> expectedLog = [.. acknowledged.Where(e => !missing.Contains(e)).Select(e => e.Id)];
        if (altered is null && !log.SequenceEqual(expectedLog))
        {
            EventId? extra = log.Except(acknowledged.Select(e => e.Id)).Cast<EventId?>().FirstOrDefault();
            altered = extra is { } id ? $"ReadPage returns event {id}, which was never acknowledged"
                : log.Count != expectedLog.Count ? $"ReadPage returns {log.Count} events where Get finds {expectedLog.Count}"
                : "ReadPage returns the acknowledged events in another order";
        }

        if (altered is not null)
        {
            _undetected++;
            return $"UNDETECTED (VerifyAll valid): {altered}" + (missing.Count > 0 ? $"; also {missing.Count} events missing" : string.Empty);
        }

        if (missing.Count == 0)
        {
            _harmless++;
            return null;
        }

        bool suffix = missing.SequenceEqual(acknowledged.Skip(acknowledged.Count - missing.Count));
        if (tolerateLostSuffix && suffix)
        {
            _prefix++;
            _suffixEventsMissing += missing.Count;
            return null;
        }

        EventImage first = missing[0];
        return Lost($"VerifyAll valid but {missing.Count} acknowledged events are gone, first #{first.GlobalSequence} ({first.Coordinate.Entity} seq {first.EntitySequence})"
            + (suffix ? " (the newest ones)" : string.Empty) + unreadable);
    }

    private string Lost(string what)
    {
        _lost++;
        return "LOST: " + what;
    }

    /// <summary>
    /// What an open that ended in a detection did to the files it was given: deleted a segment file, or changed one
    /// other than by cutting the tail of the last (highest) one. Removing a file whose exact bytes another file still
    /// holds (a stray copy) destroys nothing and is not reported. Null when no data was destroyed.
    /// </summary>
    private static string? ChangedFiles(string directory, SortedDictionary<string, byte[]> written)
    {
        var changes = new List<string>();
        string? last = written.Keys.LastOrDefault(); // the keys are sorted: the highest id
        Dictionary<string, byte[]> now = Directory.GetFiles(directory, "*" + Batpak.Storage.FrameFormat.SegmentExtension)
            .ToDictionary(path => Path.GetFileName(path), File.ReadAllBytes, StringComparer.Ordinal);
        foreach ((string name, byte[] bytes) in written)
        {
            if (!now.TryGetValue(name, out byte[]? after))
            {
                if (!now.Values.Any(other => other.AsSpan().SequenceEqual(bytes)))
                {
                    changes.Add("deleted " + name);
                }

                continue;
            }

            bool tailCut = name == last && after.Length < bytes.Length && bytes.AsSpan(0, after.Length).SequenceEqual(after);
            if (!tailCut && !after.AsSpan().SequenceEqual(bytes))
            {
                changes.Add("changed " + name);
            }
        }

        return changes.Count == 0 ? null : string.Join(", ", changes);
    }
}
