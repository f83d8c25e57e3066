namespace Batpak.Sdk.Generators;

/// <summary>Names of the tracked pipeline steps; the incremental tests assert them.</summary>
internal static class TrackingNames
{
    public const string Parse = "Batpak.Parse";
    public const string Model = "Batpak.Model";
    public const string Claims = "Batpak.Claims";
    public const string Registry = "Batpak.Registry";
    public const string AssemblyName = "Batpak.AssemblyName";
}
