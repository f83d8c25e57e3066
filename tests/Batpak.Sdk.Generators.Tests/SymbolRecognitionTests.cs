using Batpak.Sdk.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Batpak.Sdk.Generators.Tests;

/// <summary>
/// The generator knows Batpak's attributes, its event interface and the MessagePack attributes by symbol: lookalikes
/// with the same simple name (or the same display string) elsewhere are not Batpak's, while aliases and fully
/// qualified spellings of the real ones are.
/// </summary>
public class SymbolRecognitionTests
{
    /// <summary>Types named like Batpak's, declared in the user's own namespace.</summary>
    private const string Lookalikes = """
        namespace MyApp
        {
            [System.AttributeUsage(System.AttributeTargets.All)]
            internal sealed class BatpakEventAttribute : System.Attribute
            {
                public byte Category { get; set; }

                public ushort Type { get; set; }
            }

            [System.AttributeUsage(System.AttributeTargets.All)]
            internal sealed class EntityAttribute(string format) : System.Attribute
            {
                public string Format { get; } = format;
            }

            [System.AttributeUsage(System.AttributeTargets.All)]
            internal sealed class ScopeAttribute(string format) : System.Attribute
            {
                public string Format { get; } = format;
            }

            [System.AttributeUsage(System.AttributeTargets.All)]
            internal sealed class MessagePackObjectAttribute : System.Attribute
            {
            }

            internal interface IBatpakEvent<TSelf>
            {
            }
        }
        """;

    private static (Diagnostic[] Diagnostics, string[] HintNames) Generate(params string[] sources)
    {
        (GeneratorDriverRunResult result, _) = GeneratorHarness.Run(sources);
        return ([.. result.Diagnostics], [.. result.GeneratedTrees.Select(static t => Path.GetFileName(t.FilePath))]);
    }

    [Fact]
    public void Generate_LookalikeEventAttribute_IsNotAnEvent()
    {
        (Diagnostic[] diagnostics, string[] hints) = Generate(Lookalikes, """
            namespace Shop;
            [MyApp.BatpakEvent(Category = 0x1, Type = 0x1)] internal sealed partial record NotAnEvent([property: MyApp.Entity("n:{0}")] string Id);
            """);

        Assert.Empty(diagnostics);
        Assert.Empty(hints);
    }

    [Fact]
    public void Generate_OnlyALookalikeEntityAttribute_ReportsMissingEntity()
    {
        (Diagnostic[] diagnostics, string[] hints) = Generate(Lookalikes, """
            using MyApp;
            namespace Shop;
            [Batpak.BatpakEvent(Category = 0x1, Type = 0x1)] internal sealed partial record Unmarked([property: Entity("u:{0}")] string Id);
            """);

        Assert.Equal("BPK0008", Assert.Single(diagnostics).Id);
        Assert.Empty(hints);
    }

