using System.Text.RegularExpressions;

namespace Batpak.Tests.Hygiene;

/// <summary>Every suppressed warning carries its reason on the same line (the C# form of the Rust build's allow-justification check).</summary>
public partial class PragmaTests
{
    [Fact]
    public void PragmaWarningDisable_EverywhereInTheRepository_HasAReasonOnTheSameLine()
    {
        string root = FindRepositoryRoot();
        var bare = new List<string>();
        foreach (string folder in new[] { "src", "generators", "samples", "bench", "tests" })
        {
            foreach (string file in Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories))
            {
                if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                    || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                {
                    continue;
                }

                string[] lines = File.ReadAllLines(file);
                for (int i = 0; i < lines.Length; i++)
                {
                    if (DisableWithoutReason().IsMatch(lines[i]))
                    {
                        bare.Add($"{Path.GetRelativePath(root, file)}:{i + 1}: {lines[i].Trim()}");
                    }
                }
            }
        }

        Assert.True(bare.Count == 0, "Give each suppression a reason after // on the same line:\n" + string.Join('\n', bare));
    }

    [Fact]
    public void Pattern_FlagsABareDisable_AndAcceptsOneWithAReason()
    {
        Assert.Matches(DisableWithoutReason(), "#pragma warning disable CA1000");
        Assert.DoesNotMatch(DisableWithoutReason(), "#pragma warning disable CA1000 // generated shape needs it");
        Assert.DoesNotMatch(DisableWithoutReason(), "#pragma warning restore CA1000");
    }

    private static string FindRepositoryRoot()
    {
        string? directory = AppContext.BaseDirectory;
        while (directory is not null && !File.Exists(Path.Combine(directory, "Batpak.Sdk.sln")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        return directory ?? throw new InvalidOperationException($"Batpak.Sdk.sln not found above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"^\s*#pragma\s+warning\s+disable\b(?!.*//\s*\S)")]
    private static partial Regex DisableWithoutReason();
}
