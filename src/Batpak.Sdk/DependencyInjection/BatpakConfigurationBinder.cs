using System.Globalization;
using System.Numerics;
using Microsoft.Extensions.Configuration;

namespace Batpak.DependencyInjection;

/// <summary>
/// Binds <see cref="BatpakOptions"/> from an <see cref="IConfiguration"/> section by hand: no reflection, so it is
/// trim- and AOT-safe without the configuration binder, and every error names the key and the expected format.
/// </summary>
internal static class BatpakConfigurationBinder
{
    private static readonly string[] s_keys =
    [
        nameof(BatpakOptions.DataDirectory), nameof(BatpakOptions.SegmentMaxBytes), nameof(BatpakOptions.SyncEveryNEvents),
        nameof(BatpakOptions.SyncMode), nameof(BatpakOptions.FileHandleBudget), nameof(BatpakOptions.WriteQueueCapacity),
        nameof(BatpakOptions.MaxBatchEvents), nameof(BatpakOptions.MaxEventBytes), nameof(BatpakOptions.DefaultScope),
        nameof(BatpakOptions.ShutdownDrainTimeout), nameof(BatpakOptions.SlowSyncThreshold),
    ];

    /// <summary>Copies every key present in <paramref name="section"/> onto <paramref name="options"/>.</summary>
    /// <exception cref="InvalidOperationException">A key is unknown or a value does not parse.</exception>
    public static void Bind(IConfiguration section, BatpakOptions options)
    {
        foreach (IConfigurationSection child in section.GetChildren())
        {
            string? value = child.Value;
            if (value is null)
            {
                throw new InvalidOperationException($"Configuration key '{child.Path}' is a section; BatpakOptions settings are single values.");
            }

            switch (Known(child))
            {
                case nameof(BatpakOptions.DataDirectory):
                    options.DataDirectory = value;
                    break;
                case nameof(BatpakOptions.SegmentMaxBytes):
                    options.SegmentMaxBytes = Parse<long>(child, value);
                    break;
                case nameof(BatpakOptions.SyncEveryNEvents):
                    options.SyncEveryNEvents = Parse<int>(child, value);
                    break;
                case nameof(BatpakOptions.SyncMode):
                    options.SyncMode = value.Length > 0 && char.IsAsciiLetter(value[0]) && Enum.TryParse(value, ignoreCase: true, out SyncMode mode) && Enum.IsDefined(mode)
                        ? mode
                        : throw Invalid(child, value, "Data or All");
                    break;
                case nameof(BatpakOptions.FileHandleBudget):
                    options.FileHandleBudget = Parse<int>(child, value);
                    break;
                case nameof(BatpakOptions.WriteQueueCapacity):
                    options.WriteQueueCapacity = Parse<int>(child, value);
                    break;
                case nameof(BatpakOptions.MaxBatchEvents):
                    options.MaxBatchEvents = Parse<int>(child, value);
                    break;
                case nameof(BatpakOptions.MaxEventBytes):
                    options.MaxEventBytes = Parse<int>(child, value);
                    break;
                case nameof(BatpakOptions.DefaultScope):
                    options.DefaultScope = value;
                    break;
                case nameof(BatpakOptions.ShutdownDrainTimeout):
                    options.ShutdownDrainTimeout = ParseTimeSpan(child, value);
                    break;
                case nameof(BatpakOptions.SlowSyncThreshold):
                    options.SlowSyncThreshold = ParseTimeSpan(child, value);
                    break;
            }
        }
    }

    private static string Known(IConfigurationSection child)
    {
        foreach (string key in s_keys)
        {
            if (string.Equals(key, child.Key, StringComparison.OrdinalIgnoreCase))
            {
                return key;
            }
        }

        throw new InvalidOperationException($"Configuration key '{child.Path}' is not a BatpakOptions setting; the settings are {string.Join(", ", s_keys)}.");
    }

    private static T Parse<T>(IConfigurationSection child, string value)
        where T : struct, INumber<T> =>
        T.TryParse(value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out T result)
            ? result
            : throw Invalid(child, value, $"an integer ({typeof(T).Name})");

    private static TimeSpan ParseTimeSpan(IConfigurationSection child, string value) =>
        TimeSpan.TryParse(value.Trim(), CultureInfo.InvariantCulture, out TimeSpan result)
            ? result
            : throw Invalid(child, value, "a time span such as 00:00:30");

    private static InvalidOperationException Invalid(IConfigurationSection child, string value, string expected) =>
        new($"Configuration value '{child.Path}' = '{value}' is not valid: expected {expected}.");
}
