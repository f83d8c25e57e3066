using Microsoft.Extensions.DependencyInjection;

namespace Batpak.DependencyInjection;

/// <summary>The one <see cref="IBatpakBuilder"/> implementation: a handle on the service collection.</summary>
internal sealed class BatpakBuilder(IServiceCollection services) : IBatpakBuilder
{
    public IServiceCollection Services { get; } = services;
}

/// <summary>Registered once by the first <c>AddBatpak</c>; later calls see it and add only their configuration.</summary>
internal sealed class BatpakMarker;

/// <summary>How the <see cref="GateSet{TContext}"/> assembled from the registered gates evaluates them.</summary>
internal sealed record GateSetSettings<TContext>(GatePolicy Policy, string? Name);
