using Microsoft.CodeAnalysis;

namespace Batpak.Sdk.Generators.Model;

/// <summary>
/// A diagnostic to report, as plain data: descriptor, location and message arguments (strings only).
/// Immutable, structurally equal, no symbols.
/// </summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> MessageArgs)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Location? location, params string[] messageArgs) =>
        new(descriptor, LocationInfo.From(location), messageArgs.ToEquatableArray());

    public Diagnostic ToDiagnostic() =>
        Diagnostic.Create(Descriptor, Location?.ToLocation(), [.. MessageArgs]);
}
