using Batpak.Sdk.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Batpak.Sdk.Generators.Tests;

/// <summary>
/// One root cause, one diagnostic: a mistake the generator reports is not reported again under another BPK id, and a
/// mistake the compiler already reports (an unknown type, a bad attribute argument, an attribute where it is not
/// allowed) gets no BPK diagnostic on top, nor a generator crash.
/// </summary>
public class OneCauseOneDiagnosticTests
{
    private const string Prelude = "using System;\nusing System.Collections.Generic;\nusing Batpak;\n\nnamespace Shop;\n\n";

    private static (string[] Generator, string[] Compiler, string[] HintNames) Generate(string body)
    {
        (GeneratorDriverRunResult result, Compilation output) = GeneratorHarness.Run(Prelude + body);
        return ([.. result.Diagnostics.Select(static d => d.Id)],
            [.. output.GetDiagnostics().Where(static d => d.Severity == DiagnosticSeverity.Error && d.Id != "CS1591").Select(static d => d.Id)],
            [.. result.GeneratedTrees.Select(static t => Path.GetFileName(t.FilePath))]);
    }

    /// <summary>The compiler reports <paramref name="error"/> (and, apart from a knock-on error, nothing else); the generator reports and emits nothing.</summary>
    private static void AssertOnlyCompilerError(string body, string error)
    {
        (string[] generator, string[] compiler, string[] hints) = Generate(body);

        Assert.Empty(generator);
        Assert.Equal(error, compiler.FirstOrDefault());
        Assert.Empty(hints);
    }

    [Fact]
    public void Generate_NullEntityFormat_ReportsOnlyBPK0006()
    {
        (string[] generator, string[] compiler, string[] hints) = Generate("""
            [BatpakEvent(Category = 0x1, Type = 0x1)] internal sealed partial record Bad([property: Entity(null!)] string Id);
            """);

        Assert.Equal(["BPK0006"], generator);
        Assert.Empty(compiler);
        Assert.Empty(hints);
    }

    [Fact]
    public void Generate_EntityMemberOfUnsupportedType_ReportsOnlyBPK0005()
    {
        (string[] generator, _, string[] hints) = Generate("""
            [BatpakEvent(Category = 0x1, Type = 0x1)] internal sealed partial record Bad([property: Entity("b:{0}")] object Id);
            """);

        Assert.Equal(["BPK0005"], generator);
        Assert.Empty(hints);
    }

    [Fact]
    public void Generate_EntityMemberOfUnsupportedTypeWithAnInvalidFormat_ReportsBoth()
    {
        (string[] generator, _, _) = Generate("""
            [BatpakEvent(Category = 0x1, Type = 0x1)] internal sealed partial record Bad([property: Entity("b")] object Id);
            """);

        Assert.Equal(["BPK0005", "BPK0006"], generator);
    }

    [Fact]
    public void Generate_SecondEntityMarkWithAnInvalidFormat_ReportsTheFormatAndTheSecondMark()
    {
        (string[] generator, _, string[] hints) = Generate("""
            [BatpakEvent(Category = 0x1, Type = 0x1)] internal sealed partial record Bad([property: Entity("a:{0}")] string A, [property: Entity("b")] string B);
            """);

        Assert.Equal(["BPK0006", "BPK0007"], generator);
        Assert.Empty(hints);
    }

    [Theory]
    [InlineData("[property: Entity(\"b:{0}\")] Missing Id", "CS0246")]
    [InlineData("[property: Entity(\"b:{0}\")] string Id, List<Missing> Items", "CS0246")]
    [InlineData("[property: Entity(\"b:{0}\")] string Id, Missing[] Items", "CS0246")]
    [InlineData("[property: Entity] string Id", "CS7036")]
    [InlineData("[property: Entity(\"a:{0}\", \"b\")] string Id", "CS1729")]
    [InlineData("[property: Entity(Bad.Prefix)] string Id", "CS0182")]
    [InlineData("[property: Entity(42)] string Id", "CS1503")]
    public void Generate_MemberTypeOrMarkTheCompilerRejects_ReportsOnlyTheCompilerError(string members, string error) =>
        AssertOnlyCompilerError($$"""
            [BatpakEvent(Category = 0x1, Type = 0x1)] internal sealed partial record Bad({{members}}) { internal static string Prefix = "p:{0}"; }
            """, error);

    [Theory]
    [InlineData("Category = 300, Type = 0x1", "CS0031")]
    [InlineData("Category = \"one\", Type = 0x1", "CS0029")]
    [InlineData("Category = 0x1, Type = -1", "CS0031")]
    [InlineData("Category = 0x1, Type = 0x1, Version = \"v\"", "CS0029")]
    public void Generate_EventAttributeArgumentTheCompilerRejects_ReportsOnlyTheCompilerError(string arguments, string error) =>
        AssertOnlyCompilerError($$"""
            [BatpakEvent({{arguments}})] internal sealed partial record Bad([property: Entity("b:{0}")] string Id);
            """, error);

    [Fact]
    public void Generate_EventAttributeOnAnInterface_ReportsOnlyTheCompilerError() =>
        AssertOnlyCompilerError("[BatpakEvent(Category = 0x1, Type = 0x1)] internal partial interface IBad { }", "CS0592");

    [Fact]
    public void Generate_EventAttributeOnTwoPartialDeclarations_ReadsTheFirstAndReportsOnlyTheCompilerError()
    {
        (GeneratorDriverRunResult result, Compilation output) = GeneratorHarness.Run(Prelude + """
            [BatpakEvent(Category = 0x1, Type = 0x1)] internal sealed partial record Twice([property: Entity("t:{0}")] string Id);
            """, Prelude + """
            [BatpakEvent(Category = 0x1, Type = 0x2)] internal sealed partial record Twice;
            """);

        Assert.Empty(result.Diagnostics); // no BPK0001 against itself, no CS8785 for a second file of the same name
        Assert.Equal(["CS0579"], output.GetDiagnostics().Where(static d => d.Severity == DiagnosticSeverity.Error).Select(static d => d.Id));
        string generated = result.GeneratedTrees.Single(static t => t.FilePath.EndsWith("Shop.Twice.Batpak.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("EventKind.FromValue(0x1001)", generated, StringComparison.Ordinal);
    }
}
