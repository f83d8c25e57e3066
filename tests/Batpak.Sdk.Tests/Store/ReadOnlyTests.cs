using Batpak.Tests.Faults;

namespace Batpak.Tests.Store;

public class ReadOnlyTests
{
    private static readonly Coordinate s_alice = new("acct:alice", "bank");

    [Fact]
    public void OpenReadOnly_WhileAWriterHoldsTheStore_SeesTheAcknowledgedPrefixAndTakesNoLock()
    {
        using var dir = new TempDirectory();
        using EventStore writer = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 4096);
        var written = new List<AppendReceipt>();
        for (int i = 0; i < 120; i++)
        {
            written.Add(writer.Append(new Coordinate($"e{i % 4}", "s"), TestEvents.Created, TestEvents.Payload(i)));
        }

        using EventStore reader = EventStore.OpenReadOnly(dir.Path);
        Assert.True(reader.IsReadOnly);
        Assert.False(writer.IsReadOnly);
        Assert.Equal(written.Select(r => r.EventId), reader.ReadPage(0, 1000).Events.Select(e => e.Id));
        Assert.Equal("payload-7", System.Text.Encoding.UTF8.GetString(reader.Get(written[7].EventId).Payload.Span));
        Assert.Equal(29, reader.GetLastSequence("e0"));
        ChainVerification chain = reader.VerifyAll();
        Assert.True(chain.IsValid, chain.Failure);
        Assert.Equal(120, chain.EventsChecked);

        // The writer keeps going; the read-only view stays as of its open.
        AppendReceipt later = writer.Append(s_alice, TestEvents.Created, TestEvents.Payload(999), new AppendOptions { Durable = true });
        Assert.False(reader.TryGet(later.EventId, out _));
        Assert.Equal(120, reader.GetStats().EventCount);

        // No lock taken: the writer still owns the directory, and once it is gone another writer opens it.
        Assert.Throws<StoreLockedException>(() => TestEvents.Open(dir.Path));
        writer.Dispose();
        using EventStore next = TestEvents.Open(dir.Path, o => o.SegmentMaxBytes = 4096);
        Assert.Equal(121, next.GetStats().EventCount);
        Assert.Equal(written[^1].EventId, reader.Get(written[^1].EventId).Id);
    }

    [Fact]
    public async Task OpenReadOnly_AppendsSyncAndSnapshot_ThrowInvalidOperation()
    {
        using var dir = new TempDirectory();
        AppendReceipt first;
        using (EventStore store = TestEvents.Open(dir.Path))
        {
            first = store.Append(s_alice, TestEvents.Created, TestEvents.Payload(1));
        }

        using EventStore reader = EventStore.OpenReadOnly(dir.Path);
        var ex = Assert.Throws<InvalidOperationException>(() => reader.Append(s_alice, TestEvents.Created, TestEvents.Payload(2)));
        Assert.Contains("read-only", ex.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => reader.Append(default, TestEvents.Created, TestEvents.Payload(2))); // before validation
        await Assert.ThrowsAsync<InvalidOperationException>(() => reader.AppendAsync(s_alice, TestEvents.Created, TestEvents.Payload(2)).AsTask());
        Assert.Throws<InvalidOperationException>(() => reader.AppendBatch([new(s_alice, TestEvents.Created, TestEvents.Payload(2))]));
        Assert.Throws<InvalidOperationException>(() => reader.AppendReaction(first.EventId, s_alice, TestEvents.Created, TestEvents.Payload(2)));
        Assert.Throws<InvalidOperationException>(reader.Sync);
        Assert.Throws<InvalidOperationException>(() => reader.Snapshot(Path.Combine(dir.Path, "snap")));
        Assert.Equal(1, reader.GetStats().EventCount);
        Assert.Equal(0, reader.GetStats().SyncCount);
    }

    [Fact]
    public void OpenReadOnly_TornTail_IsIgnoredAndTheFileLeftAsItIs()
    {
        using var dir = new TempDirectory();
        AppendReceipt last;
        using (EventStore store = TestEvents.Open(dir.Path))
        {
            store.Append(s_alice, TestEvents.Created, TestEvents.Payload(1));
            last = store.Append(s_alice, TestEvents.Created, TestEvents.Payload(2));
        }

        string segment = dir.Combine("000001.fbat");
        long cut = last.Position.Offset + 5;
        using (var stream = new FileStream(segment, FileMode.Open))
        {
            stream.SetLength(cut);
        }

        using (EventStore reader = EventStore.OpenReadOnly(dir.Path))
        {
            Assert.Equal(1, reader.GetStats().EventCount);
            RecoveryReport report = reader.GetStats().Recovery;
            Assert.Equal(last.Position.Offset, report.TruncatedAtOffset);
            Assert.Contains("read-only", report.TruncationReason, StringComparison.Ordinal);
            Assert.Equal(cut, new FileInfo(segment).Length);
        }

        using EventStore writer = TestEvents.Open(dir.Path);
        Assert.Equal(last.Position.Offset, new FileInfo(segment).Length); // the writer is the one that cuts
    }

    [Fact]
    public void OpenReadOnly_MissingOrEmptyDirectory_ThrowsOrOpensEmptyWithoutCreatingFiles()
    {
        using var dir = new TempDirectory();
        Assert.Throws<DirectoryNotFoundException>(() => EventStore.OpenReadOnly(dir.Combine("nope")));
        Assert.False(Directory.Exists(dir.Combine("nope")));
        using EventStore reader = EventStore.OpenReadOnly(dir.Path);
        Assert.Equal(0, reader.GetStats().EventCount);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public void OpenReadOnly_WhileAnotherProcessAppends_AlwaysSeesAConsistentPrefix()
    {
        using var dir = new TempDirectory();
        using var child = new ChildProcess(dir.Path, "--segment-bytes", "65536");
        child.WaitReady(TimeSpan.FromSeconds(60));
        long previous = -1;
        for (int i = 0; i < 10; i++)
        {
            Thread.Sleep(20);
            using EventStore reader = EventStore.OpenReadOnly(dir.Path);
            List<StoredEvent> all = reader.ReadPage(0, 1_000_000).Events.ToList();
            Assert.Equal(Enumerable.Range(0, all.Count).Select(n => (long)n), all.Select(e => e.Header.GlobalSequence));
            Assert.All(all, e => Assert.True(e.Payload.Span.SequenceEqual(Batpak.CrashChild.CrashPayload.For(e.Coordinate.Entity, e.Header.Position.Sequence))));
            ChainVerification chain = reader.VerifyAll();
            Assert.True(chain.IsValid, chain.Failure);
            Assert.True(all.Count >= previous, "a later read-only open saw fewer events");
            previous = all.Count;
        }

        child.KillHard();
        Assert.True(previous > 0);
    }

    [Fact]
    public void OpenReadOnly_DirectoryLockedByAnotherProcess_Opens()
    {
        using var dir = new TempDirectory();
        using (EventStore store = TestEvents.Open(dir.Path))
        {
            store.Append(s_alice, TestEvents.Created, TestEvents.Payload(1));
        }

        using var child = new ChildProcess(dir.Path, "--hold-lock");
        child.WaitReady(TimeSpan.FromSeconds(60));
        Assert.Throws<StoreLockedException>(() => TestEvents.Open(dir.Path));
        using EventStore reader = EventStore.OpenReadOnly(dir.Path);
        Assert.Equal(1, reader.GetStats().EventCount);
        child.CloseInputAndWait(TimeSpan.FromSeconds(30));
    }
}
