using Microsoft.Extensions.Options;

namespace Batpak.DependencyInjection;

/// <summary>
/// Validates <see cref="BatpakOptions"/> for the options system (registered by <c>AddBatpak</c>, run at host start) by
/// the rule table the store's constructor uses (<see cref="BatpakOptionRules"/>): the same verdict, one failure per
/// bad setting, in the same words as the constructor's exception.
/// </summary>
internal sealed class BatpakOptionsValidator : IValidateOptions<BatpakOptions>
{
    public ValidateOptionsResult Validate(string? name, BatpakOptions options)
    {
        List<string> failures = BatpakOptionRules.Failures(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
