using Batpak.Storage;
using Xunit.Abstractions;

namespace Batpak.Tests.Golden;

/// <summary>
/// Version-1 stores written by the version-1 engine (commit a58bb6d; golden files in <c>Golden/v1-stores</c>, each
/// with an <c>events.txt</c> listing what that engine read back) open in this build: upgraded on their first open for
/// writing, with every event kept, or refused with every file left as it was.
/// </summary>
public class FormatUpgradeTests(ITestOutputHelper output)
{
    private static string Golden(string name) => Path.Combine(AppContext.BaseDirectory, "Golden", "v1-stores", name);

    private static string CopyOf(string name, TempDirectory dir)
    {
        foreach (string file in Directory.GetFiles(Golden(name), "*.fbat"))
        {
            File.Copy(file, Path.Combine(dir.Path, Path.GetFileName(file)));
        }

        return dir.Path;
    }

    private static Dictionary<string, byte[]> Snapshot(string directory) =>
        Directory.GetFiles(directory, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(directory, f), File.ReadAllBytes);

    [Theory]
    [InlineData("plain")]
    [InlineData("tombstoned")]
    public void Open_Version1Store_IsUpgraded_EveryEventKept_AndTheVersion1FilesBackedUp(string name)
    {
        using var dir = new TempDirectory();
        string path = CopyOf(name, dir);
        Dictionary<string, byte[]> original = Snapshot(path);
        string[] expected = File.ReadAllLines(Path.Combine(Golden(name), "events.txt"));
        StoreHead head;
        using (EventStore store = TestEvents.Open(path))
        {
            Assert.True(store.GetStats().Recovery.UpgradedFromVersion1);
            string[] actual = store.ReadPage(0, 10_000).Events.Select(Describe).ToArray();
            Assert.Equal(expected, actual);
            ChainVerification verified = store.VerifyAll();
            Assert.True(verified.IsValid, verified.Failure);
            head = store.GetHead();
            Assert.Equal(expected.Length, head.NextGlobalSequence);
            AppendReceipt next = store.Append(new Coordinate("order:0", "tenant:0"), TestEvents.Created, [9]);
            Assert.Equal(expected.Length, next.GlobalSequence);
        }

        foreach ((string file, byte[] bytes) in original)
        {
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(path, FormatUpgrade.BackupFolder, file)));
        }

        using EventStore reopened = TestEvents.Open(path);
        Assert.False(reopened.GetStats().Recovery.UpgradedFromVersion1);
        Assert.True(reopened.VerifyAll(head).IsValid);
        Assert.Equal(expected.Length + 1, reopened.GetHead().NextGlobalSequence);
        output.WriteLine($"{name}: {expected.Length} version-1 events upgraded and verified");
    }

    [Fact]
    public void Open_Version1StoreWithDroppedEvents_IsRefused_AndNoFileChanges()
    {
        using var dir = new TempDirectory();
        string path = CopyOf("dropped", dir);
        Dictionary<string, byte[]> original = Snapshot(path);
        var ex = Assert.Throws<CorruptSegmentException>(() => TestEvents.Open(path).Dispose());
        Assert.Contains("not upgraded", ex.Message, StringComparison.Ordinal);
        output.WriteLine(ex.Message);
        Assert.Equal(original.Keys.Order(), Snapshot(path).Keys.Where(k => k != DirectoryLock.FileName).Order());
        foreach ((string file, byte[] bytes) in original)
        {
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(path, file)));
        }
    }

    [Fact]
    public void Open_TamperedVersion1Store_IsRefused_NeverReHashed()
    {
        using var dir = new TempDirectory();
        string path = CopyOf("plain", dir);
        string segment = Path.Combine(path, "000001.fbat");
        byte[] file = File.ReadAllBytes(segment);
        int header = FrameFormat.TryReadSegmentHeader(segment)!.Value.Length;
        int length = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(header));
        FrameFormat.FrameFields fields = FrameFormat.ReadBody(file.AsMemory(header + 8, length), out ReadOnlyMemory<byte> payload);
        byte[] forged = payload.ToArray();
        forged[0] ^= 1;
        using var frame = new PooledBufferWriter(512);
        FrameFormat.WriteFrame(frame, fields, forged); // the CRC is recomputed, the version-1 hash is not
        frame.WrittenSpan.CopyTo(file.AsSpan(header));
        File.WriteAllBytes(segment, file);

        var ex = Assert.Throws<CorruptSegmentException>(() => TestEvents.Open(path).Dispose());
        Assert.Contains("fails its own verification", ex.Message, StringComparison.Ordinal);
        Assert.Equal(file, File.ReadAllBytes(segment));
    }

    [Fact]
    public void Open_AfterACrashAnywhereInTheUpgrade_FinishesIt_OrStartsOver()
    {
        using var done = new TempDirectory();
        string upgradedPath = CopyOf("plain", done);
        string[] expected = File.ReadAllLines(Path.Combine(Golden("plain"), "events.txt"));
        TestEvents.Open(upgradedPath).Dispose();
        string[] names = Directory.GetFiles(upgradedPath, "*.fbat").Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray();

        // A crash after k of the files were swapped (k = 0 .. all), and a crash before the staging folder was committed.
        for (int k = -1; k <= names.Length; k++)
        {
            using var dir = new TempDirectory();
            string path = CopyOf("plain", dir);
            string folder = Path.Combine(path, k < 0 ? FormatUpgrade.StagingFolder : FormatUpgrade.CommittedFolder);
            Directory.CreateDirectory(folder);
            Directory.CreateDirectory(Path.Combine(path, FormatUpgrade.BackupFolder));
            for (int i = 0; i < names.Length; i++)
            {
                string v2 = Path.Combine(upgradedPath, names[i]);
                if (i < k)
                {
                    File.Move(Path.Combine(path, names[i]), Path.Combine(path, FormatUpgrade.BackupFolder, names[i]));
                    File.Copy(v2, Path.Combine(path, names[i]));
                }
                else
                {
                    File.Copy(v2, Path.Combine(folder, names[i]));
                }
            }

            using EventStore store = TestEvents.Open(path);
            Assert.Equal(expected, store.ReadPage(0, 10_000).Events.Select(Describe).ToArray());
            Assert.True(store.VerifyAll().IsValid);
            Assert.False(Directory.Exists(Path.Combine(path, FormatUpgrade.CommittedFolder)));
            Assert.False(Directory.Exists(Path.Combine(path, FormatUpgrade.StagingFolder)));
        }

        output.WriteLine($"upgrade crash points: {names.Length + 2} tried, {expected.Length} events checked at each, 0 lost");
    }

    [Fact]
    public void OpenReadOnly_Version1Store_IsRefusedWithTheWayToUpgrade()
    {
        using var dir = new TempDirectory();
        string path = CopyOf("plain", dir);
        var ex = Assert.Throws<CorruptSegmentException>(() => EventStore.OpenReadOnly(path).Dispose());
        Assert.Contains("first opened for writing", ex.Message, StringComparison.Ordinal);
    }

    private static string Describe(StoredEvent e) =>
        $"{e.Header.GlobalSequence} {e.Id} {e.Coordinate.Entity} {e.Coordinate.Scope} {e.Header.Position.Sequence} {e.Kind.Value} {(int)e.Header.Flags} {e.IdempotencyKey ?? "-"} {e.Header.CausationId?.ToString() ?? "-"} {Convert.ToHexString(e.Payload.Span)}";
}
