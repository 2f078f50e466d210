using Xunit.Abstractions;
using PamtGen.Testing;

namespace PamtGen.Generator.Tests.Analyzers;

/// <summary>
/// No AD0001, ever: every analyzer over every sample and test source of the repository, and over 1 000 randomly
/// truncated copies of them (code as it looks while it is typed), and over token-level mutations of the samples
/// (2 000 in CI, PAMTGEN_FUZZ_CASES for the long run), must not throw.
/// </summary>
[Trait(Category.Name, Category.Slow)]
public class AnalyzerRobustnessTests(ITestOutputHelper output)
{
    private const int Truncations = 1_000;

    [Fact]
    public async Task Analyzers_never_throw_on_the_repository_or_on_half_typed_copies_of_it()
    {
        var sources = RepositorySources.Files("samples").Concat(RepositorySources.Files("tests"))
            .Select(f => (Path: Path.GetRelativePath(TestRepository.Root, f), Text: File.ReadAllText(f)))
            .ToList();
        Assert.True(sources.Count > 40, $"only {sources.Count} sources found under {TestRepository.Root}");

        // Whole files, each in a compilation of its own (what they reference that is not here is an error, not a crash).
        foreach (var chunk in sources.Chunk(10))
        {
            var (_, exceptions, _) = await RepositorySources.Analyze(chunk.Select(s => RepositorySources.Parse(s.Text, s.Path)));
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
        var (analyzed, setAside) = await AnalyzeWithoutExceptions(cuts);

        output.WriteLine($"{sources.Count} whole sources and {analyzed} truncated copies analyzed by all six analyzers: no exception; {setAside} crash the C# compiler itself");
        Assert.Equal(Truncations, analyzed + setAside);
    }

    /// <summary>What a mutated token may become: the tokens the analyzers look at, and ones that break the shape.</summary>
    private static readonly string[] Replacements =
    [
        "null", "!", "return", "if", "else", "{", "}", "(", ")", ";", ",", "ref", "out", "var", "default", "0", "-1",
        "PteNone", "PtepGet", "SetPteAt", "PteClear", "FreePage", "AllocPage", "PtePage", "lock", "try", "finally",
        "is", "not", "&&", "||", "==", "=", "static", "partial", "[PteCallback]", "[TakesPageOwnership]", "int", "void",
        "FlushTlbKernelRange", "TlbGather", "Add", "Flush", "InvalidateAddress", "?.", "WithMemAttr", "Stage2.Entry", "PtepGet(pte)",
    ];

    [Fact]
    public async Task Analyzers_never_throw_on_token_level_mutations_of_the_samples()
    {
        var samples = RepositorySources.Files("samples")
            .Select(f => (Path: Path.GetRelativePath(TestRepository.Root, f), Tree: RepositorySources.Parse(File.ReadAllText(f), f)))
            .ToList();
        Assert.True(samples.Count > 5, $"only {samples.Count} sample sources found under {TestRepository.Root}");

        var random = new Random(9_000_001);
        var mutants = Enumerable.Range(0, FuzzSize.Cases).Select(_ =>
        {
            var (path, tree) = samples[random.Next(samples.Count)];
            var tokens = tree.GetRoot().DescendantTokens().ToList();
            var edits = new List<(int At, int Length, string Text)>();
            var described = new List<string>();
            for (int count = random.Next(1, 4); count > 0; count--)
            {
                var token = tokens[random.Next(tokens.Count)];
                var (edit, what) = random.Next(4) switch
                {
                    0 => ((token.Span.Start, token.Span.Length, ""), "delete"),
                    1 => ((token.Span.Start, 0, token.Text + " "), "duplicate"),
                    2 => ((token.Span.Start, token.Span.Length, tokens[random.Next(tokens.Count)].Text), "swap"),
                    _ => ((token.Span.Start, token.Span.Length, Replacements[random.Next(Replacements.Length)]), "replace"),
                };
                if (edits.All(e => e.At + e.Length <= edit.Item1 || edit.Item1 + edit.Item2 <= e.At))
                {
                    edits.Add(edit);
                    described.Add($"{what}@{edit.Item1}");
                }
            }

            string text = tree.GetText().ToString();
            foreach (var (at, length, replacement) in edits.OrderByDescending(e => e.At))
            {
                text = text[..at] + replacement + text[(at + length)..];
            }

            return (Path: $"{path}[{string.Join(" ", described)}]", Text: text);
        }).ToList();

        var (analyzed, setAside) = await AnalyzeWithoutExceptions(mutants);

        output.WriteLine($"{analyzed} token-level mutations of {samples.Count} sample sources analyzed by all six analyzers: no exception; {setAside} crash the C# compiler itself");
        Assert.Equal(FuzzSize.Cases, analyzed + setAside);
    }

    /// <summary>
    /// The one source the 100 000-case long run set aside: FixedDpamt.cs [replace@2905 replace@2348 swap@3686], minimized
    /// (ddmin over lines, then over tokens) to a lambda passed by ref. Roslyn 4.14, the compiler the analyzers are built
    /// against and tested with, throws NullReferenceException in NullableWalker.IsNullabilityMismatch on it (as it does on
    /// <c>static class P { public static void Clear(ref int x) { } }</c> with <c>P.Clear(pte=></c>, without our API); the .NET 10.0.401
    /// SDK's compiler reports CS1733 instead. The harness must set it aside as the compiler's crash, not ours, and still
    /// analyze the rest of its compilation. If a Roslyn update stops the crash, the first assertion says so.
    /// </summary>
    [Fact]
    public async Task A_source_that_crashes_the_compiler_is_set_aside_and_the_rest_analyzed()
    {
        const string Crashing = "P.Clear(ref pte=>\nstatic class P { public static void Clear(ref int x) { } }";
        Assert.True(CrashesTheCompiler(Crashing));

        var fine = (Path: "Fine.cs", Text: "using PamtGen;\nstatic class Fine { static void M(PageAllocator a) { a.FreePage(a.AllocPage(Gfp.Zero)!); } }");
        var (analyzed, setAside) = await AnalyzeWithoutExceptions([("Crashing.cs", Crashing), fine]);
        Assert.Equal((1, 1), (analyzed, setAside));
    }

    /// <summary>
    /// Analyzes the sources 25 to a compilation; fails naming the sources of a compilation where an analyzer threw.
    /// A crash of the C# compiler itself (none of our code on the stack; it would crash csc the same way) is not an
    /// analyzer failure: the source that crashes the compiler alone is set aside, named in the output, and the rest
    /// of its compilation is analyzed again.
    /// </summary>
    private async Task<(int Analyzed, int SetAside)> AnalyzeWithoutExceptions(List<(string Path, string Text)> sources)
    {
        int analyzed = 0, setAside = 0;
        foreach (var chunk in sources.Chunk(25))
        {
            var rest = chunk.ToList();
            List<Exception> exceptions;
            try
            {
                (_, exceptions, _) = await RepositorySources.Analyze(rest.Select(c => RepositorySources.Parse(c.Text, c.Path)));
            }
            catch (Exception crash) when (IsCompilerCrash(crash))
            {
                var crashing = rest.Where(c => CrashesTheCompiler(c.Text)).ToList();
                Assert.NotEmpty(crashing); // else the crash needs our code after all
                foreach (var c in crashing)
                {
                    output.WriteLine($"set aside, the C# compiler itself throws on it ({crash.GetType().Name} in {crash.TargetSite?.DeclaringType?.Name}): {c.Path}");
                }

                rest = rest.Except(crashing).ToList();
                (_, exceptions, _) = await RepositorySources.Analyze(rest.Select(c => RepositorySources.Parse(c.Text, c.Path)));
                setAside += crashing.Count;
            }

            Assert.True(exceptions.Count == 0, $"{string.Join(", ", rest.Select(c => c.Path))}: {exceptions.FirstOrDefault()}");
            analyzed += rest.Count;
        }

        return (analyzed, setAside);
    }

    private static bool IsCompilerCrash(Exception crash) =>
        new System.Diagnostics.StackTrace(crash).GetFrames().All(f => f.GetMethod()?.DeclaringType?.Assembly != typeof(PamtGenerator).Assembly);

    private static bool CrashesTheCompiler(string text)
    {
        try
        {
            _ = RepositorySources.Compile([RepositorySources.Parse(text, "alone.cs")]).GetDiagnostics();
            return false;
        }
        catch (Exception e) when (IsCompilerCrash(e))
        {
            return true;
        }
    }
}
