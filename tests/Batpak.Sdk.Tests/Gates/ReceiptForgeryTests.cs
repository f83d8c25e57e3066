using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Batpak.Tests;

/// <summary>
/// The C# form of the Rust crate's <c>tests/ui/forge_receipt.rs</c>: user code compiled against the built Batpak.Sdk
/// assembly must not be able to create a <see cref="Receipt{T}"/> (or a <see cref="Committed{T}"/>) by any
/// language means. Each snippet asserts the exact set of compiler error ids; the control snippet proves the harness
/// resolves the real public API (a broken harness would make every "fails" test pass for the wrong reason).
/// </summary>
public class ReceiptForgeryTests
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(LoadReferences);

    [Fact]
    public void Control_PublicGateApi_CompilesWithoutErrors()
    {
        const string Code = """
            using System.Collections.Generic;
            using Batpak;

            public static class UserCode
            {
                public static string Run(IEventStore store)
                {
                    var gates = new GateSet<int>(Gate.Require<int>("positive", n => n > 0, "NOT_POSITIVE", "Must be positive."));
                    var pipeline = new Pipeline<int>(store, gates);
                    var proposal = new Proposal<string>("x", new Coordinate("order:1", "tenant:a"), EventKind.Create(1, 1));
                    Receipt<string> receipt = pipeline.Evaluate(1, proposal);
                    IReadOnlyList<string> passed = receipt.GatesPassed;
                    Committed<string> committed = pipeline.Commit(receipt, PayloadEncoder.Create<string>(s => new byte[] { 1 }));
                    IReadOnlyList<StoredEvent> audit = store.ReadBypasses();
                    return committed.Receipt.GateSetName + passed.Count + audit.Count + receipt.State;
                }
            }
            """;

        Assert.Empty(Errors(Code));
    }

    private const string ForgeWithConstructorArguments = """
        using Batpak;

        public static class UserCode
        {
            public static Receipt<string> Forge(Proposal<string> proposal) =>
                new Receipt<string>(proposal, new object(), 1L, "gates#1", new string[0], null);
        }
        """;

    [Fact]
    public void NewReceipt_WithTheInternalConstructorsArguments_FailsWithCS1729()
    {
        // What csc/MSBuild report: a compiler imports only the public surface of a referenced assembly that does not
        // grant it InternalsVisibleTo (MetadataImportOptions.Public), so the internal constructor does not exist for
        // user code at all. CS1729: 'Receipt<string>' does not contain a constructor that takes 6 arguments.
        Assert.Equal(["CS1729"], Errors(ForgeWithConstructorArguments));
    }

    [Fact]
    public void NewReceipt_WithFullMetadataImport_FailsWithCS0122()
    {
        // Even a compiler that imports every member (as IDE analysis may) finds the constructor and refuses it.
        // CS0122: 'Receipt<string>.Receipt(...)' is inaccessible due to its protection level.
        Assert.Equal(["CS0122"], Errors(ForgeWithConstructorArguments, MetadataImportOptions.All));
    }

    [Fact]
    public void NewReceipt_WithoutArguments_FailsWithCS1729()
    {
        const string Code = """
            using Batpak;

            public static class UserCode
            {
                public static Receipt<string> Forge() => new Receipt<string>();
            }
            """;

        // CS1729: 'Receipt<string>' does not contain a constructor that takes 0 arguments.
        Assert.Equal(["CS1729"], Errors(Code));
    }

    [Fact]
    public void SubclassReceipt_FailsWithCS0509()
    {
        const string Code = """
            using Batpak;

            public sealed class ForgedReceipt : Receipt<string>
            {
            }
            """;

        // CS0509: cannot derive from sealed type 'Receipt<string>'.
        Assert.Equal(["CS0509"], Errors(Code));
    }

    [Fact]
    public void ObjectInitializer_OnReceipt_FailsWithCS1729AndCS0200()
    {
        const string Code = """
            using Batpak;

            public static class UserCode
            {
                public static Receipt<string> Forge(Proposal<string> proposal) => new Receipt<string>
                {
                    Proposal = proposal,
                    GateSetName = "gates#1",
                };
            }
            """;

        // CS1729: no accessible parameterless constructor; CS0200 (twice): the properties are read-only.
        Assert.Equal(["CS0200", "CS0200", "CS1729"], Errors(Code));
    }

    [Fact]
    public void WithExpression_OnIssuedReceipt_FailsWithCS8858()
    {
        const string Code = """
            using Batpak;

            public static class UserCode
            {
                public static Receipt<string> Copy(Receipt<string> real) => real with { };
            }
            """;

        // CS8858: the receiver of a `with` expression must be a record (or struct): no cloning a real receipt.
        Assert.Equal(["CS8858"], Errors(Code));
    }

    [Fact]
    public void NewCommitted_FailsWithCS1729()
    {
        const string Code = """
            using Batpak;

            public static class UserCode
            {
                public static Committed<string> Forge(Receipt<string> receipt) => new Committed<string>(receipt, default(AppendReceipt));
            }
            """;

        // CS1729: 'Committed<string>' does not contain a constructor that takes 2 arguments (its constructor is internal).
        Assert.Equal(["CS1729"], Errors(Code));
    }

    /// <summary>Compiles <paramref name="code"/> as a separate user assembly; returns its error ids, sorted.</summary>
    internal static string[] Errors(string code, MetadataImportOptions import = MetadataImportOptions.Public)
    {
        CSharpCompilation compilation = CSharpCompilation.Create(
            assemblyName: "ForgeryAttempt", // not a friend assembly: Batpak.Sdk's internals stay invisible
            syntaxTrees: [CSharpSyntaxTree.ParseText(code, new CSharpParseOptions(LanguageVersion.Latest))],
            references: s_references.Value,
            options: new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable)
                .WithMetadataImportOptions(import));

        return [.. compilation.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .Select(d => d.Id)
            .Order(StringComparer.Ordinal)];
    }

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        string platform = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string
            ?? throw new InvalidOperationException("TRUSTED_PLATFORM_ASSEMBLIES is not set; cannot compile snippets.");
        var paths = new HashSet<string>(platform.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal)
        {
            typeof(GateSet<>).Assembly.Location,
            typeof(MessagePack.MessagePackWriter).Assembly.Location,
        };
        return [.. paths.Where(p => p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    }
}
