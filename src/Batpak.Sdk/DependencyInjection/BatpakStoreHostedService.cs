using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Batpak.DependencyInjection;

/// <summary>
/// Opens the store when the host starts, so a bad data directory, a locked directory or a damaged segment fails
/// the start instead of the first request. Closing is the container's job: disposing it disposes the store, which
/// drains queued appends, fsyncs and releases the directory lock.
/// </summary>
internal sealed class BatpakStoreHostedService(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = services.GetRequiredService<EventStore>();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
