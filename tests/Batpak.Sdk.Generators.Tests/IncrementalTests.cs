using System.Collections;
using System.Reflection;
using Batpak.Sdk.Generators;
using Batpak.Sdk.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Batpak.Sdk.Generators.Tests;

/// <summary>The pipeline caches: unrelated edits re-run nothing, and the models hold no Roslyn objects.</summary>
public class IncrementalTests
{
    private static readonly string[] s_trackedSteps =
        [TrackingNames.Parse, TrackingNames.Model, TrackingNames.Claims, TrackingNames.Registry, TrackingNames.AssemblyName];

    private static (GeneratorDriver Driver, CSharpCompilation Compilation) FirstRun(string source)
    {
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(source);
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        return (driver, compilation);
    }

    private static IncrementalStepRunReason[] Reasons(GeneratorRunResult result, string step) =>
        [.. result.TrackedSteps[step].SelectMany(static s => s.Outputs).Select(static o => o.Reason)];

    [Fact]
    public void RunGenerators_UnrelatedTreeAdded_EveryTrackedStepIsCachedOrUnchanged()
    {
        (GeneratorDriver driver, CSharpCompilation compilation) = FirstRun(Sources.EverySupportedType);
        CSharpCompilation changed = compilation.AddSyntaxTrees(
            CSharpSyntaxTree.ParseText("namespace Other; internal static class Unrelated { internal const int Value = 1; }", GeneratorHarness.ParseOptions));

        GeneratorRunResult result = driver.RunGenerators(changed).GetRunResult().Results.Single();

        Assert.All(s_trackedSteps, step => Assert.Contains(step, result.TrackedSteps.Keys));
        foreach (string step in s_trackedSteps)
        {
            Assert.All(Reasons(result, step), reason => Assert.True(
                reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step} was {reason}"));
        }

        Assert.All(result.TrackedOutputSteps.SelectMany(static s => s.Value).SelectMany(static s => s.Outputs),
            output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
    }

    [Fact]
    public void RunGenerators_EventMovedDownByBlankLines_ReparsesButEmitsNothingNew()
    {
        (GeneratorDriver driver, CSharpCompilation compilation) = FirstRun(Sources.DesignContract);
        SyntaxTree old = compilation.SyntaxTrees.Single();
        CSharpCompilation moved = compilation.ReplaceSyntaxTree(old,
            CSharpSyntaxTree.ParseText("\n\n\n" + Sources.DesignContract, GeneratorHarness.ParseOptions, path: old.FilePath));

        GeneratorRunResult result = driver.RunGenerators(moved).GetRunResult().Results.Single();

        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(result, TrackingNames.Parse)); // the claim's location moved
        Assert.All(Reasons(result, TrackingNames.Model), reason => Assert.Equal(IncrementalStepRunReason.Unchanged, reason));
        Assert.All(Reasons(result, TrackingNames.Registry), reason => Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged));
    }

    [Fact]
    public void RunGenerators_MemberAdded_ModelIsModified()
    {
        (GeneratorDriver driver, CSharpCompilation compilation) = FirstRun(Sources.DesignContract);
        SyntaxTree old = compilation.SyntaxTrees.Single();
        CSharpCompilation grown = compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(
            Sources.DesignContract.Replace("decimal Total);", "decimal Total, int Lines = 1);", StringComparison.Ordinal),
            GeneratorHarness.ParseOptions, path: old.FilePath));

        GeneratorRunResult result = driver.RunGenerators(grown).GetRunResult().Results.Single();

        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(result, TrackingNames.Model));
    }

    [Fact]
    public void TrackedSteps_EveryOutput_HoldsNoSymbolCompilationOrSyntax()
    {
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(Sources.EverySupportedType, Sources.Shapes,
            "namespace Shop; [Batpak.BatpakEvent(Category = 0x0, Type = 0x1)] public sealed record Broken(object Id);");
        GeneratorRunResult result = GeneratorHarness.CreateDriver().RunGenerators(compilation).GetRunResult().Results.Single();

        int visited = 0;
        foreach (string step in new[] { TrackingNames.Parse, TrackingNames.Model, TrackingNames.Claims, TrackingNames.Registry })
        {
            foreach ((object value, IncrementalStepRunReason _) in result.TrackedSteps[step].SelectMany(static s => s.Outputs))
            {
                visited += AssertNoRoslynObjects(value, new HashSet<object>(ReferenceEqualityComparer.Instance), step);
            }
        }

        Assert.True(visited > 100, $"walked only {visited} objects");
    }

    private static readonly Type[] s_forbidden =
        [typeof(ISymbol), typeof(Compilation), typeof(SyntaxNode), typeof(SyntaxTree), typeof(SemanticModel), typeof(Location)];

    private static int AssertNoRoslynObjects(object? value, HashSet<object> seen, string path)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || value is DiagnosticDescriptor)
        {
            return 0;
        }

        Type type = value.GetType();
        Assert.False(s_forbidden.Any(f => f.IsAssignableFrom(type)), $"{path} holds a {type.FullName}");
        if (!type.IsValueType && !seen.Add(value))
        {
            return 0;
        }

        int count = 1;
        if (value is IEnumerable items)
        {
            int i = 0;
            foreach (object? item in items)
            {
                count += AssertNoRoslynObjects(item, seen, $"{path}[{i++}]");
            }
        }

        foreach (FieldInfo field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            count += AssertNoRoslynObjects(field.GetValue(value), seen, path + "." + field.Name);
        }

        return count;
    }

    [Fact]
    public void ModelTypes_AllOfThem_AreRecordsWithValueEquality()
    {
        Type[] models = [.. typeof(EventGenerator).Assembly.GetTypes().Where(static t => t.Namespace == "Batpak.Sdk.Generators.Model" && !t.IsEnum && !t.IsAbstract)];

        Assert.NotEmpty(models);
        Assert.All(models.Where(static t => t.IsClass), t =>
            Assert.True(t.GetMethod("<Clone>$") is not null || t.IsSealed && t.GetInterfaces().Any(static i => i.Name.StartsWith("IEquatable", StringComparison.Ordinal)),
                $"{t.Name} is neither a record nor equatable"));
    }
}
