using System.Runtime.CompilerServices;
using Batpak.Sdk.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Batpak.Sdk.Generators.Tests;

/// <summary>
/// The generated sources, compared with the checked-in <c>Baselines/{Test}/{HintName}.txt</c> files. Run with
/// <c>BATPAK_UPDATE_GOLDEN=1</c> to rewrite them after an intended change, then review the diff.
/// </summary>
public class BaselineTests
{
    private const string UpdateVariable = "BATPAK_UPDATE_GOLDEN";

    [Fact]
    public void Generate_DesignContractRecord_MatchesBaseline() => Verify(Sources.DesignContract);

    [Fact]
    public void Generate_EverySupportedMemberType_MatchesBaseline() => Verify(Sources.EverySupportedType);

    [Fact]
    public void Generate_NestedRecordWithBodyProperties_MatchesBaseline() => Verify(Sources.Shapes);

    [Fact]
    public void Generate_GlobalNamespaceStructWithKeywordMembers_MatchesBaseline() => Verify(Sources.GlobalNamespace);

    [Fact]
    public void Baselines_EveryDirectory_BelongsToABaselineTest()
    {
        string[] tests = [.. typeof(BaselineTests).GetMethods().Where(static m => m.Name.StartsWith("Generate_", StringComparison.Ordinal)).Select(static m => m.Name)];
        string[] directories = [.. Directory.GetDirectories(BaselineRoot()).Select(static d => Path.GetFileName(d)!)];

        Assert.NotEmpty(directories);
        Assert.All(directories, d => Assert.Contains(d, tests));
    }

    private static string BaselineRoot() => Path.Combine(GeneratorHarness.ProjectDirectory(), "Baselines");

    private static void Verify(string source, [CallerMemberName] string test = "")
    {
        GeneratorDriverRunResult result = GeneratorHarness.RunClean(source);
        Dictionary<string, string> generated = result.GeneratedTrees.ToDictionary(
            static t => Path.GetFileName(t.FilePath) + ".txt",
            static t => t.ToString());
        string directory = Path.Combine(BaselineRoot(), test);

        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }

            Directory.CreateDirectory(directory);
            foreach ((string name, string text) in generated)
            {
                File.WriteAllText(Path.Combine(directory, name), text);
            }

            return;
        }

        string[] expectedNames = Directory.Exists(directory) ? [.. Directory.GetFiles(directory).Select(static f => Path.GetFileName(f)).Order(StringComparer.Ordinal)] : [];
        // A stale or missing baseline file is a failure: the set of files must match the generated set exactly.
        Assert.Equal(expectedNames, generated.Keys.Order(StringComparer.Ordinal));
        foreach ((string name, string text) in generated)
        {
            string expected = File.ReadAllText(Path.Combine(directory, name)).ReplaceLineEndings("\n");
            Assert.Equal(expected, text);
        }
    }
}
