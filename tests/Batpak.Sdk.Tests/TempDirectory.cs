namespace Batpak.Tests;

/// <summary>A fresh directory under the system temp folder, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "batpak-tests", Guid.NewGuid().ToString("N"));
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

internal static class TestEvents
{
    public static readonly EventKind Created = EventKind.Create(0x1, 0x001);
    public static readonly EventKind Updated = EventKind.Create(0x1, 0x002);
    public static readonly EventKind Audit = EventKind.Create(0x2, 0x001);

    public static byte[] Payload(int n) => System.Text.Encoding.UTF8.GetBytes($"payload-{n}");

    public static EventStore Open(string directory, Action<BatpakOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new BatpakOptions { DataDirectory = directory };
        configure?.Invoke(options);
        return new EventStore(options, time);
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;

    public void Set(DateTimeOffset to) => _now = to;
}
