// The single-writer lock against the ways people walk around it: the LOCK file deleted or replaced while a writer
// runs, .NET's file locking switched off (DOTNET_SYSTEM_IO_DISABLEFILELOCKING=1), the data directory renamed away
// under a live writer, and a holder killed with SIGKILL. Contenders try both in this process and in a child.
using System.Globalization;
using Xunit.Abstractions;

namespace Batpak.Tests.Faults;

public sealed class WriterLockTests(ITestOutputHelper output)
{
    private const int Attempts = 20;
    private const string LockFile = "LOCK";
    private static readonly TimeSpan s_childTimeout = TimeSpan.FromSeconds(60);
    private static readonly Dictionary<string, string> s_noFileLocking = new() { ["DOTNET_SYSTEM_IO_DISABLEFILELOCKING"] = "1" };

    [Fact]
    public void Open_LockFileDeletedWhileAnotherProcessHolds_SecondWriterIsRefused()
    {
        using var dir = new TempDirectory();
        using (var holder = new ChildProcess(dir.Path, "--hold-lock"))
        {
            holder.WaitReady(s_childTimeout);
            File.Delete(dir.Combine(LockFile));
            Assert.False(File.Exists(dir.Combine(LockFile)));

            AssertNoSecondWriter(dir.Path, environment: null);
            holder.CloseInputAndWait(TimeSpan.FromSeconds(30));
            Assert.Equal(0, holder.ExitCode);
        }

        AssertOpensAndAppends(dir.Path);
    }

    [Fact]
    public void Open_LockFileDeletedWhileThisProcessHolds_SecondWriterIsRefused()
    {
        using var dir = new TempDirectory();
        using (EventStore store = TestEvents.Open(dir.Path))
        {
            store.Append(new Coordinate("a", "s"), TestEvents.Created, TestEvents.Payload(1));
            File.Delete(dir.Combine(LockFile));

            AssertNoSecondWriter(dir.Path, environment: null);
            Assert.Equal(1, store.Append(new Coordinate("a", "s"), TestEvents.Created, TestEvents.Payload(2)).GlobalSequence);
        }

        using EventStore reopened = TestEvents.Open(dir.Path);
        Assert.Equal(2, reopened.GetStats().EventCount);
    }

    [Fact]
    public void Open_FileLockingDisabledInHolderAndContender_SecondWriterIsRefused()
    {
        using var dir = new TempDirectory();
        using (var holder = new ChildProcess(s_noFileLocking, dir.Path, "--hold-lock"))
        {
            holder.WaitReady(s_childTimeout);
            Assert.Equal("ready", holder.Lines[0]);

            AssertNoSecondWriter(dir.Path, s_noFileLocking);
            File.Delete(dir.Combine(LockFile));
            AssertNoSecondWriter(dir.Path, s_noFileLocking);
            holder.CloseInputAndWait(TimeSpan.FromSeconds(30));
            Assert.Equal(0, holder.ExitCode);
        }

        AssertOpensAndAppends(dir.Path);
    }

    [Fact]
    public void Open_LockFileReplacedByAnotherFile_SecondWriterIsRefused()
    {
        using var dir = new TempDirectory();
        using (var holder = new ChildProcess(dir.Path, "--hold-lock"))
        {
            holder.WaitReady(s_childTimeout);
            string original = dir.Combine(LockFile);
            string replacement = dir.Combine("LOCK.new");
            File.WriteAllText(replacement, "pid 1\n");
            bool known = Batpak.Storage.DirectoryLock.TryGetIdentity(original, out var before);
            File.Move(replacement, original, overwrite: true);
            if (known)
            {
                Assert.True(Batpak.Storage.DirectoryLock.TryGetIdentity(original, out var after));
                Assert.NotEqual(before, after); // a new inode at the same name
            }

            AssertNoSecondWriter(dir.Path, environment: null);
            holder.CloseInputAndWait(TimeSpan.FromSeconds(30));
        }

        AssertOpensAndAppends(dir.Path);
    }

