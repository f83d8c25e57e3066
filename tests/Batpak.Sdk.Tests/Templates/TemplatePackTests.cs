using System.Diagnostics;
using Batpak.Tests.Samples;

namespace Batpak.Tests.Templates;

/// <summary>
/// Packs Batpak.Sdk (with a unique prerelease version) and the template pack into a temp feed, installs the
/// templates into a private hive (<c>--debug:custom-hive</c>, so the machine's template list is untouched), and
/// restores generated projects into a private packages folder. The only package source is the temp feed; every other
/// package (Hosting, MessagePack, ...) comes from the machine's package cache as a read-only fallback folder, which
/// building this repository has filled, so the test needs no network.
/// </summary>
public sealed class TemplatePackFixture : IDisposable
{
    public TemplatePackFixture()
    {
        Root = Path.Combine(Path.GetTempPath(), "batpak-tests", "templates-" + Guid.NewGuid().ToString("N"));
        Feed = Path.Combine(Root, "feed");
        Hive = Path.Combine(Root, "hive");
        Apps = Path.Combine(Root, "apps");
        Directory.CreateDirectory(Apps);
        SdkVersion = "0.1.0-test.g" + Guid.NewGuid().ToString("N")[..12]; // unique: a cached package of an earlier run is never used

        string machinePackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(Apps, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{Path.Combine(Root, "packages")}" />
              </config>
              <fallbackPackageFolders>
                <add key="machine" value="{machinePackages}" />
              </fallbackPackageFolders>
              <packageSources>
                <clear />
                <add key="batpak-test-feed" value="{Feed}" />
              </packageSources>
            </configuration>
            """);

        string repo = SampleProcess.RepoRoot;
        Log += Run(repo, "pack", Path.Combine(repo, "src", "Batpak.Sdk", "Batpak.Sdk.csproj"), "--no-build", "-c", SampleProcess.Configuration, "-o", Feed, "-p:PackageVersion=" + SdkVersion);
        Log += Run(repo, "pack", Path.Combine(repo, "src", "Batpak.Sdk.PostgreSql", "Batpak.Sdk.PostgreSql.csproj"), "--no-build", "-c", SampleProcess.Configuration, "-o", Feed, "-p:PackageVersion=" + SdkVersion);
        Log += Run(repo, "pack", Path.Combine(repo, "samples", "Batpak.Templates", "Batpak.Templates.csproj"), "-c", SampleProcess.Configuration, "-o", Feed);
        string templates = Directory.GetFiles(Feed, "Batpak.Templates.*.nupkg").Single();
        Log += Run(Apps, "new", "install", templates, "--debug:custom-hive", Hive);
    }

    public string Root { get; }

    public string Feed { get; }

    public string Hive { get; }

    public string Apps { get; }

    public string SdkVersion { get; }

    public string Log { get; private set; } = string.Empty;

    /// <summary>Runs <c>dotnet {arguments}</c> in <paramref name="directory"/>; throws with the output when it fails.</summary>
    public static string Run(string directory, params string[] arguments)
    {
        (int exitCode, string output, string error) = SampleProcess.RunAsync(SampleProcess.StartInfo("dotnet", arguments, directory), TimeSpan.FromMinutes(3)).GetAwaiter().GetResult();
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"dotnet {string.Join(' ', arguments)} failed with exit code {exitCode}:\n{output}\n{error}");
        }

        return output;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

public class TemplatePackTests(TemplatePackFixture pack) : IClassFixture<TemplatePackFixture>
{
    [Fact]
    public void BatpakConsole_Instantiates_ReferencesThePackedSdk_Builds_AndRuns()
    {
        var timer = Stopwatch.StartNew();
        string created = TemplatePackFixture.Run(pack.Apps, "new", "batpak-console", "-o", "MyBank", "--BatpakVersion", pack.SdkVersion, "--debug:custom-hive", pack.Hive);
        Assert.Contains("was created successfully", created, StringComparison.Ordinal);
        string project = Path.Combine(pack.Apps, "MyBank");
        Assert.Contains($"<PackageReference Include=\"Batpak.Sdk\" Version=\"{pack.SdkVersion}\" />", File.ReadAllText(Path.Combine(project, "MyBank.csproj")), StringComparison.Ordinal);
        Assert.Contains("namespace MyBank;", File.ReadAllText(Path.Combine(project, "Events.cs")), StringComparison.Ordinal);

        TemplatePackFixture.Run(project, "build", "-c", "Debug");
        Assert.True(Directory.Exists(Path.Combine(pack.Root, "packages", "batpak.sdk", pack.SdkVersion)), "Batpak.Sdk was restored from the test feed into the private packages folder");

        string data = Path.Combine(pack.Root, "bank-data");
        string output = TemplatePackFixture.Run(project, Path.Combine(project, "bin", "Debug", "net10.0", "MyBank.dll"), "--Batpak:DataDirectory=" + data);
        Assert.Equal(["Balance: 125.50 after 3 events", "Hash chain valid: True"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

        // A second run over the same directory appends one more deposit to the same stream.
        output = TemplatePackFixture.Run(project, Path.Combine(project, "bin", "Debug", "net10.0", "MyBank.dll"), "--Batpak:DataDirectory=" + data);
        Assert.StartsWith("Balance: 151.00 after 4 events", output, StringComparison.Ordinal);
        Assert.True(timer.Elapsed < TimeSpan.FromMinutes(2), $"took {timer.Elapsed}");
    }

    [Fact]
    public void BatpakApi_Instantiates_AndBuilds()
    {
        string created = TemplatePackFixture.Run(pack.Apps, "new", "batpak-api", "-o", "ShopApi", "--BatpakVersion", pack.SdkVersion, "--debug:custom-hive", pack.Hive);
        Assert.Contains("was created successfully", created, StringComparison.Ordinal);
        string project = Path.Combine(pack.Apps, "ShopApi");
        Assert.Contains("using ShopApi;", File.ReadAllText(Path.Combine(project, "Program.cs")), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(project, "appsettings.json")));

        TemplatePackFixture.Run(project, "build", "-c", "Debug");

        Assert.True(File.Exists(Path.Combine(project, "bin", "Debug", "net10.0", "ShopApi.dll")));
    }
}
