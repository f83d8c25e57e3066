namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Returned by <see cref="BatpakServiceCollectionExtensions.AddBatpak(IServiceCollection, Action{Batpak.BatpakOptions}?)"/>
/// to add more Batpak services: options (<see cref="BatpakBuilderExtensions.Configure"/>,
/// <see cref="BatpakBuilderExtensions.BindConfiguration"/>), gates (<see cref="BatpakBuilderExtensions.AddGate"/>) and
/// event registries of other assemblies (<see cref="BatpakBuilderExtensions.AddEventTypes"/>).
/// </summary>
/// <remarks>Extension packages (projections, reactors) add their own methods to this interface.</remarks>
public interface IBatpakBuilder
{
    /// <summary>The service collection Batpak registers into.</summary>
    IServiceCollection Services { get; }
}
