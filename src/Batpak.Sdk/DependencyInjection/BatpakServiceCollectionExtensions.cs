using System.Diagnostics.Metrics;
using Batpak;
using Batpak.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Batpak event store in an <see cref="IServiceCollection"/>.</summary>
public static class BatpakServiceCollectionExtensions
{
    /// <summary>
    /// Adds the Batpak event store: <see cref="EventStore"/> and <see cref="IEventStore"/> as one singleton (disposed
    /// with the container, which drains queued appends and releases the directory lock), validated
    /// <see cref="BatpakOptions"/>, <see cref="TimeProvider.System"/> unless a <see cref="TimeProvider"/> is already
    /// registered, <see cref="IEventTypeRegistry"/> (every assembly's generated event registry), and a hosted
    /// service that opens the store when the host starts, so a bad data directory fails the start.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options in code; runs after earlier configuration (later calls win).</param>
    /// <returns>A builder for gates, configuration binding and event registries.</returns>
    /// <remarks>
    /// <para>Safe to call more than once: services are registered once (<c>TryAdd</c>); each call's
    /// <paramref name="configure"/> is applied in order.</para>
    /// <para>Options are validated when the host starts (<c>ValidateOnStart</c>) or, without a host, when the store
    /// is first resolved, by the same rules as the <see cref="EventStore"/> constructor; the
    /// <see cref="OptionsValidationException"/> lists every bad setting by name, in the words of the constructor's
    /// exception.</para>
    /// <para>Logging goes to the container's <see cref="ILoggerFactory"/> and metrics to its
    /// <see cref="IMeterFactory"/> when they are registered (a Host registers both); see <see cref="BatpakMetrics"/>.</para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is null.</exception>
    public static IBatpakBuilder AddBatpak(this IServiceCollection services, Action<BatpakOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<BatpakOptions> options = services.AddOptions<BatpakOptions>();
        if (!services.Any(static d => d.ServiceType == typeof(BatpakMarker)))
        {
            services.AddSingleton<BatpakMarker>();
            options.ValidateOnStart();
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BatpakOptions>, BatpakOptionsValidator>());
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(BatpakEventRegistries.Combined);
        services.TryAddSingleton(static sp => new EventStore(
            sp.GetRequiredService<IOptions<BatpakOptions>>().Value,
            sp.GetService<TimeProvider>(),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<IMeterFactory>()));
        services.TryAddSingleton<IEventStore>(static sp => sp.GetRequiredService<EventStore>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, BatpakStoreHostedService>());
        return new BatpakBuilder(services);
    }

    /// <summary>
    /// Adds the Batpak event store with options bound from <paramref name="configuration"/> (for example
    /// <c>builder.Configuration.GetSection("Batpak")</c>), then <paramref name="configure"/>. Keys are the
    /// <see cref="BatpakOptions"/> property names; see <see cref="BatpakBuilderExtensions.BindConfiguration"/> for the
    /// value formats.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration section holding the options.</param>
    /// <param name="configure">Sets options in code after binding.</param>
    /// <returns>A builder for gates, configuration binding and event registries.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="configuration"/> is null.</exception>
    public static IBatpakBuilder AddBatpak(this IServiceCollection services, IConfiguration configuration, Action<BatpakOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        IBatpakBuilder builder = services.AddBatpak();
        services.AddOptions<BatpakOptions>().Configure(options => BatpakConfigurationBinder.Bind(configuration, options));
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        return builder;
    }
}
