using System.Reflection;

namespace PamtGen.Testing;

/// <summary>
/// Where the repository is, as the build baked it into every test assembly (tests/Directory.Build.targets): the one way
/// a test finds the sources, docs, samples and memory maps it reads, wherever its output runs from.
/// </summary>
public static class TestRepository
{
    public static string Root { get; } =
        Assembly.GetExecutingAssembly().GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;
}
