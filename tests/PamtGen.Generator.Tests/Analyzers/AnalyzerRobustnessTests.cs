using Xunit.Abstractions;

namespace PamtGen.Generator.Tests.Analyzers;

/// <summary>
/// No AD0001, ever: every analyzer over every sample and test source of the repository, and over 1 000 randomly
/// truncated copies of them (code as it looks while it is typed), must not throw.
/// </summary>
public class AnalyzerRobustnessTests(ITestOutputHelper output)
{
    private const int Truncations = 1_000;

    [Fact]
    public async Task Analyzers_never_throw_on_the_repository_or_on_half_typed_copies_of_it()
    {
        var sources = RepositorySources.Files("samples").Concat(RepositorySources.Files("tests"))
            .Select(f => (Path: Path.GetRelativePath(RepositorySources.Root, f), Text: File.ReadAllText(f)))
            .ToList();
        Assert.True(sources.Count > 40, $"only {sources.Count} sources found under {RepositorySources.Root}");

        // Whole files, each in a compilation of its own (what they reference that is not here is an error, not a crash).
        foreach (var chunk in sources.Chunk(10))
        {
            var (_, exceptions) = await RepositorySources.Analyze(chunk.Select(s => RepositorySources.Parse(s.Text, s.Path)));
            Assert.True(exceptions.Count == 0, $"{string.Join(", ", chunk.Select(s => s.Path))}: {exceptions.FirstOrDefault()}");
        }

        // Truncated copies: cut anywhere, 25 to a compilation.
        var random = new Random(20251125);
        var cuts = Enumerable.Range(0, Truncations).Select(i =>
        {
            var (path, text) = sources[random.Next(sources.Count)];
            int cut = random.Next(text.Length + 1);
            return (Path: $"{path}@{cut}", Text: text[..cut]);
        }).ToList();
        int analyzed = 0;
        foreach (var chunk in cuts.Chunk(25))
        {
            var (_, exceptions) = await RepositorySources.Analyze(chunk.Select(c => RepositorySources.Parse(c.Text, c.Path)));
            Assert.True(exceptions.Count == 0, $"{string.Join(", ", chunk.Select(c => c.Path))}: {exceptions.FirstOrDefault()}");
            analyzed += chunk.Length;
        }

        output.WriteLine($"{sources.Count} whole sources and {analyzed} truncated copies analyzed by all five analyzers: no exception");
        Assert.Equal(Truncations, analyzed);
    }
}
