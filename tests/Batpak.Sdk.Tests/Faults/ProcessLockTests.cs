namespace Batpak.Tests.Faults;

/// <summary>One writer per directory, across processes: the flock on the data directory is per open file, held by the kernel.</summary>
public sealed class ProcessLockTests
{
    [Fact]
    public void Open_DirectoryHeldByAnotherProcess_ThrowsStoreLocked()
    {
        using var dir = new TempDirectory();
        using (var child = new ChildProcess(dir.Path, "--hold-lock"))
        {
            child.WaitReady(TimeSpan.FromSeconds(60));
            Assert.Equal("ready", child.Lines[0]);
            var ex = Assert.Throws<StoreLockedException>(() => TestEvents.Open(dir.Path));
            Assert.Contains(dir.Path, ex.Message, StringComparison.Ordinal);
            child.CloseInputAndWait(TimeSpan.FromSeconds(30));
            Assert.Equal(0, child.ExitCode);
        }

        using EventStore store = TestEvents.Open(dir.Path);
        Assert.Equal(0, store.Append(new Coordinate("a", "s"), TestEvents.Created, TestEvents.Payload(1)).GlobalSequence);
    }

    [Fact]
    public void Open_HolderProcessKilled_LockIsReleasedByTheKernel()
    {
        using var dir = new TempDirectory();
        using (var child = new ChildProcess(dir.Path, "--hold-lock"))
        {
            child.WaitReady(TimeSpan.FromSeconds(60));
            Assert.Throws<StoreLockedException>(() => TestEvents.Open(dir.Path));
            child.KillHard();
        }

        using EventStore store = TestEvents.Open(dir.Path);
        Assert.Equal(0, store.GetStats().EventCount);
    }

    [Fact]
    public void Open_DirectoryHeldByThisProcess_OtherProcessGetsStoreLocked()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        using var child = new ChildProcess(dir.Path, "--hold-lock");
        child.WaitReady(TimeSpan.FromSeconds(60));
        child.CloseInputAndWait(TimeSpan.FromSeconds(30));
        Assert.Equal(3, child.ExitCode);
        Assert.StartsWith("locked", child.Lines[0], StringComparison.Ordinal);
    }
}
