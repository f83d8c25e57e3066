using Microsoft.Extensions.Configuration;

namespace Batpak.DependencyInjection;

/// <summary>
/// Binds <see cref="BatpakOptions"/> from an <see cref="IConfiguration"/> section through the rule table
/// (<see cref="BatpakOptionRules"/>): every setting is bindable, each in its rule's configuration form. No reflection,
/// so it is trim- and AOT-safe without the configuration binder. Only parsing happens here; ranges are checked with
/// the rest of the options (by <see cref="BatpakOptionsValidator"/>), so code configured later may still change a value.
/// Called by <c>AddBatpak(configuration)</c> and <c>BindConfiguration</c>.
/// </summary>
internal static class BatpakConfigurationBinder
{
    /// <summary>
    /// <c>Batpak:Engine</c>: the engine an application picks (<c>Embedded</c> or <c>PostgreSql</c> in the samples), read
    /// by the application to call an engine's registration (such as <c>UsePostgreSql</c>); the binder skips it.
    /// </summary>
    public const string EngineKey = "Engine";

    /// <summary>Copies every key present in <paramref name="section"/> onto <paramref name="options"/>.</summary>
    /// <exception cref="InvalidOperationException">A key is unknown or a value does not parse; the message names the key, the setting and the expected form (a secret's value is not shown).</exception>
    public static void Bind(IConfiguration section, BatpakOptions options)
    {
        foreach (IConfigurationSection child in section.GetChildren())
        {
            if (string.Equals(child.Key, EngineKey, StringComparison.OrdinalIgnoreCase))
            {
                continue; // which engine the application uses, not a store setting (see EngineKey)
            }

            BatpakOptionRule rule = BatpakOptionRules.Find(child.Key)
                ?? throw new InvalidOperationException($"Configuration key '{child.Path}' is not a BatpakOptions setting; the settings are {string.Join(", ", BatpakOptionRules.All.Select(static r => r.Name))}.");
            string value = child.Value ?? (rule.IsList ? JoinItems(child, rule) : throw new InvalidOperationException($"Configuration key '{child.Path}' is a section; BatpakOptions.{rule.Name} is a single value ({rule.Format})."));
            if (!rule.TryBind(options, value))
            {
                string shown = rule.IsSecret ? $"({value.Length} characters, not shown)" : $"= '{value}'";
                throw new InvalidOperationException($"Configuration value '{child.Path}' {shown} is not a valid BatpakOptions.{rule.Name}: expected {rule.Format}; valid values are {rule.Valid}.");
            }
        }
    }

    /// <summary>An array section (<c>Key:0</c>, <c>Key:1</c>, ...) as the comma-separated form of its items.</summary>
    private static string JoinItems(IConfigurationSection list, BatpakOptionRule rule)
    {
        var items = new List<string>();
        foreach (IConfigurationSection item in list.GetChildren())
        {
            items.Add(item.Value ?? throw new InvalidOperationException($"Configuration key '{item.Path}' is a section; an item of BatpakOptions.{rule.Name} is a single value."));
        }

        return string.Join(',', items);
    }
}
