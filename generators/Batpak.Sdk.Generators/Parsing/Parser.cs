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
/// Turns one <c>[BatpakEvent]</c> declaration into an <see cref="EventModel"/> plus diagnostics. The only place
/// the generator touches symbols and syntax; nothing it returns holds either.
/// </summary>
internal static class Parser
{
    private static readonly SymbolDisplayFormat s_typeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    public static ParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var symbol = (INamedTypeSymbol)context.TargetSymbol;
        var syntax = (TypeDeclarationSyntax)context.TargetNode;
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

        // Kind: validated here, duplicates are checked across the compilation from the claims.
        AttributeData attribute = context.Attributes[0];
        int category = 0, type = 0, version = 1;
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

        KindClaim? claim = null;
        if (category > 0xF || type > 0xFFF)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.KindOutOfRange, location, display,
                string.Format(CultureInfo.InvariantCulture, "Category = 0x{0:X}, Type = 0x{1:X}", category, type)));
        }
        else if (category is 0x0 or 0xD)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ReservedCategory, location,
                category.ToString("X", CultureInfo.InvariantCulture), display));
        }
        else
        {
            claim = new KindClaim(display, (ushort)((category << 12) | type), LocationInfo.From(location));
        }

        cancellationToken.ThrowIfCancellationRequested();

        // Members: primary-constructor parameters first, then settable public properties, in declaration order.
        var fields = new List<FieldModel>();
        var entities = new List<(string Member, string Format, bool IsString, Location? Location)>();
        var scopes = new List<(string Member, string Format, bool IsString, Location? Location)>();
        IMethodSymbol? primaryConstructor = FindPrimaryConstructor(symbol);
        var parameterNames = new HashSet<string>(StringComparer.Ordinal);
        if (primaryConstructor is not null)
        {
            foreach (IParameterSymbol parameter in primaryConstructor.Parameters)
            {
                parameterNames.Add(parameter.Name);
                IPropertySymbol? property = symbol.GetMembers(parameter.Name).OfType<IPropertySymbol>().FirstOrDefault();
                IEnumerable<AttributeData> attributes = parameter.GetAttributes()
                    .Concat(property?.GetAttributes() ?? Enumerable.Empty<AttributeData>());
                AddMember(parameter.Name, parameter.Type, parameter.Locations.FirstOrDefault(), attributes, isParameter: true,
                    DefaultValue(parameter), isRequired: false);
            }
        }

        foreach (IPropertySymbol property in symbol.GetMembers().OfType<IPropertySymbol>())
        {
            if (property.IsStatic || property.IsIndexer || property.SetMethod is null || parameterNames.Contains(property.Name)
                || property.DeclaredAccessibility != Accessibility.Public || property.IsImplicitlyDeclared)
            {
                continue;
            }

            AddMember(property.Name, property.Type, property.Locations.FirstOrDefault(), property.GetAttributes(), isParameter: false,
                "default!", property.IsRequired);
        }

        cancellationToken.ThrowIfCancellationRequested();

        CoordinatePartModel? entity = CoordinatePart(entities, "Entity");
        CoordinatePartModel? scope = CoordinatePart(scopes, "Scope");
        if (entities.Count == 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MissingEntity, location, display));
        }

        if (diagnostics.Count > 0 || entity is null || claim is null)
        {
            return new ParseResult(null, claim, diagnostics.ToEquatableArray());
        }

        string? ns = symbol.ContainingNamespace.IsGlobalNamespace ? null : symbol.ContainingNamespace.ToDisplayString();
        EquatableArray<ContainingTypeModel> containing = ContainingTypes(symbol);
        string hintName = string.Join(".", new[] { ns }.Concat(containing.Select(static c => Sanitize(c.Name)))
            .Concat([symbol.Name, "Batpak.g.cs"]).Where(static s => s is not null));
        var model = new EventModel(ns, symbol.Name, symbol.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat), hintName,
            symbol.IsValueType, containing, claim.Kind, version, fields.ToEquatableArray(), primaryConstructor is not null, entity, scope);
        return new ParseResult(model, claim, diagnostics.ToEquatableArray());

        void AddMember(string name, ITypeSymbol memberType, Location? memberLocation, IEnumerable<AttributeData> attributes,
            bool isParameter, string defaultValue, bool isRequired)
        {
            Location reportAt = memberLocation ?? location;
            TypeShape? shape = ShapeOf(memberType);
            if (shape is null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedMemberType, reportAt, name, display,
                    memberType.ToDisplayString()));
                return;
            }

            string escaped = Escape(name);
            foreach (AttributeData data in attributes)
            {
                string? attributeName = data.AttributeClass?.ToDisplayString();
                if (attributeName is not (KnownNames.EntityAttribute or KnownNames.ScopeAttribute))
                {
                    continue;
                }

                string label = attributeName == KnownNames.EntityAttribute ? "Entity" : "Scope";
                string format = data.ConstructorArguments.Length == 1 && data.ConstructorArguments[0].Value is string f ? f : string.Empty;
                string? problem = CheckFormat(format);
                Location? attributeLocation = data.ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation() ?? reportAt;
                if (problem is not null)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidFormat, attributeLocation, label, format, name, problem));
                    continue;
                }

                (label == "Entity" ? entities : scopes).Add((escaped, format, memberType.SpecialType == SpecialType.System_String, attributeLocation));
            }

            fields.Add(new FieldModel(escaped, memberType.ToDisplayString(s_typeFormat), shape, fields.Count, isParameter, defaultValue, isRequired));
        }

        CoordinatePartModel? CoordinatePart(List<(string Member, string Format, bool IsString, Location? Location)> marked, string label)
        {
            if (marked.Count > 1)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MultipleCoordinateMembers, marked[1].Location ?? location, display, label,
                    string.Join(", ", marked.Select(static m => m.Member))));
                return null;
            }

            return marked.Count == 1 ? new CoordinatePartModel(marked[0].Member, marked[0].Format, marked[0].IsString) : null;
        }
    }

    /// <summary>Returns why <paramref name="format"/> is not a single-member composite format, or <see langword="null"/>.</summary>
    internal static string? CheckFormat(string format)
    {
        if (format.Length == 0)
        {
            return "it is empty";
        }

        const string Sentinel = "\u0001member\u0001";
        try
        {
            string formatted = string.Format(CultureInfo.InvariantCulture, format, Sentinel);
            return formatted.Contains(Sentinel) ? null : "it has no {0} placeholder for the marked member";
        }
        catch (FormatException)
        {
            return "it is not a composite format whose only placeholder is {0} (the marked member)";
        }
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

    /// <summary>Returns the wire form of <paramref name="type"/>, or <see langword="null"/> when it is not supported.</summary>
    internal static TypeShape? ShapeOf(ITypeSymbol type)
    {
        string name = type.ToDisplayString(s_typeFormat);
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

            return Wrap(ShapeKind.Array, name, array.ElementType);
        }

        if (type is not INamedTypeSymbol named)
        {
            return null;
        }

        if (named.TypeKind == TypeKind.Enum)
        {
            return named.EnumUnderlyingType is { } underlying && ShapeOf(underlying) is { } underlyingShape
                ? new TypeShape(ShapeKind.Enum, name, new[] { underlyingShape }.ToEquatableArray())
                : null;
        }

        if (named.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T)
        {
            return Wrap(ShapeKind.Nullable, name, named.TypeArguments[0]);
        }

        switch (named.OriginalDefinition.ToDisplayString())
        {
            case "System.Guid": return new TypeShape(ShapeKind.Guid, name);
            case "System.DateTimeOffset": return new TypeShape(ShapeKind.DateTimeOffset, name);
            case "System.TimeSpan": return new TypeShape(ShapeKind.TimeSpan, name);
            case "System.Collections.Generic.List<T>": return Wrap(ShapeKind.List, name, named.TypeArguments[0]);
            case "System.Collections.Generic.IReadOnlyList<T>": return Wrap(ShapeKind.ReadOnlyList, name, named.TypeArguments[0]);
            case "System.Collections.Generic.Dictionary<TKey, TValue>":
                return Wrap(ShapeKind.Dictionary, name, named.TypeArguments[0], named.TypeArguments[1]);
            case "System.Collections.Generic.IReadOnlyDictionary<TKey, TValue>":
                return Wrap(ShapeKind.ReadOnlyDictionary, name, named.TypeArguments[0], named.TypeArguments[1]);
        }

        if (!named.IsGenericType && IsBatpakEvent(named))
        {
            return new TypeShape(ShapeKind.Event, name);
        }

        if (named.GetAttributes().Any(static a => a.AttributeClass?.ToDisplayString() is KnownNames.MessagePackObjectAttribute or KnownNames.MessagePackFormatterAttribute))
        {
            return new TypeShape(ShapeKind.MessagePack, name);
        }

        return null;
    }

    private static bool IsBatpakEvent(INamedTypeSymbol type) =>
        type.GetAttributes().Any(static a => a.AttributeClass?.ToDisplayString() == KnownNames.EventAttribute)
        || type.AllInterfaces.Any(i => i.OriginalDefinition.MetadataName == "IBatpakEvent`1"
            && i.OriginalDefinition.ContainingNamespace.ToDisplayString() == "Batpak"
            && SymbolEqualityComparer.Default.Equals(i.TypeArguments[0], type));

    private static TypeShape? Wrap(ShapeKind kind, string name, params ITypeSymbol[] arguments)
    {
        var shapes = new TypeShape[arguments.Length];
        for (int i = 0; i < arguments.Length; i++)
        {
            if (ShapeOf(arguments[i]) is not { } shape)
            {
                return null;
            }

            shapes[i] = shape;
        }

        return new TypeShape(kind, name, shapes.ToEquatableArray());
    }

    private static string DefaultValue(IParameterSymbol parameter)
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

    private static string Escape(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    private static string Sanitize(string name) => name.Replace('<', '{').Replace('>', '}').Replace(", ", ",");
}
