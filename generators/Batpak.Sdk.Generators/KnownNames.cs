namespace Batpak.Sdk.Generators;

/// <summary>Metadata names and fixed strings the generator relies on.</summary>
internal static class KnownNames
{
    public const string EventAttribute = "Batpak.BatpakEventAttribute";
    public const string EntityAttribute = "Batpak.EntityAttribute";
    public const string ScopeAttribute = "Batpak.ScopeAttribute";
    public const string EventInterface = "Batpak.IBatpakEvent`1";
    public const string MessagePackObjectAttribute = "MessagePack.MessagePackObjectAttribute";
    public const string MessagePackFormatterAttribute = "MessagePack.MessagePackFormatterAttribute";
    public const string GeneratorName = "Batpak.Sdk.Generators";
    public const string GeneratorVersion = "0.1.0";
    public const string RegistryNamespacePrefix = "Batpak.Generated";
    public const string RegistryTypeName = "BatpakEventRegistry";
}
