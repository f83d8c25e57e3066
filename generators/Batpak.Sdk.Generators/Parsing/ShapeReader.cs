using System.Linq;
using Batpak.Sdk.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Batpak.Sdk.Generators.Parsing;

/// <summary>
/// Maps a member's type symbol to its <see cref="TypeShape"/> (the wire form, recursively for elements, keys and
/// values), recognising types by symbol through <see cref="KnownTypeSymbols"/>. Called by <see cref="MemberReader"/>.
/// </summary>
internal static class ShapeReader
{
    /// <summary>How generated code spells a type: <c>global::</c>-qualified, with nullable annotations.</summary>
    internal static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>Returns the wire form of <paramref name="type"/>, or <see langword="null"/> when it is not supported.</summary>
    internal static TypeShape? ShapeOf(ITypeSymbol type, KnownTypeSymbols known)
    {
        string name = type.ToDisplayString(TypeFormat);
        ShapeKind? special = type.SpecialType switch
        {
            SpecialType.System_Boolean => ShapeKind.Boolean,
            SpecialType.System_Char => ShapeKind.Char,
            SpecialType.System_SByte => ShapeKind.SByte,
            SpecialType.System_Byte => ShapeKind.Byte,
            SpecialType.System_Int16 => ShapeKind.Int16,
            SpecialType.System_UInt16 => ShapeKind.UInt16,
            SpecialType.System_Int32 => ShapeKind.Int32,
            SpecialType.System_UInt32 => ShapeKind.UInt32,
            SpecialType.System_Int64 => ShapeKind.Int64,
            SpecialType.System_UInt64 => ShapeKind.UInt64,
            SpecialType.System_Single => ShapeKind.Single,
            SpecialType.System_Double => ShapeKind.Double,
            SpecialType.System_Decimal => ShapeKind.Decimal,
            SpecialType.System_String => ShapeKind.String,
            SpecialType.System_DateTime => ShapeKind.DateTime,
            _ => null,
        };
        if (special is { } kind)
        {
            return new TypeShape(kind, name);
        }

        if (type is IArrayTypeSymbol array)
        {
            if (array.Rank != 1)
            {
                return null;
            }

            if (array.ElementType.SpecialType == SpecialType.System_Byte)
            {
                return new TypeShape(ShapeKind.ByteArray, name);
            }

            return Wrap(ShapeKind.Array, name, known, array.ElementType);
        }

        if (type is not INamedTypeSymbol named)
        {
            return null;
        }

        if (named.TypeKind == TypeKind.Enum)
        {
            return named.EnumUnderlyingType is { } underlying && ShapeOf(underlying, known) is { } underlyingShape
                ? new TypeShape(ShapeKind.Enum, name, new[] { underlyingShape }.ToEquatableArray())
                : null;
        }

        if (named.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T)
        {
            return Wrap(ShapeKind.Nullable, name, known, named.TypeArguments[0]);
        }

        // Guid, DateTimeOffset, TimeSpan (no type arguments); List, IReadOnlyList, Dictionary, IReadOnlyDictionary.
        if (known.BclShape(named.OriginalDefinition) is { } bcl)
        {
            return named.TypeArguments.Length == 0 ? new TypeShape(bcl, name) : Wrap(bcl, name, known, [.. named.TypeArguments]);
        }

        if (!named.IsGenericType && IsBatpakEvent(named, known))
        {
            return new TypeShape(ShapeKind.Event, name);
        }

        if (named.GetAttributes().Any(a => known.IsMessagePackAttribute(a.AttributeClass)))
        {
            return new TypeShape(ShapeKind.MessagePack, name);
        }

        return null;
    }

    /// <summary>
    /// <see langword="true"/> when <paramref name="type"/> is, or is built from, a type the compiler could not
    /// resolve: the compiler reports that itself, so the generator does not call it unsupported as well.
    /// </summary>
    internal static bool HasErrorType(ITypeSymbol type) => type switch
    {
        { TypeKind: TypeKind.Error } => true,
        IArrayTypeSymbol array => HasErrorType(array.ElementType),
        INamedTypeSymbol named => named.TypeArguments.Any(HasErrorType),
        _ => false,
    };

    private static bool IsBatpakEvent(INamedTypeSymbol type, KnownTypeSymbols known) =>
        type.GetAttributes().Any(a => known.IsEventAttribute(a.AttributeClass))
        || type.AllInterfaces.Any(i => known.IsEventInterface(i.OriginalDefinition)
            && SymbolEqualityComparer.Default.Equals(i.TypeArguments[0], type));

    private static TypeShape? Wrap(ShapeKind kind, string name, KnownTypeSymbols known, params ITypeSymbol[] arguments)
    {
        var shapes = new TypeShape[arguments.Length];
        for (int i = 0; i < arguments.Length; i++)
        {
            if (ShapeOf(arguments[i], known) is not { } shape)
            {
                return null;
            }

            shapes[i] = shape;
        }

        return new TypeShape(kind, name, shapes.ToEquatableArray());
    }
}
