using System.Diagnostics.CodeAnalysis;
using Batpak;
using Batpak.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Options, configuration, gates and event registries for <see cref="IBatpakBuilder"/>.</summary>
public static class BatpakBuilderExtensions
{
    /// <summary>Sets <see cref="BatpakOptions"/> in code; runs after the configuration registered before it.</summary>
    /// <param name="builder">The Batpak builder.</param>
    /// <param name="configure">Changes the options.</param>
    /// <returns>The same builder.</returns>
    public static IBatpakBuilder Configure(this IBatpakBuilder builder, Action<BatpakOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<BatpakOptions>().Configure(configure);
        return builder;
    }

    /// <summary>
    /// Binds <see cref="BatpakOptions"/> from the section <paramref name="sectionPath"/> of the container's
    /// <see cref="IConfiguration"/> (a Host registers it: appsettings.json, environment variables
    /// <c>Batpak__DataDirectory</c>, command line <c>--Batpak:DataDirectory=...</c>).
    /// </summary>
    /// <param name="builder">The Batpak builder.</param>
    /// <param name="sectionPath">The section; <c>"Batpak"</c> by default.</param>
    /// <returns>The same builder.</returns>
    /// <remarks>
    /// Keys are the property names (case-insensitive); every setting of <see cref="BatpakOptions"/> is bindable, and
    /// each property's remarks give its form: numbers are integers (invariant culture), <c>SyncMode</c> is <c>Data</c>
    /// or <c>All</c>, time spans are in the constant ("c") format <c>[d.]hh:mm:ss[.fffffff]</c>, <c>ChainKey</c> is
    /// base64, <c>GatedKinds</c> is a comma-separated list (or an array) of kinds such as <c>0x1001</c>, added to the
    /// set. The binding is reflection-free (AOT-safe). An unknown key or an unparsable value throws
    /// <see cref="InvalidOperationException"/> naming the key when the options are first built (at host start); a value
    /// that parses but is out of range fails validation (<see cref="OptionsValidationException"/>) with the
    /// constructor's message.
    /// </remarks>
    public static IBatpakBuilder BindConfiguration(this IBatpakBuilder builder, string sectionPath = "Batpak")
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(sectionPath);
        builder.Services.AddOptions<BatpakOptions>()
            .Configure<IConfiguration>((options, configuration) => BatpakConfigurationBinder.Bind(configuration.GetSection(sectionPath), options));
        return builder;
    }

    /// <summary>
    /// Adds <paramref name="gate"/> to the container's <see cref="GateSet{TContext}"/> for <typeparamref name="TContext"/>,
    /// and registers that set and a <see cref="Pipeline{TContext}"/> over the store as singletons. Gates run in the
    /// order they were added.
    /// </summary>
    /// <typeparam name="TContext">What the gates judge.</typeparam>
    /// <param name="builder">The Batpak builder.</param>
    /// <param name="gate">The gate.</param>
    /// <returns>The same builder.</returns>
    public static IBatpakBuilder AddGate<TContext>(this IBatpakBuilder builder, IGate<TContext> gate)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(gate);
        builder.Services.AddSingleton(gate);
        AddGateServices<TContext>(builder.Services);
        return builder;
    }

    /// <summary>
    /// Adds <paramref name="gates"/> to the <see cref="GateSet{TContext}"/> for <typeparamref name="TContext"/> (as
    /// <see cref="AddGate"/> does) and sets how the set evaluates: <paramref name="policy"/> and its
    /// <paramref name="name"/> (the last call wins).
    /// </summary>
    /// <typeparam name="TContext">What the gates judge.</typeparam>
    /// <param name="builder">The Batpak builder.</param>
    /// <param name="policy">Fail-fast (stop at the first denial) or evaluate-all.</param>
    /// <param name="name">The set's name in receipts and denials; generated when null.</param>
    /// <param name="gates">Gates to add, in order.</param>
    /// <returns>The same builder.</returns>
    public static IBatpakBuilder AddGateSet<TContext>(this IBatpakBuilder builder, GatePolicy policy, string? name = null, params IGate<TContext>[] gates)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(gates);
        builder.Services.Replace(ServiceDescriptor.Singleton(new GateSetSettings<TContext>(policy, name)));
        foreach (IGate<TContext> gate in gates)
        {
            ArgumentNullException.ThrowIfNull(gate, nameof(gates));
            builder.Services.AddSingleton(gate);
        }

        AddGateServices<TContext>(builder.Services);
        return builder;
    }

    /// <summary>
    /// Gates <paramref name="kinds"/>: adds them to <see cref="BatpakOptions.GatedKinds"/>, so the store appends them
    /// only through a <see cref="Pipeline{TContext}"/> (a commit of a receipt, or an audited bypass) and refuses a raw
    /// append of them with <see cref="GateRequiredException"/>. Calls add up.
    /// </summary>
    /// <param name="builder">The Batpak builder.</param>
    /// <param name="kinds">The kinds to gate (user kinds; a reserved one fails validation at start).</param>
    /// <returns>The same builder.</returns>
    public static IBatpakBuilder RequireGatesFor(this IBatpakBuilder builder, params EventKind[] kinds)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(kinds);
        EventKind[] copy = [.. kinds];
        builder.Services.AddOptions<BatpakOptions>().Configure(options => options.GatedKinds.UnionWith(copy));
        return builder;
    }

    /// <summary>Gates the kind of the typed event <typeparamref name="TEvent"/>, as <see cref="RequireGatesFor(IBatpakBuilder, EventKind[])"/> does.</summary>
    /// <typeparam name="TEvent">A generated (or hand-written) <see cref="IBatpakEvent{TSelf}"/>.</typeparam>
    /// <param name="builder">The Batpak builder.</param>
    /// <returns>The same builder.</returns>
    public static IBatpakBuilder RequireGatesFor<TEvent>(this IBatpakBuilder builder)
        where TEvent : IBatpakEvent<TEvent> => builder.RequireGatesFor(TEvent.Kind);

    /// <summary>
    /// Registers the generated event registry of another assembly (its <c>Batpak.Generated.{Assembly}.BatpakEventRegistry.Instance</c>)
    /// now. Registries normally register themselves when their assembly is first used; call this for an assembly
    /// whose events may be read before any of its types is touched. Registering one twice is harmless.
    /// </summary>
    /// <param name="builder">The Batpak builder.</param>
    /// <param name="registry">The registry.</param>
    /// <returns>The same builder.</returns>
    public static IBatpakBuilder AddEventTypes(this IBatpakBuilder builder, IEventTypeRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(registry);
        BatpakEventRegistries.Register(registry);
        return builder;
    }

    /// <summary>
    /// Runs <typeparamref name="TReactor"/> as a hosted background loop while the host runs: it sees the events of its
    /// region, its derived events are appended with causation set and an idempotency key, and its position is a
    /// durable cursor named after the reactor, so a restart resumes without reacting twice. Failures are retried with
    /// backoff and logged; they never stop the host or the store. Register each reactor once.
    /// </summary>
    /// <typeparam name="TReactor">The reactor, created from the container (constructor injection).</typeparam>
    /// <param name="builder">The Batpak builder.</param>
    /// <param name="options">Retry and batching settings; <see langword="null"/> for the defaults.</param>
    /// <returns>The same builder.</returns>
    public static IBatpakBuilder AddReactor<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TReactor>(this IBatpakBuilder builder, ReactorOptions? options = null)
        where TReactor : class, IReactor
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<TReactor>();
        builder.Services.AddSingleton(new ReactorRegistration(static sp => sp.GetRequiredService<TReactor>(), options));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, BatpakReactorsHostedService>());
        return builder;
    }

    /// <summary>
    /// Registers a <see cref="ProjectionEngine"/> over the store with the chosen cache: none, in memory (bounded), or on
    /// disk under the data directory's <c>projections/</c> folder (survives restarts).
    /// </summary>
    /// <param name="builder">The Batpak builder.</param>
    /// <param name="cache">Which cache the engine uses. Default <see cref="ProjectionCacheMode.InMemory"/>.</param>
    /// <returns>The same builder.</returns>
    public static IBatpakBuilder AddProjections(this IBatpakBuilder builder, ProjectionCacheMode cache = ProjectionCacheMode.InMemory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!Enum.IsDefined(cache))
        {
            throw new ArgumentOutOfRangeException(nameof(cache), cache, "ProjectionCacheMode is None, InMemory or Disk.");
        }

        builder.Services.TryAddSingleton<IProjectionCache>(sp => cache switch
        {
            ProjectionCacheMode.None => NoProjectionCache.Instance,
            ProjectionCacheMode.Disk => DiskProjectionCache.ForStore(sp.GetRequiredService<EventStore>()),
            _ => new InMemoryProjectionCache(),
        });
        builder.Services.TryAddSingleton(static sp => new ProjectionEngine(
            sp.GetRequiredService<IEventStore>(),
            sp.GetRequiredService<IProjectionCache>(),
            sp.GetRequiredService<TimeProvider>()));
        return builder;
    }

    private static void AddGateServices<TContext>(IServiceCollection services)
    {
        services.TryAddSingleton(new GateSetSettings<TContext>(GatePolicy.FailFast, null));
        services.TryAddSingleton(static sp =>
        {
            GateSetSettings<TContext> settings = sp.GetRequiredService<GateSetSettings<TContext>>();
            return new GateSet<TContext>(sp.GetServices<IGate<TContext>>(), settings.Policy, settings.Name);
        });
        services.TryAddSingleton(static sp => new Pipeline<TContext>(
            sp.GetRequiredService<IEventStore>(),
            sp.GetRequiredService<GateSet<TContext>>(),
            sp.GetRequiredService<IOptions<BatpakOptions>>().Value.DefaultScope));
    }
}
