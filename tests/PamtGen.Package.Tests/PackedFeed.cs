namespace PamtGen.Package.Tests;

/// <summary>PamtGen packed once per run into a local feed, and consumers made from it outside the repository.</summary>
public sealed class PackedFeed : IDisposable
{
    public PackedFeed()
    {
        Root = Directory.CreateTempSubdirectory("pamtgen-package").FullName;
        Dotnet = new Dotnet(Path.Combine(Root, "packages"));
        Feed = Directory.CreateDirectory(Path.Combine(Root, "feed")).FullName;
        string project = Path.Combine(Dotnet.RepositoryRoot, "runtime", "PamtGen.Runtime", "PamtGen.Runtime.csproj");
        var (code, output) = Dotnet.Run(Root, "pack", project, "-c", Dotnet.Configuration, "--no-build", "-o", Feed);
        Assert.True(code == 0, output);
    }

    public string Root { get; }

    public Dotnet Dotnet { get; }

    public string Feed { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true);

    /// <summary>A project outside the repository that references the package from the local feed (the machine's sources kept).</summary>
    public string Consumer(string name, string program)
    {
        string dir = Directory.CreateDirectory(Path.Combine(Root, name)).FullName;
        string version = typeof(PackedFeed).Assembly.GetName().Version is { } v ? $"{v.Major}.{v.Minor}.{v.Build}" : "0.1.0";
        File.WriteAllText(Path.Combine(dir, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <RestoreIgnoreFailedSources>true</RestoreIgnoreFailedSources>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="PamtGen" Version="{version}" />
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
