using System.Reflection;
using PamtGen.Testing;

namespace PamtGen.Package.Tests;

/// <summary>What the build baked in besides the repository's place (<see cref="TestRepository"/>): the configuration, and where its restore put csharp-ls.</summary>
public static class Repository
{
    public static string Configuration =>
        typeof(Repository).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";

    /// <summary>
    /// The NuGet global packages folder of this build's own restore, which downloaded csharp-ls (a PackageDownload
    /// of this project) and the snapshot recipe's packages (its PackageReferences): a local feed the language-server
    /// test restores the tool from and the README test the recipe's project, so they need no network.
    /// </summary>
    public static string RestoredPackages => Metadata("RestoredPackages");

    /// <summary>The csharp-ls version this project downloads; the tool manifest must name the same.</summary>
    public static string CsharpLsVersion => Metadata("CsharpLsVersion");

    private static string Metadata(string key) =>
        typeof(Repository).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}

/// <summary>Runs the dotnet CLI as a user would, in an isolated home (<see cref="IsolatedDotnet"/>), with output and errors together.</summary>
internal static class DotnetRuns
{
    public static (int Code, string Output) Run(this IsolatedDotnet dotnet, string workingDirectory, params string[] args)
    {
        var (code, stdout, stderr) = dotnet.Run(workingDirectory, TimeSpan.FromMinutes(5), args);
        return (code, stdout + stderr);
    }
}
