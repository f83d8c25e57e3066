using Npgsql;

namespace Batpak.Bench.Engines;

/// <summary>
/// What the two raw Npgsql baselines (<see cref="NpgsqlRawEngine"/>, <see cref="NpgsqlRowsEngine"/>) share: the
/// data source of the database the runner hands them, and W2's shape (one connection per appender, each taking the
/// next event number until <c>count</c> are acknowledged).
/// </summary>
internal abstract class NpgsqlBaseline : BenchEngine
{
    private NpgsqlDataSource? _source;

    public override bool RunsOnPostgres => true;

    protected NpgsqlDataSource Source => _source ?? throw new InvalidOperationException("Store not open.");

    public override void CreateForDurable(string directory) => CreateForAppend(directory, 1);

    public override void OpenExisting(string directory)
    {
        Close();
        _source = NpgsqlDataSource.Create(directory);
    }

    /// <summary>
    /// Runs <paramref name="concurrency"/> appender threads, each on its own connection: <paramref name="open"/>
    /// prepares what it needs on that connection and returns the action that appends event <c>i</c> (one
    /// acknowledgement when it returns).
    /// </summary>
    protected long RunAppenders(int count, int concurrency, Func<NpgsqlConnection, Action<int>> open)
    {
        var source = Source;
        int next = -1;
        long acknowledged = 0;
        var threads = new Thread[concurrency];
        for (int t = 0; t < concurrency; t++)
        {
            threads[t] = new Thread(() =>
            {
                using var connection = source.OpenConnection();
                Action<int> append = open(connection);
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                {
                    append(i);
                    Interlocked.Increment(ref acknowledged);
                }
            })
            { Name = Key + "-appender-" + t, IsBackground = true };
        }

        RunToCompletion(threads);
        return acknowledged;
    }

    public override void Close()
    {
        _source?.Dispose();
        _source = null;
    }
}
