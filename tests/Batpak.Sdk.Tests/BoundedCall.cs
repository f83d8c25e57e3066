namespace Batpak.Tests;

/// <summary>
/// Runs a call that must not hang, on a thread of its own, and fails the test when it has not returned within the
/// bound. A dedicated thread, not the thread pool: with many tests blocking pool threads at once, a pool work item
/// can wait seconds before it even starts, which would count against the call.
/// </summary>
internal static class BoundedCall
{
    /// <summary>Runs <paramref name="action"/>; its own exception is rethrown as it was.</summary>
    public static T Run<T>(string what, TimeSpan bound, Func<T> action)
    {
        T result = default!;
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = action();
            }
            catch (Exception ex)
            {
                error = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex);
            }
        })
        {
            IsBackground = true, // a hung call must not keep the test host alive
            Name = "bounded: " + what,
        };
        thread.Start();
        Assert.True(thread.Join(bound), $"{what} did not return within {bound.TotalSeconds} s (a hang)");
        error?.Throw();
        return result;
    }

    /// <summary>Runs <paramref name="action"/>; its own exception is rethrown as it was.</summary>
    public static void Run(string what, TimeSpan bound, Action action) => Run(what, bound, () =>
    {
        action();
        return 0;
    });
}
