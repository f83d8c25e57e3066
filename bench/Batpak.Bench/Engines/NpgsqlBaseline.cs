using Npgsql;

namespace Batpak.Bench.Engines;

/// <summary>
/// What the two raw Npgsql baselines (<see cref="NpgsqlRawEngine"/>, <see cref="NpgsqlRowsEngine"/>) share: the
/// data source of the database the runner hands them, and W2 on one connection per appender.
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
    /// W2 on one connection per appender thread (<see cref="BenchEngine.RunAppenders"/>): <paramref name="open"/>
    /// prepares what it needs on that connection and returns the action that appends event <c>i</c>. The
    /// connections stay open until the run ends.
    /// </summary>
    protected long RunAppenders(int count, int concurrency, Func<NpgsqlConnection, Action<int>> open)
    {
        NpgsqlDataSource source = Source;
        var connections = new System.Collections.Concurrent.ConcurrentBag<NpgsqlConnection>();
        try
        {
            return RunAppenders(count, concurrency, () =>
            {
                NpgsqlConnection connection = source.OpenConnection();
                connections.Add(connection);
                return open(connection);
            });
        }
        finally
        {
            foreach (NpgsqlConnection connection in connections)
            {
                connection.Dispose();
            }
        }
    }

    public override void Close()
    {
        _source?.Dispose();
        _source = null;
    }
}
