// UsePostgreSql: switches an AddBatpak registration from the embedded store to a PostgreSQL store, opened when the
// host starts (a server that is down fails host start). Called by applications at service registration.
using Batpak;
using Batpak.DependencyInjection;
using Batpak.PostgreSql;
using Batpak.PostgreSql.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the PostgreSQL engine on an <see cref="IBatpakBuilder"/>.</summary>
public static class PostgresBatpakBuilderExtensions
{
    /// <summary>
    /// Makes <see cref="IEventStore"/> (and <see cref="PostgresEventStore"/>) resolve to a store in PostgreSQL at
    /// <paramref name="connectionString"/>, opened when the host starts. <see cref="BatpakOptions.DataDirectory"/> is
    /// then not required and the file settings are ignored; <see cref="EventStore"/> itself no longer resolves.
    /// </summary>
    /// <param name="builder">What <c>AddBatpak</c> returned.</param>
    /// <param name="connectionString">An Npgsql connection string (<see cref="PostgresStoreOptions.ConnectionString"/>).</param>
    /// <param name="configure">Sets the other <see cref="PostgresStoreOptions"/> (schema, schema mode, poll interval, ...).</param>
    public static IBatpakBuilder UsePostgreSql(this IBatpakBuilder builder, string connectionString, Action<PostgresStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        IServiceCollection services = builder.Services;
        services.AddOptions<PostgresStoreOptions>()
            .Configure(options =>
            {
                options.ConnectionString = connectionString;
                configure?.Invoke(options);
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgresStoreOptions>, PostgresStoreOptionsValidator>());

        // The embedded validator requires DataDirectory; this one applies every other BatpakOptions rule.
        RemoveImplementation(services, typeof(IValidateOptions<BatpakOptions>), typeof(BatpakOptionsValidator));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BatpakOptions>, PostgresBatpakOptionsValidator>());

        services.TryAddSingleton(static sp => PostgresEventStore.Open(
            sp.GetRequiredService<IOptions<PostgresStoreOptions>>().Value,
            sp.GetRequiredService<IOptions<BatpakOptions>>().Value,
            sp.GetService<TimeProvider>(),
            sp.GetService<Microsoft.Extensions.Logging.ILoggerFactory>()));
        services.Replace(ServiceDescriptor.Singleton<IEventStore>(static sp => sp.GetRequiredService<PostgresEventStore>()));
        services.Replace(ServiceDescriptor.Singleton<EventStore>(static _ => throw new InvalidOperationException(
            "This application's store is PostgreSQL (UsePostgreSql): resolve IEventStore or PostgresEventStore. The embedded EventStore (and ProjectionCacheMode.Disk, which lives in its data directory) is not available.")));

        // Open the store when the host starts, in the place of the embedded store's hosted service.
        ServiceDescriptor opener = ServiceDescriptor.Singleton<IHostedService, PostgresStoreHostedService>();
        int embedded = IndexOfImplementation(services, typeof(IHostedService), typeof(BatpakStoreHostedService));
        if (embedded >= 0)
        {
            services[embedded] = opener;
        }
        else
        {
            services.TryAddEnumerable(opener);
        }

        return builder;
    }

    /// <summary>
    /// Makes the projection cache (<see cref="IProjectionCache"/>, used by <c>AddProjections</c>) a
    /// <see cref="PostgresProjectionCache"/> in the store's schema, shared by every instance. Call it after
    /// <see cref="UsePostgreSql"/>; it replaces the cache <c>AddProjections</c> chose.
    /// </summary>
    /// <param name="builder">What <c>AddBatpak</c> returned.</param>
    public static IBatpakBuilder AddPostgresProjectionCache(this IBatpakBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Replace(ServiceDescriptor.Singleton<IProjectionCache>(static sp => new PostgresProjectionCache(sp.GetRequiredService<PostgresEventStore>())));
        return builder;
    }

    private static void RemoveImplementation(IServiceCollection services, Type service, Type implementation)
    {
        int index;
        while ((index = IndexOfImplementation(services, service, implementation)) >= 0)
        {
            services.RemoveAt(index);
        }
    }

    private static int IndexOfImplementation(IServiceCollection services, Type service, Type implementation)
    {
        for (int i = 0; i < services.Count; i++)
        {
            if (services[i].ServiceType == service && services[i].ImplementationType == implementation)
            {
                return i;
            }
        }

        return -1;
    }
}
