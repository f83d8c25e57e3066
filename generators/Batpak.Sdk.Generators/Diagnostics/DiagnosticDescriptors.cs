using Microsoft.CodeAnalysis;

namespace Batpak.Sdk.Generators.Diagnostics;

/// <summary>The BPK diagnostics; every id is listed in AnalyzerReleases.Unshipped.md and in docs/GENERATOR.md.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "Batpak";

    public static readonly DiagnosticDescriptor DuplicateKind = new(
        "BPK0001", "Duplicate event kind",
        "Event kind {0} of '{1}' is already used by '{2}'; every event type needs its own kind",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor ReservedCategory = new(
        "BPK0002", "Reserved event category",
        "Category 0x{0} of '{1}' is reserved for the SDK (0x0 system, 0xD effect); use 0x1..0xC or 0xE..0xF",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor KindOutOfRange = new(
        "BPK0003", "Event kind out of range",
        "'{0}' has {1}; the category is 4 bits (at most 0xF) and the type 12 bits (at most 0xFFF)",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor NotPartial = new(
        "BPK0004", "Event type must be partial",
        "'{0}' must be declared partial (and so must every type that contains it) so the generator can add its serializer",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsupportedMemberType = new(
        "BPK0005", "Unsupported member type",
        "Member '{0}' of '{1}' has type '{2}', which Batpak events cannot serialize; see docs/GENERATOR.md for the supported types",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor InvalidFormat = new(
        "BPK0006", "Invalid entity or scope format",
        "The [{0}] format \"{1}\" on '{2}' is invalid: {3}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor MultipleCoordinateMembers = new(
        "BPK0007", "More than one entity or scope member",
        "'{0}' marks more than one member with [{1}] ({2}); mark exactly one",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor MissingEntity = new(
        "BPK0008", "Missing entity member",
        "'{0}' has no member marked [Entity]; mark the member that names the event's stream, for example [property: Entity(\"order:{{0}}\")]",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor NotARecord = new(
        "BPK0009", "Event type must be a non-generic record",
        "'{0}' must be a non-generic 'partial record' or 'partial record struct' to be a Batpak event",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
}
