using Batpak.Sdk.Generators;
using Batpak.Sdk.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Batpak.Sdk.Generators.Tests;

/// <summary>One test (or theory) per BPK diagnostic: the id, the severity, where it points, and that nothing is emitted for the bad type.</summary>
public class DiagnosticsTests
{
    private string LastSource { get; set; } = string.Empty;

    private const string Prelude = "using System;\nusing System.Collections.Generic;\nusing Batpak;\n\nnamespace Shop;\n\n";

    private (Diagnostic[] Diagnostics, string[] HintNames) Generate(string body)
    {
        LastSource = Prelude + body;
        (GeneratorDriverRunResult result, _) = GeneratorHarness.Run(LastSource);
        return ([.. result.Diagnostics], [.. result.GeneratedTrees.Select(static t => Path.GetFileName(t.FilePath))]);
    }

    private static Diagnostic Single(Diagnostic[] diagnostics, string id)
    {
        Diagnostic diagnostic = Assert.Single(diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        return diagnostic;
    }

    /// <summary>The source text the diagnostic points at. Generator diagnostics carry a file location rebuilt from plain data.</summary>
    private string Located(Diagnostic diagnostic)
    {
        Assert.Equal("Source0.cs", diagnostic.Location.GetLineSpan().Path);
        return LastSource.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length);
    }

