using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using LogEventId = Microsoft.Extensions.Logging.EventId;

namespace Batpak.Tests.DependencyInjection;

/// <summary>One collected log entry.</summary>
internal sealed record LogEntry(string Category, LogLevel Level, LogEventId EventId, string Message, Exception? Exception);

/// <summary>An <see cref="ILoggerFactory"/> that keeps every entry in memory.</summary>
internal sealed class CollectingLoggerFactory : ILoggerFactory
{
    public ConcurrentQueue<LogEntry> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    public IReadOnlyList<LogEntry> Named(string eventName) => Entries.Where(e => e.EventId.Name == eventName).ToList();

    private sealed class Logger(CollectingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, LogEventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue(new LogEntry(category, logLevel, eventId, formatter(state, exception), exception));
    }
}

/// <summary>An <see cref="IMeterFactory"/> whose meters a <see cref="MeterCollector"/> can pick out from every other meter in the process.</summary>
internal sealed class TestMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(new MeterOptions(options.Name) { Version = options.Version, Tags = options.Tags, Scope = this });
        lock (_meters)
        {
            _meters.Add(meter);
        }

        return meter;
    }

    public void Dispose()
    {
        lock (_meters)
        {
            foreach (Meter meter in _meters)
            {
                meter.Dispose();
            }
        }
    }
}

/// <summary>Collects every measurement of the meters created by one <see cref="TestMeterFactory"/>.</summary>
internal sealed class MeterCollector : IDisposable
{
    private readonly MeterListener _listener = new();

    public MeterCollector(TestMeterFactory factory)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => Add(instrument, value));
        _listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => Add(instrument, value));
        _listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => Add(instrument, value));
        _listener.Start();
    }

    public ConcurrentQueue<(string Instrument, string? Unit, double Value)> Measurements { get; } = new();

    public void RecordObservables() => _listener.RecordObservableInstruments();

    public IReadOnlyList<double> Of(string instrument) => Measurements.Where(m => m.Instrument == instrument).Select(m => m.Value).ToList();

    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value) => Measurements.Enqueue((instrument.Name, instrument.Unit, value));
}
