using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Batpak.Sdk.Generators.Diagnostics;
using Batpak.Sdk.Generators.Emitting;
using Batpak.Sdk.Generators.Model;
using Batpak.Sdk.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Batpak.Sdk.Generators;

/// <summary>Generates MessagePack formatters, coordinate builders and the kind registry for [BatpakEvent] records.</summary>
[Generator(LanguageNames.CSharp)]
public sealed class EventGenerator : IIncrementalGenerator
{
    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // Stage 1 (parse): symbols live only inside the transform; what leaves it is plain data.
        IncrementalValuesProvider<ParseResult> parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownNames.EventAttribute,
                predicate: static (node, _) => node is TypeDeclarationSyntax,
                transform: static (ctx, ct) => Parser.Parse(ctx, ct))
            .WithTrackingName(TrackingNames.Parse);

        // Stage 2 (emit): re-runs only when the equatable model changes.
        IncrementalValuesProvider<EventModel> models = parsed
            .Where(static r => r.Model is not null)
            .Select(static (r, _) => r.Model!)
            .WithTrackingName(TrackingNames.Model);
        context.RegisterSourceOutput(models, static (spc, m) => spc.AddSource(m.HintName, EventEmitter.Emit(m)));

        // One registry per assembly: the compilation contributes only its (equatable) assembly name.
        IncrementalValueProvider<string> assemblyName = context.CompilationProvider
            .Select(static (c, _) => c.AssemblyName ?? "Unnamed")
            .WithTrackingName(TrackingNames.AssemblyName);
        IncrementalValueProvider<RegistryModel> registry = models
            .Select(static (m, _) => new RegistryEntry(m.FullyQualifiedName, m.Kind, m.Version))
            .Collect()
            .Combine(assemblyName)
            .Select(static (pair, _) => new RegistryModel(
                pair.Right,
                pair.Left.OrderBy(static e => e.Kind).ThenBy(static e => e.FullyQualifiedName, System.StringComparer.Ordinal).ToEquatableArray()))
            .WithTrackingName(TrackingNames.Registry);
        context.RegisterSourceOutput(registry, static (spc, r) =>
        {
            if (r.Entries.Count > 0)
            {
                spc.AddSource(RegistryEmitter.HintName, RegistryEmitter.Emit(r));
            }
        });

        // Diagnostics travel on their own pipeline, so moving a line never forces re-emission.
        context.RegisterSourceOutput(
            parsed.SelectMany(static (r, _) => r.Diagnostics),
            static (spc, d) => spc.ReportDiagnostic(d.ToDiagnostic()));

        // Duplicate kinds need the whole compilation: checked over every claim.
        IncrementalValueProvider<ImmutableArray<KindClaim>> claims = parsed
            .Where(static r => r.Claim is not null)
            .Select(static (r, _) => r.Claim!)
            .Collect()
            .WithTrackingName(TrackingNames.Claims);
        context.RegisterSourceOutput(claims, static (spc, all) =>
        {
            foreach (DiagnosticInfo diagnostic in DuplicateKinds(all))
            {
                spc.ReportDiagnostic(diagnostic.ToDiagnostic());
            }
        });
    }

    /// <summary>BPK0001 for every type whose kind an earlier type (by name) already claims.</summary>
    internal static IEnumerable<DiagnosticInfo> DuplicateKinds(ImmutableArray<KindClaim> claims)
    {
        foreach (IGrouping<ushort, KindClaim> group in claims.GroupBy(static c => c.Kind).Where(static g => g.Count() > 1))
        {
            KindClaim[] ordered = [.. group.OrderBy(static c => c.TypeName, System.StringComparer.Ordinal)];
            for (int i = 1; i < ordered.Length; i++)
            {
                yield return new DiagnosticInfo(
                    DiagnosticDescriptors.DuplicateKind,
                    ordered[i].Location,
                    new[] { "0x" + ordered[i].Kind.ToString("X4", System.Globalization.CultureInfo.InvariantCulture), ordered[i].TypeName, ordered[0].TypeName }.ToEquatableArray());
            }
        }
    }
}
