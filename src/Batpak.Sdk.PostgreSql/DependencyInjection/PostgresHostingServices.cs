// The DI services behind UsePostgreSql: the options validators (PostgreSQL settings, and the engine-neutral
// BatpakOptions rules) and the hosted service that opens the store at host start. Registered by UsePostgreSql only.
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Batpak.PostgreSql.DependencyInjection;

/// <summary>Checks <see cref="PostgresStoreOptions"/> at host start.</summary>
internal sealed class PostgresStoreOptionsValidator : IValidateOptions<PostgresStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, PostgresStoreOptions options)
    {
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException ex)
        {
            return ValidateOptionsResult.Fail(ex.Message);
        }
    }
}

/// <summary>Checks the <see cref="BatpakOptions"/> rules that apply to a PostgreSQL store (all but DataDirectory).</summary>
internal sealed class PostgresBatpakOptionsValidator : IValidateOptions<BatpakOptions>
{
    public ValidateOptionsResult Validate(string? name, BatpakOptions options)
    {
        List<string> failures = PostgresEventStore.Failures(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Opens the PostgreSQL store when the host starts, so that an unreachable server fails the start.</summary>
internal sealed class PostgresStoreHostedService(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = services.GetRequiredService<PostgresEventStore>();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
