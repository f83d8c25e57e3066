// Owns the regression tests for when a failed optimistic-concurrency check is reported: a SequenceMismatchException
// found against an event of the group-commit batch in progress names an Actual sequence only once that event is
// visible, and a CAS loser whose batch write fails gets WriterCrashedException, never an Actual that never existed.
using System.Collections.Concurrent;
using System.Diagnostics;
using Xunit.Abstractions;

namespace Batpak.Tests.Faults;

public sealed class SequenceMismatchTimingTests(ITestOutputHelper output)
{
    private static readonly Coordinate s_x = new("acct:x", "bank");
    private static readonly Coordinate s_y = new("acct:y", "bank");
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CasLoser_InTheWinnersBatch_IsToldOnlyWhenTheWinnersEventIsVisible(bool loserIsABatch)
    {
        using var dir = new TempDirectory();
        await using EventStore store = TestEvents.Open(dir.Path);
        store.Append(s_x, TestEvents.Created, TestEvents.Payload(0));
        long seenWhenToldLoser = -2;
        (Task<AppendReceipt> winner, Task<AppendReceipt> loser) = await QueueWinnerAndLoserInOneBatch(store, failSecondWrite: false, loserIsABatch, loser =>
            loser.ContinueWith(_ => seenWhenToldLoser = store.GetLastSequence(s_x.Entity), TaskContinuationOptions.ExecuteSynchronously));

        Assert.Equal(1, (await winner.WaitAsync(s_bound)).EntitySequence);
        var ex = await Assert.ThrowsAsync<SequenceMismatchException>(() => loser.WaitAsync(s_bound));
        output.WriteLine($"loser: {ex.Message}; the entity's last sequence when it was told: {seenWhenToldLoser}");
        Assert.Equal(1, ex.Actual);
        Assert.True(seenWhenToldLoser >= ex.Actual, $"the loser was told Actual = {ex.Actual} while readers saw {seenWhenToldLoser}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CasLoser_WhenTheBatchWriteFails_GetsWriterCrashed_NotAnActualThatNeverExisted(bool loserIsABatch)
    {
        using var dir = new TempDirectory();
        await using EventStore store = TestEvents.Open(dir.Path);
        store.Append(s_x, TestEvents.Created, TestEvents.Payload(0));
        (Task<AppendReceipt> winner, Task<AppendReceipt> loser) = await QueueWinnerAndLoserInOneBatch(store, failSecondWrite: true, loserIsABatch, loser =>
            loser.ContinueWith(_ => { }, TaskContinuationOptions.ExecuteSynchronously));

        await Assert.ThrowsAsync<WriterCrashedException>(() => winner.WaitAsync(s_bound));
        Exception? error = await Record.ExceptionAsync(() => loser.WaitAsync(s_bound));
        long last = store.GetLastSequence(s_x.Entity);
        output.WriteLine($"loser: {error?.GetType().Name}: {error?.Message}; last sequence after the failure: {last}");
        Assert.Equal(0, last);
        if (error is SequenceMismatchException mismatch)
        {
            Assert.True(mismatch.Actual <= last, $"the loser was told Actual = {mismatch.Actual}, which does not exist (last is {last})");
        }

        Assert.IsType<WriterCrashedException>(error);

        // Not appended, so it can be retried as it was, and succeeds once the writer has restarted.
        Assert.Equal(1, (await store.AppendAsync(s_x, TestEvents.Created, TestEvents.Payload(2), new AppendOptions { ExpectedSequence = 0 })).EntitySequence);
    }

    [Fact]
    public void CasAppenders_OnOneEntity_EveryMismatchNamesASequenceReadersCanSee()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        TimeSpan duration = TimeSpan.FromSeconds(2 * FaultSettings.Scale);
        var clock = Stopwatch.StartNew();
        var errors = new ConcurrentQueue<string>();
        long mismatches = 0;
        long appended = 0;
        Thread[] threads = Enumerable.Range(0, 6).Select(t => Background(() =>
        {
            try
            {
                while (clock.Elapsed < duration)
                {
                    long expected = store.GetLastSequence(s_x.Entity);
                    try
                    {
                        store.Append(s_x, TestEvents.Created, TestEvents.Payload(t), new AppendOptions { ExpectedSequence = expected, Durable = true });
                        Interlocked.Increment(ref appended);
                    }
                    catch (SequenceMismatchException ex)
                    {
                        long visible = store.GetLastSequence(s_x.Entity);
                        Interlocked.Increment(ref mismatches);
                        if (visible < ex.Actual)
                        {
                            errors.Enqueue($"told Actual = {ex.Actual} while readers saw {visible}");
                        }
                    }
                }
            }
            catch (Exception ex)
            {
                errors.Enqueue(ex.ToString());
            }
        })).ToArray();
        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        foreach (Thread thread in threads)
        {
            Assert.True(thread.Join(duration + TimeSpan.FromSeconds(60)), "a CAS appender hung");
        }

        output.WriteLine($"CAS race: {appended} appended, {mismatches} mismatches checked, {errors.Count} named an invisible sequence");
        Assert.True(errors.IsEmpty, errors.FirstOrDefault());
        Assert.Equal(appended, store.GetLastSequence(s_x.Entity) + 1);
    }

    /// <summary>
    /// Holds the writer inside the write of a first batch while a winner (no expectation) and a loser (expecting the
    /// entity's current last sequence) are queued behind it, so both land in the second batch in that order. The
    /// second batch's write waits up to a second for the loser to be told (a reply sent during staging arrives in
    /// that time), then fails when <paramref name="failSecondWrite"/>. The loser is an AppendAsync, or an AppendBatch
    /// whose second event carries the expectation (checked by the batch validation).
    /// </summary>
    private static async Task<(Task<AppendReceipt> Winner, Task<AppendReceipt> Loser)> QueueWinnerAndLoserInOneBatch(
        EventStore store, bool failSecondWrite, bool loserIsABatch, Func<Task<AppendReceipt>, Task> observeLoser)
    {
        using var releaseFirst = new ManualResetEventSlim();
        Task? loser = null;
        int writes = 0;
        store.Writer.FaultInjector = op =>
        {
            if (op != "write")
            {
                return;
            }

            int n = Interlocked.Increment(ref writes);
            if (n == 1)
            {
                releaseFirst.Wait(s_bound);
            }
            else if (n == 2)
            {
                SpinWait.SpinUntil(() => Volatile.Read(ref loser)?.IsCompleted == true, TimeSpan.FromSeconds(1));
                if (failSecondWrite)
                {
                    throw new IOException("injected write failure (No space left on device)");
                }
            }
        };

        Task<AppendReceipt> blocker = Task.Run(() => store.Append(s_y, TestEvents.Created, TestEvents.Payload(1)));
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref writes) == 1, s_bound), "the first batch never reached its write");
        Task<AppendReceipt> winner = store.AppendAsync(s_x, TestEvents.Created, TestEvents.Payload(1)).AsTask();
        var expectZero = new AppendOptions { ExpectedSequence = 0 };
        Task<AppendReceipt> lost = loserIsABatch
            ? Task.Run(() => store.AppendBatch([new(s_y, TestEvents.Created, TestEvents.Payload(3)), new(s_x, TestEvents.Created, TestEvents.Payload(2), expectZero)])[1])
            : store.AppendAsync(s_x, TestEvents.Created, TestEvents.Payload(2), expectZero).AsTask();
        Assert.True(SpinWait.SpinUntil(() => store.Writer.QueueDepth == 2, s_bound), "winner and loser were not both queued");
        Task observed = observeLoser(lost);
        Volatile.Write(ref loser, observed);
        releaseFirst.Set();
        await blocker.WaitAsync(s_bound);
        await Task.WhenAny(observed, Task.Delay(s_bound));
        Assert.True(observed.IsCompleted, "the loser was never answered");
        store.Writer.FaultInjector = null;
        return (winner, lost);
    }

    private static Thread Background(ThreadStart body) => new(body) { IsBackground = true };
}