    [Fact]
    public void Generate_LookalikeEntityAndScopeBesideTheRealEntity_AreIgnored()
    {
        (GeneratorDriverRunResult result, _) = GeneratorHarness.Run(Lookalikes, """
            namespace Shop;
            [Batpak.BatpakEvent(Category = 0x1, Type = 0x1)]
            internal sealed partial record Marked([property: Batpak.Entity("real:{0}")] string Id,
                [property: MyApp.Entity("fake:{0}")] string Other, [property: MyApp.Scope("fake-scope:{0}")] string Tenant);
            """);
        string generated = result.GeneratedTrees.Single(static t => t.FilePath.EndsWith("Shop.Marked.Batpak.g.cs", StringComparison.Ordinal)).ToString();

        Assert.Empty(result.Diagnostics);
        Assert.Contains("FormatPart(\"real:\", this.Id", generated, StringComparison.Ordinal);
        Assert.DoesNotContain("fake", generated, StringComparison.Ordinal);
        Assert.Contains("\"Id\"), defaultScope);", generated, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[MyApp.BatpakEvent(Category = 0x1, Type = 0x2)] internal sealed partial record Payload(string Id);")]
    [InlineData("internal sealed record Payload(string Id) : MyApp.IBatpakEvent<Payload>;")]
    [InlineData("[MyApp.MessagePackObject] internal sealed class Payload { }")]
    public void Generate_MemberOfALookalikeEventOrMessagePackType_ReportsUnsupportedType(string payload)
    {
        (Diagnostic[] diagnostics, string[] hints) = Generate(Lookalikes, "namespace Shop;\n" + payload + """

            [Batpak.BatpakEvent(Category = 0x1, Type = 0x1)] internal sealed partial record Holder([property: Batpak.Entity("h:{0}")] string Id, Payload Inner);
            """);

        Diagnostic diagnostic = Assert.Single(diagnostics);
        Assert.Equal("BPK0005", diagnostic.Id);
        Assert.Contains("'Shop.Payload'", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Empty(hints);
    }

    /// <summary>
    /// A global-namespace class <c>MessagePack</c> with a nested <c>MessagePackObjectAttribute</c> has the display string
    /// "MessagePack.MessagePackObjectAttribute", the real attribute's; only a symbol comparison tells them apart. (The
    /// compiler warns, CS0437, that the class hides the imported namespace; only the generator's diagnostics are checked.)
    /// </summary>
    [Fact]
    public void Generate_TypeMarkedWithANestedLookalikeOfTheSameDisplayName_ReportsUnsupportedType()
    {
        (Diagnostic[] diagnostics, _) = Generate("""
            internal static class MessagePack
            {
                [System.AttributeUsage(System.AttributeTargets.All)]
                internal sealed class MessagePackObjectAttribute : System.Attribute
                {
                }
            }
            """, """
            namespace Shop;
            [global::MessagePack.MessagePackObject] internal sealed class Payload { }
            [Batpak.BatpakEvent(Category = 0x1, Type = 0x1)] internal sealed partial record Holder([property: Batpak.Entity("h:{0}")] string Id, Payload Inner);
            """);

        Assert.Equal("BPK0005", Assert.Single(diagnostics).Id);
    }

    [Fact]
    public void Generate_AliasedAndFullyQualifiedAttributes_AreRecognised()
    {
        GeneratorDriverRunResult result = GeneratorHarness.RunClean("""
            global using GlobalEvent = Batpak.BatpakEventAttribute;
            """, """
            using Ev = Batpak.BatpakEventAttribute;
            using Key = Batpak.EntityAttribute;
            using Area = Batpak.ScopeAttribute;

            namespace Shop;

            /// <summary>Marked through aliases.</summary>
            [Ev(Category = 0x1, Type = 0x1)]
            public sealed partial record Aliased([property: Key("a:{0}")] string Id, [property: Area("s:{0}")] string Tenant);

            /// <summary>Marked with fully qualified names, holding an aliased event.</summary>
            [global::Batpak.BatpakEventAttribute(Category = 0x1, Type = 0x2)]
            public sealed partial record Qualified([property: global::Batpak.EntityAttribute("q:{0}")] string Id, [global::Batpak.Scope("t:{0}")] string Tenant, Aliased Inner);

            /// <summary>Marked through a global alias.</summary>
            [GlobalEvent(Category = 0x1, Type = 0x3)]
            public sealed partial record Globally([Batpak.Entity("g:{0}")] string Id);
            """);
        Dictionary<string, string> generated = result.GeneratedTrees.ToDictionary(static t => Path.GetFileName(t.FilePath), static t => t.ToString());

        Assert.Equal(["BatpakEventRegistry.Batpak.g.cs", "Shop.Aliased.Batpak.g.cs", "Shop.Globally.Batpak.g.cs", "Shop.Qualified.Batpak.g.cs"],
            generated.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("FormatPart(\"s:\", this.Tenant", generated["Shop.Aliased.Batpak.g.cs"], StringComparison.Ordinal);
        Assert.Contains("FormatPart(\"t:\", this.Tenant", generated["Shop.Qualified.Batpak.g.cs"], StringComparison.Ordinal);
        Assert.Contains("FormatPart(\"g:\", this.Id", generated["Shop.Globally.Batpak.g.cs"], StringComparison.Ordinal);
    }
}
