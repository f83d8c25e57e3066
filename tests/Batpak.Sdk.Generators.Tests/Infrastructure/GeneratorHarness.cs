using System.Collections.Immutable;
using Batpak.Sdk.Generators;
using MessagePack;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Batpak.Sdk.Generators.Tests.Infrastructure;

/// <summary>Compiles test sources against the runtime and runs <see cref="EventGenerator"/> over them.</summary>
internal static class GeneratorHarness
{
    public const string AssemblyName = "Batpak.Sample.Events";

    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(() =>
    {
        string runtimeDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        IEnumerable<string> paths = Directory.GetFiles(runtimeDirectory, "*.dll")
            .Where(static p => IsManaged(p))
            .Concat([typeof(EventKind).Assembly.Location, typeof(MessagePackWriter).Assembly.Location, typeof(MessagePackObjectAttribute).Assembly.Location]);
        return [.. paths.Distinct().Select(static p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    });

    public static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.Preview, DocumentationMode.Diagnose);

    /// <summary>A consumer as strict as the repo's own projects: nullable on, every warning an error, XML docs checked.</summary>
    public static CSharpCompilation CreateCompilation(params string[] sources) =>
        CSharpCompilation.Create(
            AssemblyName,
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")),
            s_references.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable,
                generalDiagnosticOption: ReportDiagnostic.Error,
                // The SDK passes these two by default too: unification of framework assembly versions.
                specificDiagnosticOptions: [new("CS1701", ReportDiagnostic.Suppress), new("CS1702", ReportDiagnostic.Suppress)]));

    public static CSharpGeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create(
            [new EventGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public static (GeneratorDriverRunResult Result, Compilation Output) Run(params string[] sources)
    {
        CSharpCompilation compilation = CreateCompilation(sources);
        GeneratorDriver driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out _);
        return (driver.GetRunResult(), output);
    }

    /// <summary>Runs the generator and asserts it reports nothing and its output compiles with zero diagnostics.</summary>
    public static GeneratorDriverRunResult RunClean(params string[] sources)
    {
        (GeneratorDriverRunResult result, Compilation output) = Run(sources);
        Assert.Empty(result.Diagnostics.Select(static d => d.ToString()));
        Assert.Empty(output.GetDiagnostics().Where(static d => d.Severity >= DiagnosticSeverity.Warning).Select(static d => d.ToString()));
        return result;
    }

    /// <summary>The directory of this test project's sources (for the baselines).</summary>
    /// <summary>
    /// The test project's source folder, found by walking up from the test binaries (bin/{Configuration}/{TFM}/ sits
    /// inside it). Not [CallerFilePath]: a ContinuousIntegrationBuild maps source paths to "/_/".
    /// </summary>
    public static string ProjectDirectory()
    {
        string? directory = AppContext.BaseDirectory;
        while (directory is not null && !File.Exists(Path.Combine(directory, "Batpak.Sdk.Generators.Tests.csproj")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        return directory ?? throw new InvalidOperationException($"Batpak.Sdk.Generators.Tests.csproj not found above {AppContext.BaseDirectory}.");
    }

    private static bool IsManaged(string path)
    {
        try
        {
            System.Reflection.AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
