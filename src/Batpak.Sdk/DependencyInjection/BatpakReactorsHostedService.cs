using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Batpak.DependencyInjection;

/// <summary>One reactor registered with <c>AddReactor</c>, with its options.</summary>
internal sealed record ReactorRegistration(Func<IServiceProvider, IReactor> Create, ReactorOptions? Options);

/// <summary>
/// Runs every reactor registered with <c>AddReactor</c> while the host runs: a <see cref="ReactorRunner"/> each
/// (own durable cursor, idempotent reactions, bounded retry), started at host start and stopped at host stop.
/// Failures are logged (category <see cref="BatpakMetrics.LoggerCategory"/>) and never stop the host or the store.
/// </summary>
internal sealed partial class BatpakReactorsHostedService(IServiceProvider services, IEnumerable<ReactorRegistration> registrations) : IHostedService, IAsyncDisposable
{
    private readonly List<ReactorRunner> _runners = new();

    public Task StartAsync(CancellationToken cancellationToken)
    {
        IEventStore store = services.GetRequiredService<IEventStore>();
        ILogger logger = services.GetService<ILoggerFactory>()?.CreateLogger(BatpakMetrics.LoggerCategory) ?? NullLogger.Instance;
        foreach (ReactorRegistration registration in registrations)
        {
            IReactor reactor = registration.Create(services);
            ReactorOptions options = registration.Options ?? new ReactorOptions();
            Action<ReactorFailure>? userCallback = options.OnFailure;
            options = options with
            {
                OnFailure = failure =>
                {
                    LogReactorFailure(logger, failure.ReactorName, failure.Source.Id, failure.Attempt, failure.Action, failure.Exception);
                    userCallback?.Invoke(failure);
                },
            };
            var runner = new ReactorRunner(store, reactor, options);
            _runners.Add(runner);
            runner.Start();
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (ReactorRunner runner in _runners)
        {
            await runner.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (ReactorRunner runner in _runners)
        {
            await runner.DisposeAsync().ConfigureAwait(false);
        }

        _runners.Clear();
    }

    [LoggerMessage(EventId = 20, EventName = "ReactorFailed", Level = LogLevel.Warning,
        Message = "Reactor {Reactor} failed on event {EventId} (attempt {Attempt}); next: {Action}")]
    private static partial void LogReactorFailure(ILogger logger, string reactor, EventId eventId, int attempt, ReactorFailureAction action, Exception error);
}