    [Fact]
    public void Generate_TwoTypesWithOneKind_ReportsBPK0001OnTheSecond()
    {
        (Diagnostic[] diagnostics, string[] hints) = Generate("""
            [BatpakEvent(Category = 0x1, Type = 0x7)] public sealed partial record Alpha([property: Entity("a:{0}")] string Id);
            [BatpakEvent(Category = 0x1, Type = 0x7)] public sealed partial record Beta([property: Entity("b:{0}")] string Id);
            """);

        Diagnostic diagnostic = Single(diagnostics, "BPK0001");
        Assert.Equal("Beta", Located(diagnostic));
        Assert.Contains("Shop.Alpha", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Contains("Shop.Beta.Batpak.g.cs", hints);
    }

    [Theory]
    [InlineData(0x0)]
    [InlineData(0xD)]
    public void Generate_ReservedCategory_ReportsBPK0002(int category)
    {
        (Diagnostic[] diagnostics, string[] hints) = Generate($$"""
            [BatpakEvent(Category = {{category}}, Type = 0x1)] public sealed partial record Reserved([property: Entity("r:{0}")] string Id);
            """);

        Assert.Equal("Reserved", Located(Single(diagnostics, "BPK0002")));
        Assert.Empty(hints);
    }

    [Theory]
    [InlineData("Category = 0x10, Type = 0x1")]
    [InlineData("Category = 0x1, Type = 0x1000")]
    public void Generate_KindOutOfRange_ReportsBPK0003(string arguments)
    {
        (Diagnostic[] diagnostics, string[] hints) = Generate($$"""
            [BatpakEvent({{arguments}})] public sealed partial record Wide([property: Entity("w:{0}")] string Id);
            """);

        Assert.Equal("Wide", Located(Single(diagnostics, "BPK0003")));
        Assert.Empty(hints);
    }

    [Theory]
    [InlineData("""[BatpakEvent(Category = 0x1, Type = 0x1)] public sealed record Plain([property: Entity("p:{0}")] string Id);""")]
    [InlineData("""public static class Holder { [BatpakEvent(Category = 0x1, Type = 0x1)] public sealed partial record Plain([property: Entity("p:{0}")] string Id); }""")]
    public void Generate_TypeOrContainerNotPartial_ReportsBPK0004(string body)
    {
        (Diagnostic[] diagnostics, string[] hints) = Generate(body);

        Assert.Equal("Plain", Located(Single(diagnostics, "BPK0004")));
        Assert.Empty(hints);
    }

    [Theory]
    [InlineData("object")]
    [InlineData("Uri")]
    [InlineData("HashSet<int>")]
    [InlineData("List<object>")]
    [InlineData("int[,]")]
    [InlineData("IntPtr")]
    public void Generate_UnsupportedMemberType_ReportsBPK0005OnTheMember(string type)
    {
        (Diagnostic[] diagnostics, string[] hints) = Generate($$"""
            [BatpakEvent(Category = 0x1, Type = 0x1)] public sealed partial record Odd([property: Entity("o:{0}")] string Id, {{type}} Payload);
            """);

        Diagnostic diagnostic = Single(diagnostics, "BPK0005");
        Assert.Equal("Payload", Located(diagnostic));
        Assert.Empty(hints);
    }

    [Theory]
    [InlineData("order:{1}")]
    [InlineData("order")]
    [InlineData("order:{0")]
    [InlineData("{0}-{1}")]
    [InlineData("")]
    public void Generate_InvalidEntityFormat_ReportsBPK0006(string format)
    {
        (Diagnostic[] diagnostics, string[] hints) = Generate($$"""
            [BatpakEvent(Category = 0x1, Type = 0x1)] public sealed partial record Bad([property: Entity("{{format}}")] string Id);
            """);

        // Only BPK0006: the member is marked, so no BPK0008 ("no member marked [Entity]") follows it.
        Assert.StartsWith("Entity(", Located(Single(diagnostics, "BPK0006")), StringComparison.Ordinal);
        Assert.Empty(hints);
    }

    [Fact]
    public void Generate_InvalidScopeFormat_ReportsBPK0006()
    {
        (Diagnostic[] diagnostics, _) = Generate("""
            [BatpakEvent(Category = 0x1, Type = 0x1)] public sealed partial record Bad([property: Entity("e:{0}")] string Id, [property: Scope("{2}")] string Tenant);
            """);

        Assert.Contains("[Scope]", Single(diagnostics, "BPK0006").GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_TwoEntityMembers_ReportsBPK0007()
    {
        (Diagnostic[] diagnostics, string[] hints) = Generate("""
            [BatpakEvent(Category = 0x1, Type = 0x1)] public sealed partial record Twice([property: Entity("a:{0}")] string A, [Entity("b:{0}")] string B);
            """);

        Diagnostic diagnostic = Single(diagnostics, "BPK0007");
        Assert.Equal("Entity(\"b:{0}\")", Located(diagnostic));
        Assert.Empty(hints);
    }

    [Fact]
    public void Generate_TwoScopeMembers_ReportsBPK0007()
    {
        (Diagnostic[] diagnostics, _) = Generate("""
            [BatpakEvent(Category = 0x1, Type = 0x1)] public sealed partial record Twice([property: Entity("a:{0}")] string A, [Scope("s:{0}")] string B, [Scope("t:{0}")] string C);
            """);

        Assert.Contains("[Scope]", Single(diagnostics, "BPK0007").GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_NoEntityMember_ReportsBPK0008()
    {
        (Diagnostic[] diagnostics, string[] hints) = Generate("""
            [BatpakEvent(Category = 0x1, Type = 0x1)] public sealed partial record Nameless(string Id, [property: Scope("s:{0}")] string Tenant);
            """);

        Assert.Equal("Nameless", Located(Single(diagnostics, "BPK0008")));
        Assert.Empty(hints);
    }

    [Theory]
    [InlineData("""[BatpakEvent(Category = 0x1, Type = 0x1)] public sealed partial class Wrong { [Entity("w:{0}")] public string Id { get; init; } = ""; }""")]
    [InlineData("""[BatpakEvent(Category = 0x1, Type = 0x1)] public sealed partial record Wrong<T>([property: Entity("w:{0}")] T Id);""")]
    public void Generate_ClassOrGenericRecord_ReportsBPK0009(string body)
    {
        (Diagnostic[] diagnostics, string[] hints) = Generate(body);

        Assert.Equal("Wrong", Located(Single(diagnostics, "BPK0009")));
        Assert.Empty(hints);
    }

    [Fact]
    public void Generate_ValidEvent_ReportsNothing()
    {
        (Diagnostic[] diagnostics, string[] hints) = Generate("""
            [BatpakEvent(Category = 0x1, Type = 0x1)] public sealed partial record Fine([property: Entity("f:{0}")] string Id);
            """);

        Assert.Empty(diagnostics);
        Assert.Equal(["Shop.Fine.Batpak.g.cs", "BatpakEventRegistry.Batpak.g.cs"], hints);
    }

    [Fact]
    public void Descriptors_EveryId_IsListedInUnshippedReleasesAndDocs()
    {
        string root = Path.GetFullPath(Path.Combine(GeneratorHarness.ProjectDirectory(), "..", ".."));
        string releases = File.ReadAllText(Path.Combine(root, "generators", "Batpak.Sdk.Generators", "AnalyzerReleases.Unshipped.md"));
        string docs = File.ReadAllText(Path.Combine(root, "docs", "GENERATOR.md"));
        string[] ids = [.. typeof(EventGenerator).Assembly.GetType("Batpak.Sdk.Generators.Diagnostics.DiagnosticDescriptors")!
            .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Select(static f => ((DiagnosticDescriptor)f.GetValue(null)!).Id)];

        Assert.Equal(9, ids.Length);
        Assert.All(ids, id => Assert.Contains(id + " |", releases, StringComparison.Ordinal));
        Assert.All(ids, id => Assert.Contains("| " + id + " |", docs, StringComparison.Ordinal));
    }
}
