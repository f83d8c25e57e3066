using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Batpak.Sdk.Generators.Diagnostics;
using Batpak.Sdk.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Batpak.Sdk.Generators.Parsing;

/// <summary>
/// Reads an event record's serialized members (the primary-constructor parameters, then the settable public instance
/// properties of the body, in declaration order) and its <c>[Entity]</c>/<c>[Scope]</c> marks, reporting BPK0005 to
/// BPK0008, one diagnostic per root cause. Called only by <see cref="Parser"/>, inside the pipeline's transform.
/// </summary>
internal sealed class MemberReader
{
    private readonly KnownTypeSymbols _known;
    private readonly string _display;
    private readonly Location _typeLocation;
    private readonly List<DiagnosticInfo> _diagnostics;
    private readonly CancellationToken _cancellationToken;
    private readonly List<FieldModel> _fields = [];
    private readonly List<Mark> _entities = [];
    private readonly List<Mark> _scopes = [];
    private bool _blocked;

    private MemberReader(KnownTypeSymbols known, string display, Location typeLocation, List<DiagnosticInfo> diagnostics,
        CancellationToken cancellationToken)
    {
        _known = known;
        _display = display;
        _typeLocation = typeLocation;
        _diagnostics = diagnostics;
        _cancellationToken = cancellationToken;
    }

    /// <summary>Reads the members of <paramref name="symbol"/>, adding what is wrong with them to <paramref name="diagnostics"/>.</summary>
    public static MemberSet Read(INamedTypeSymbol symbol, IMethodSymbol? primaryConstructor, KnownTypeSymbols known, string display,
        Location typeLocation, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        var reader = new MemberReader(known, display, typeLocation, diagnostics, cancellationToken);
        var parameterNames = new HashSet<string>(StringComparer.Ordinal);
        if (primaryConstructor is not null)
        {
            foreach (IParameterSymbol parameter in primaryConstructor.Parameters)
            {
                parameterNames.Add(parameter.Name);
                IPropertySymbol? property = symbol.GetMembers(parameter.Name).OfType<IPropertySymbol>().FirstOrDefault();
                IEnumerable<AttributeData> attributes = parameter.GetAttributes()
                    .Concat(property?.GetAttributes() ?? Enumerable.Empty<AttributeData>());
                reader.Add(parameter.Name, parameter.Type, parameter.Locations.FirstOrDefault(), attributes, isParameter: true,
                    CSharpText.DefaultValue(parameter), isRequired: false);
            }
        }

        foreach (IPropertySymbol property in symbol.GetMembers().OfType<IPropertySymbol>())
        {
            if (property.IsStatic || property.IsIndexer || property.SetMethod is null || parameterNames.Contains(property.Name)
                || property.DeclaredAccessibility != Accessibility.Public || property.IsImplicitlyDeclared)
            {
                continue;
            }

            reader.Add(property.Name, property.Type, property.Locations.FirstOrDefault(), property.GetAttributes(), isParameter: false,
                "default!", property.IsRequired);
        }

        cancellationToken.ThrowIfCancellationRequested();

        CoordinatePartModel? entity = reader.CoordinatePart(reader._entities, "Entity");
        CoordinatePartModel? scope = reader.CoordinatePart(reader._scopes, "Scope");
        if (reader._entities.Count == 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MissingEntity, typeLocation, display));
        }

        return new MemberSet(reader._fields.ToEquatableArray(), entity, scope, reader._blocked);
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

    private void Add(string name, ITypeSymbol type, Location? memberLocation, IEnumerable<AttributeData> attributes,
        bool isParameter, string defaultValue, bool isRequired)
    {
        Location reportAt = memberLocation ?? _typeLocation;
        string escaped = CSharpText.Escape(name);
        TypeShape? shape = ShapeReader.ShapeOf(type, _known);
        if (shape is null && ShapeReader.HasErrorType(type))
        {
            _blocked = true; // the compiler reports the type it cannot resolve (CS0246); "unsupported" would be a second error
        }
        else if (shape is null)
        {
            _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedMemberType, reportAt, name, _display,
                type.ToDisplayString()));
        }

        // Marks count even on a member whose type is unsupported or whose mark is unusable: the member is still the one
        // marked, so its own diagnostic is not followed by "no member marked [Entity]".
        foreach (AttributeData data in attributes)
        {
            bool isEntity = _known.IsEntityAttribute(data.AttributeClass);
            if (!isEntity && !_known.IsScopeAttribute(data.AttributeClass))
            {
                continue;
            }

            string label = isEntity ? "Entity" : "Scope";
            Location attributeLocation = data.ApplicationSyntaxReference?.GetSyntax(_cancellationToken).GetLocation() ?? reportAt;
            (isEntity ? _entities : _scopes).Add(new Mark(escaped, ReadFormat(data, label, name, attributeLocation),
                type.SpecialType == SpecialType.System_String, attributeLocation));
        }

        if (shape is not null)
        {
            _fields.Add(new FieldModel(escaped, type.ToDisplayString(ShapeReader.TypeFormat), shape, _fields.Count, isParameter,
                defaultValue, isRequired));
        }
    }

    /// <summary>The mark's format, or <see langword="null"/> when it cannot be used (BPK0006, or a compiler error already).</summary>
    private string? ReadFormat(AttributeData data, string label, string member, Location location)
    {
        if (data.HasErrors())
        {
            _blocked = true; // a missing, extra or non-constant argument: the compiler's error (CS7036, CS1729, CS0182)
            return null;
        }

        string format = data.ConstructorArguments.Length == 1 && data.ConstructorArguments[0].Value is string f ? f : string.Empty;
        if (CheckFormat(format) is { } problem)
        {
            _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidFormat, location, label, format, member, problem));
            return null;
        }

        return format;
    }

    private CoordinatePartModel? CoordinatePart(List<Mark> marks, string label)
    {
        if (marks.Count > 1)
        {
            _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MultipleCoordinateMembers, marks[1].Location, _display, label,
                string.Join(", ", marks.Select(static m => m.Member))));
            return null;
        }

        return marks.Count == 1 && marks[0].Format is { } format ? new CoordinatePartModel(marks[0].Member, format, marks[0].IsString) : null;
    }

    /// <summary>One <c>[Entity]</c> or <c>[Scope]</c> on a member; <see cref="Format"/> is <see langword="null"/> when unusable.</summary>
    private readonly record struct Mark(string Member, string? Format, bool IsString, Location Location);
}

/// <summary>What <see cref="MemberReader"/> read: plain data for the model, plus whether emission must stop.</summary>
/// <param name="Fields">The serialized members in key order.</param>
/// <param name="Entity">The usable <c>[Entity]</c> member, if exactly one is marked with a valid format.</param>
/// <param name="Scope">The usable <c>[Scope]</c> member, if any.</param>
/// <param name="Blocked"><see langword="true"/> when a compiler error (not a BPK diagnostic) leaves nothing to emit from.</param>
internal readonly record struct MemberSet(EquatableArray<FieldModel> Fields, CoordinatePartModel? Entity, CoordinatePartModel? Scope, bool Blocked);
