using PamtGen.Testing;

namespace PamtGen.Package.Tests;

/// <summary>PamtGen packed once per run into a local feed, and consumers made from it outside the repository.</summary>
public sealed class PackedFeed : IDisposable
{
    private readonly IsolatedDotnet _dotnet = new("pamtgen-package");

    public PackedFeed()
    {
        Feed = Directory.CreateDirectory(Path.Combine(Root, "feed")).FullName;
        string project = Path.Combine(TestRepository.Root, "runtime", "PamtGen.Runtime", "PamtGen.Runtime.csproj");
        var (code, output) = Dotnet.Run(Root, "pack", project, "-c", Repository.Configuration, "--no-build", "-o", Feed);
        Assert.True(code == 0, output);
    }

    /// <summary>The fixture's own temporary folder; the dotnet processes' homes and caches are below it.</summary>
    public string Root => _dotnet.Root;

    internal IsolatedDotnet Dotnet => _dotnet;

    public string Feed { get; }

    public string PackageVersion =>
        typeof(PackedFeed).Assembly.GetName().Version is { } v ? $"{v.Major}.{v.Minor}.{v.Build}" : "0.1.0";

    public void Dispose() => _dotnet.Dispose();

    /// <summary>A project outside the repository that references the package from the local feed (the machine's sources kept).</summary>
    public string Consumer(string name, string program, string outputType = "Exe", string? under = null)
    {
        string dir = Directory.CreateDirectory(Path.Combine(under ?? Root, name)).FullName;
        File.WriteAllText(Path.Combine(dir, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>{outputType}</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <RestoreIgnoreFailedSources>true</RestoreIgnoreFailedSources>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="PamtGen" Version="{PackageVersion}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(dir, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="pamtgen-local" value="{Feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(dir, "Program.cs"), program);
        return dir;
    }
}

[CollectionDefinition(nameof(PackedFeed))]
public sealed class PackedFeedCollection : ICollectionFixture<PackedFeed>;