    [Fact]
    public void Open_HolderWithoutFileLockingKilled_LockIsReleasedByTheKernel()
    {
        using var dir = new TempDirectory();
        using (var holder = new ChildProcess(s_noFileLocking, dir.Path, "--hold-lock"))
        {
            holder.WaitReady(s_childTimeout);
            File.Delete(dir.Combine(LockFile));
            Assert.Throws<StoreLockedException>(() => TestEvents.Open(dir.Path));
            holder.KillHard();
        }

        // No stale lock: a contender (locking off, like the holder) and then this process get in.
        using (var contender = new ChildProcess(s_noFileLocking, dir.Path, "--hold-lock"))
        {
            contender.WaitReady(s_childTimeout);
            Assert.Equal("ready", contender.Lines[0]);
            contender.CloseInputAndWait(TimeSpan.FromSeconds(30));
            Assert.Equal(0, contender.ExitCode);
        }

        AssertOpensAndAppends(dir.Path);
    }

    [SkippableFact]
    public void Writer_DataDirectoryReplacedWhileOpen_StopsBeforeCreatingASegmentOrCompacting()
    {
        Skip.IfNot(Batpak.Storage.DirectoryLock.TryGetIdentity(Path.GetTempPath(), out _), "no inode identity (statx) on this platform: the check is documented as Linux-only");

        using var dir = new TempDirectory();
        string moved = dir.Path + ".moved";
        try
        {
            using EventStore store = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 4096);
            var entity = new Coordinate("a", "s");
            store.Append(entity, TestEvents.Created, TestEvents.Payload(0));
            Directory.Move(dir.Path, moved);
            Directory.CreateDirectory(dir.Path); // a new, empty directory at the store's path

            // A writer on the new directory is another store; the old writer must not create segments in it.
            using (EventStore other = TestEvents.Open(dir.Path))
            {
                other.Append(entity, TestEvents.Updated, TestEvents.Payload(1));
            }

            Exception? failure = null;
            for (int i = 1; i < 200 && failure is null; i++)
            {
                try
                {
                    store.Append(entity, TestEvents.Created, new byte[256]);
                }
                catch (WriterCrashedException ex)
                {
                    failure = ex;
                }
            }

            Assert.NotNull(failure);
            Assert.Contains(dir.Path, failure.ToString(), StringComparison.Ordinal);
            Assert.Throws<StoreLockedException>(() => store.Compact());
            Assert.Single(Directory.GetFiles(dir.Path, "*.fbat")); // only the other store's segment
        }
        finally
        {
            if (Directory.Exists(moved))
            {
                Directory.Delete(moved, recursive: true);
            }
        }
    }

    /// <summary>Tries to open a second writer <see cref="Attempts"/> times here and as many times in a child; none may open.</summary>
    private void AssertNoSecondWriter(string directory, IReadOnlyDictionary<string, string>? environment)
    {
        int admitted = 0;
        for (int i = 0; i < Attempts; i++)
        {
            try
            {
                using EventStore second = TestEvents.Open(directory);
                admitted++;
            }
            catch (StoreLockedException ex)
            {
                Assert.Contains(directory, ex.Message, StringComparison.Ordinal);
                Assert.Equal(directory, ex.Directory);
            }
        }

        using var contender = new ChildProcess(environment, directory, "--contend", Attempts.ToString(CultureInfo.InvariantCulture));
        contender.WaitForExit(s_childTimeout);
        string line = Assert.Single(contender.Lines, l => l.StartsWith("second writer:", StringComparison.Ordinal));
        int childAdmitted = int.Parse(line.Split(' ')[4], CultureInfo.InvariantCulture);
        output.WriteLine($"second writer: {2 * Attempts} attempts, {admitted + childAdmitted} admitted ({Attempts} in this process, {Attempts} in a child{(environment is null ? "" : " with DOTNET_SYSTEM_IO_DISABLEFILELOCKING=1")})");
        Assert.Equal(0, admitted);
        Assert.Equal(0, childAdmitted);
        Assert.Equal(0, contender.ExitCode);
    }

    /// <summary>The store still opens cleanly after the contest, and takes appends.</summary>
    private static void AssertOpensAndAppends(string directory)
    {
        using EventStore store = TestEvents.Open(directory);
        long before = store.GetStats().EventCount;
        store.Append(new Coordinate("after", "s"), TestEvents.Created, TestEvents.Payload(9));
        Assert.Equal(before + 1, store.GetStats().EventCount);
        Assert.True(store.VerifyAll().IsValid);
    }
}
