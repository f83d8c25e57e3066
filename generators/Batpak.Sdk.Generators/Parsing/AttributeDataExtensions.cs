using System.Linq;
using Microsoft.CodeAnalysis;

namespace Batpak.Sdk.Generators.Parsing;

/// <summary>Checks on an applied attribute shared by the parser's readers.</summary>
internal static class AttributeDataExtensions
{
    /// <summary>
    /// <see langword="true"/> when the compiler could not bind <paramref name="attribute"/>'s constructor or one of its
    /// arguments (a missing or extra argument, a non-constant, an out-of-range value). The compiler reports that error
    /// itself: the generator then neither reports the value as wrong nor emits from it.
    /// </summary>
    public static bool HasErrors(this AttributeData attribute) =>
        attribute.AttributeConstructor is null
        || attribute.ConstructorArguments.Any(static a => a.Kind == TypedConstantKind.Error)
        || attribute.NamedArguments.Any(static a => a.Value.Kind == TypedConstantKind.Error);
}
