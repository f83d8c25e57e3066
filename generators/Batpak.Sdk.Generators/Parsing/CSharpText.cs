using System;
using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Batpak.Sdk.Generators.Parsing;

/// <summary>
/// Renders what the parser reads as C# source text for the emitter: parameter default values, member names (escaped
/// when they are keywords) and hint-name parts. Called by <see cref="Parser"/> and <see cref="MemberReader"/>.
/// </summary>
internal static class CSharpText
{
    /// <summary>The C# expression a missing value of <paramref name="parameter"/> takes: its default, or <c>default!</c>.</summary>
    public static string DefaultValue(IParameterSymbol parameter)
    {
        if (!parameter.HasExplicitDefaultValue || parameter.ExplicitDefaultValue is not { } value)
        {
            return "default!";
        }

        ITypeSymbol type = parameter.Type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable
            ? nullable.TypeArguments[0]
            : parameter.Type;
        string typeName = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        string literal = value switch
        {
            string s => SymbolDisplay.FormatLiteral(s, quote: true),
            char c => SymbolDisplay.FormatLiteral(c, quote: true),
            bool b => b ? "true" : "false",
            float f => float.IsNaN(f) ? "global::System.Single.NaN"
                : float.IsPositiveInfinity(f) ? "global::System.Single.PositiveInfinity"
                : float.IsNegativeInfinity(f) ? "global::System.Single.NegativeInfinity"
                : f.ToString("R", CultureInfo.InvariantCulture) + "F",
            double d => double.IsNaN(d) ? "global::System.Double.NaN"
                : double.IsPositiveInfinity(d) ? "global::System.Double.PositiveInfinity"
                : double.IsNegativeInfinity(d) ? "global::System.Double.NegativeInfinity"
                : d.ToString("R", CultureInfo.InvariantCulture) + "D",
            decimal m => m.ToString(CultureInfo.InvariantCulture) + "M",
            ulong u => u.ToString(CultureInfo.InvariantCulture) + "UL",
            IFormattable n => n.ToString(null, CultureInfo.InvariantCulture),
            _ => "default!",
        };
        return value is string or bool ? literal : "(" + typeName + ")(" + literal + ")";
    }

    /// <summary><paramref name="name"/> as C# spells it: <c>@</c>-prefixed when it is a keyword.</summary>
    public static string Escape(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    /// <summary>A type name made safe for a hint name: <c>Outer&lt;T, U&gt;</c> becomes <c>Outer{T,U}</c>.</summary>
    public static string Sanitize(string name) => name.Replace('<', '{').Replace('>', '}').Replace(", ", ",");
}
