using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using PamtGen.Generator.Analyzers;
using PamtGen.Testing;

namespace PamtGen.Generator.Tests.Analyzers;

/// <summary>The repository's own sources, and running every PamtGen analyzer over compilations of them.</summary>
internal static class RepositorySources
{
    /// <summary>Every analyzer the generator assembly ships (each [DiagnosticAnalyzer] class), so a new rule is in without a list to update.</summary>
    public static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers =
    [
        .. typeof(PteNoneCheckAnalyzer).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && t.GetCustomAttributes(typeof(DiagnosticAnalyzerAttribute), inherit: false).Length > 0)
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!),
    ];


    /// <summary>The .cs files under <paramref name="folder"/>, build output and snapshots left out.</summary>
    public static IEnumerable<string> Files(string folder) =>
        Directory.EnumerateFiles(Path.Combine(TestRepository.Root, folder), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}Snapshots{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    /// <summary>A library of <paramref name="trees"/> against the test references, nullable enabled as in the samples.</summary>
    public static CSharpCompilation Compile(IEnumerable<SyntaxTree> trees, bool withRuntime = true) =>
        CSharpCompilation.Create(
            "Analyzed",
            trees,
            withRuntime ? GeneratorHarness.References : Basic.Reference.Assemblies.Net100.References.All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    /// <summary>
    /// Runs the generator, then every analyzer; returns their diagnostics (suppressed ones included), any analyzer
    /// exception, and the compilation with the generated sources (for the compiler's own diagnostics, or to emit it).
    /// </summary>
    public static async Task<(ImmutableArray<Diagnostic> Diagnostics, List<Exception> Exceptions, Compilation Generated)> Analyze(IEnumerable<SyntaxTree> trees, bool withRuntime = true)
    {
        CSharpGeneratorDriver.Create(new PamtGenerator()).RunGeneratorsAndUpdateCompilation(Compile(trees, withRuntime), out var generated, out _);
        var exceptions = new List<Exception>();
        var options = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions([]),
            (exception, _, _) => { lock (exceptions) { exceptions.Add(exception); } },
            concurrentAnalysis: true,
            logAnalyzerExecutionTime: false,
            reportSuppressedDiagnostics: true);
        var diagnostics = await generated.WithAnalyzers(Analyzers, options).GetAnalyzerDiagnosticsAsync();
        return (diagnostics, exceptions, generated);
    }

    /// <summary>The global usings the SDK adds to a console project with ImplicitUsings.</summary>
    public const string ImplicitUsings = "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;";

    public static SyntaxTree Parse(string text, string path) =>
        CSharpSyntaxTree.ParseText(Microsoft.CodeAnalysis.Text.SourceText.From(text, System.Text.Encoding.UTF8), new CSharpParseOptions(LanguageVersion.Latest), path); // with its encoding, so it can be emitted with a PDB
}
