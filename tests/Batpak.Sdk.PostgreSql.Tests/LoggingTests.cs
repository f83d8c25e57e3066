// The engine's logs: opening says which schema and high-water mark, and a writer that loses its connection while a
// group holds the sequencer says so as warnings naming the schema (what the server said, then the failed group) (so an operator sees what the caller's exception
// said). A capturing ILoggerFactory, no host.
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Batpak.PostgreSql.Tests;

public sealed class LoggingTests : IDisposable
{
    private readonly string _schema = PgServer.NewSchema();
    private readonly Capture _logs = new();
    private PostgresEventStore? _store;

    [SkippableFact]
    public void Open_LogsTheSchemaAndHighWaterMark_AndALostWriterConnection_LogsAWarningNamingTheSchema()
    {
        PgServer.Require();
        _store = PostgresEventStore.Open(TestStores.Options(_schema), loggerFactory: _logs);
        (LogLevel level, string category, string message) opened = Assert.Single(_logs.Entries, e => e.Message.StartsWith("Opened", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Information, opened.level);
        Assert.Equal("Batpak.PostgreSql", opened.category);
        Assert.Contains(_schema, opened.message, StringComparison.Ordinal);
        Assert.Contains("high-water mark 0", opened.message, StringComparison.Ordinal);

        _store.Append(TestData.Entity("l:0"), TestData.Created, TestData.Payload(0));
        Assert.DoesNotContain(_logs.Entries, e => e.Level >= LogLevel.Warning);
        bool armed = true;
        _store.Engine.Writer.FaultHook = stage =>
        {
            if (stage == "before-write" && armed)
            {
                armed = false;
                PgServer.Terminate(_store.Engine.Writer.BackendProcessId);
            }
        };

        Assert.Throws<StoreConnectionException>(() => _store.Append(TestData.Entity("l:1"), TestData.Created, TestData.Payload(1)));
        // The break came before the COMMIT was answered: the writer asked the server, then failed the group.
        string[] warnings = [.. _logs.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message)];
        Assert.Equal(2, warnings.Length);
        Assert.All(warnings, w => Assert.Contains($"\"{_schema}\"", w, StringComparison.Ordinal));
        Assert.Contains("asked the server: nothing of the group is stored", warnings[0], StringComparison.Ordinal);
        Assert.Contains("failed a group of 1 event(s)", warnings[1], StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _store?.Dispose();
        TestStores.DropSchema(_schema);
    }

    private sealed class Capture : ILoggerFactory
    {
        public ConcurrentQueue<(LogLevel Level, string Category, string Message)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        private sealed class Logger(Capture owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Entries.Enqueue((logLevel, category, formatter(state, exception)));
        }
    }
}
