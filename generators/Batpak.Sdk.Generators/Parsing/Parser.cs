using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Batpak.Sdk.Generators.Diagnostics;
using Batpak.Sdk.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Batpak.Sdk.Generators.Parsing;

/// <summary>
/// Turns one <c>[BatpakEvent]</c> declaration into an <see cref="EventModel"/> plus diagnostics: checks the type and
/// its kind here (BPK0002-BPK0004, BPK0009), members through <see cref="MemberReader"/>. Called only by
/// <see cref="EventGenerator"/>'s transform; the parse stage is the only code that touches symbols and syntax, and
/// nothing it returns holds either.
/// </summary>
internal static class Parser
{
    public static ParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var symbol = (INamedTypeSymbol)context.TargetSymbol;
        var syntax = (TypeDeclarationSyntax)context.TargetNode;
        KnownTypeSymbols known = KnownTypeSymbols.For(context.SemanticModel.Compilation);
        AttributeData? attribute = context.Attributes.FirstOrDefault(a => known.IsEventAttribute(a.AttributeClass));

        // Left to the compiler, which reports them itself: [BatpakEvent] on an interface (CS0592), and a second
        // [BatpakEvent] on another partial declaration of the type (CS0579; the first declaration carrying it is read).
        if (attribute is null || symbol.TypeKind is not (TypeKind.Class or TypeKind.Struct) || !IsFirstMarkedDeclaration(symbol, syntax, known))
        {
            return ParseResult.Empty;
        }

        var diagnostics = new List<DiagnosticInfo>();
        Location location = syntax.Identifier.GetLocation();
        string display = symbol.ToDisplayString();

        if (!symbol.IsRecord || symbol.IsGenericType)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotARecord, location, display));
            return new ParseResult(null, null, diagnostics.ToEquatableArray());
        }

        if (!IsPartial(syntax) || !ContainingTypesArePartial(symbol))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotPartial, location, display));
        }

        KindClaim? claim = ReadKind(attribute, display, location, diagnostics, out int version);
        cancellationToken.ThrowIfCancellationRequested();

        IMethodSymbol? primaryConstructor = FindPrimaryConstructor(symbol);
        MemberSet members = MemberReader.Read(symbol, primaryConstructor, known, display, location, diagnostics, cancellationToken);
        if (diagnostics.Count > 0 || members.Blocked || members.Entity is null || claim is null)
        {
            return new ParseResult(null, claim, diagnostics.ToEquatableArray());
        }

        string? ns = symbol.ContainingNamespace.IsGlobalNamespace ? null : symbol.ContainingNamespace.ToDisplayString();
        EquatableArray<ContainingTypeModel> containing = ContainingTypes(symbol);
        string hintName = string.Join(".", new[] { ns }.Concat(containing.Select(static c => CSharpText.Sanitize(c.Name)))
            .Concat([symbol.Name, "Batpak.g.cs"]).Where(static s => s is not null));
        var model = new EventModel(ns, symbol.Name, symbol.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat), hintName,
            symbol.IsValueType, containing, claim.Kind, version, members.Fields, primaryConstructor is not null, members.Entity, members.Scope);
        return new ParseResult(model, claim, diagnostics.ToEquatableArray());
    }

    /// <summary>
    /// The kind the attribute claims, or <see langword="null"/> when it is out of range (BPK0003), reserved (BPK0002)
    /// or unknown because the compiler rejects an argument (its error, not the generator's, is reported).
    /// Duplicates are checked across the compilation from the claims.
    /// </summary>
    private static KindClaim? ReadKind(AttributeData attribute, string display, Location location, List<DiagnosticInfo> diagnostics, out int version)
    {
        int category = 0, type = 0;
        version = 1;
        if (attribute.HasErrors())
        {
            return null;
        }

        foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
        {
            int value = argument.Value.Value is { } raw ? Convert.ToInt32(raw, CultureInfo.InvariantCulture) : 0;
            switch (argument.Key)
            {
                case "Category": category = value; break;
                case "Type": type = value; break;
                case "Version": version = value; break;
            }
        }

        if (category > 0xF || type > 0xFFF)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.KindOutOfRange, location, display,
                string.Format(CultureInfo.InvariantCulture, "Category = 0x{0:X}, Type = 0x{1:X}", category, type)));
            return null;
        }

        if (category is 0x0 or 0xD)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ReservedCategory, location,
                category.ToString("X", CultureInfo.InvariantCulture), display));
            return null;
        }

        return new KindClaim(display, (ushort)((category << 12) | type), LocationInfo.From(location));
    }

    /// <summary><see langword="true"/> when <paramref name="syntax"/> carries the type's first <c>[BatpakEvent]</c>.</summary>
    private static bool IsFirstMarkedDeclaration(INamedTypeSymbol symbol, TypeDeclarationSyntax syntax, KnownTypeSymbols known)
    {
        SyntaxReference? first = symbol.GetAttributes().FirstOrDefault(a => known.IsEventAttribute(a.AttributeClass))?.ApplicationSyntaxReference;
        return first is null || (first.SyntaxTree == syntax.SyntaxTree && syntax.Span.Contains(first.Span));
    }

    private static bool IsPartial(TypeDeclarationSyntax syntax) => syntax.Modifiers.Any(SyntaxKind.PartialKeyword);

    private static bool ContainingTypesArePartial(INamedTypeSymbol symbol)
    {
        for (INamedTypeSymbol? type = symbol.ContainingType; type is not null; type = type.ContainingType)
        {
            foreach (SyntaxReference reference in type.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax() is TypeDeclarationSyntax declaration && !IsPartial(declaration))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static EquatableArray<ContainingTypeModel> ContainingTypes(INamedTypeSymbol symbol)
    {
        var result = new List<ContainingTypeModel>();
        for (INamedTypeSymbol? type = symbol.ContainingType; type is not null; type = type.ContainingType)
        {
            string keyword = type switch
            {
                { IsRecord: true, IsValueType: true } => "record struct",
                { IsRecord: true } => "record",
                { TypeKind: TypeKind.Interface } => "interface",
                { IsValueType: true } => "struct",
                _ => "class",
            };
            string name = type.TypeParameters.Length == 0
                ? type.Name
                : type.Name + "<" + string.Join(", ", type.TypeParameters.Select(static p => p.Name)) + ">";
            result.Insert(0, new ContainingTypeModel(keyword, name));
        }

        return result.ToEquatableArray();
    }

    private static IMethodSymbol? FindPrimaryConstructor(INamedTypeSymbol symbol)
    {
        foreach (SyntaxReference reference in symbol.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax() is RecordDeclarationSyntax { ParameterList: not null } declaration)
            {
                return symbol.InstanceConstructors.FirstOrDefault(c =>
                    c.DeclaringSyntaxReferences.Any(r => r.GetSyntax() == declaration));
            }
        }

        return null;
    }
}
