using System.Collections.Immutable;
using System.Reflection;
using Basic.Reference.Assemblies;
using BenchmarkDotNet.Attributes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using PamtGen.Generator;
using PamtGen.Generator.Analyzers;

namespace PamtGen.Benchmarks;

/// <summary>
/// What PamtGen adds to compiling the TDX sample: compiling it (with the generated code already in, baseline), the
/// generator on it cold and after an unrelated edit, and all the analyzers on it. Each operation makes a fresh
/// compilation, so nothing the compiler caches carries over.
/// </summary>
[MemoryDiagnoser]
public class ToolCostBenchmarks
{
    private static readonly string[] SampleFiles = ["X86_64.cs", "Kernel/TdxKernel.cs", "Kernel/TdxModule.cs", "Dpamt/DpamtDesign.cs", "Dpamt/SeedV4.cs", "Dpamt/FixedDpamt.cs", "Report/DpamtReport.cs"];
    /// <summary>Every analyzer the generator assembly ships (each [DiagnosticAnalyzer] class), so a new rule is in without a list to update.</summary>
    private static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers =
    [
        .. typeof(PteNoneCheckAnalyzer).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && t.GetCustomAttributes(typeof(DiagnosticAnalyzerAttribute), inherit: false).Length > 0)
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!),
    ];

    private ImmutableArray<MetadataReference> _references;
    private SyntaxTree[] _sources = [];
    private SyntaxTree[] _generated = [];
    private GeneratorDriver _warmDriver = null!;
    private CSharpCompilation _edited = null!;

    [GlobalSetup]
    public void Setup()
    {
        string root = PamtGen.Testing.TestRepository.Root;
        _references = [.. Net100.References.All, MetadataReference.CreateFromFile(typeof(PageAllocator).Assembly.Location)];
        _sources = SampleFiles.Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(Path.Combine(root, "samples", "TdxDpamt", f)), path: f)).ToArray();
        var result = CSharpGeneratorDriver.Create(new PamtGenerator()).RunGenerators(Compilation(_sources)).GetRunResult();
        _generated = [.. result.GeneratedTrees];
        _warmDriver = CSharpGeneratorDriver.Create(new PamtGenerator()).RunGenerators(Compilation(_sources));
        var unrelated = _sources[^1];
        _edited = Compilation(_sources).ReplaceSyntaxTree(unrelated, CSharpSyntaxTree.ParseText(unrelated.GetText().ToString() + "\n// edited\n", path: unrelated.FilePath));
    }

    [Benchmark(Baseline = true, Description = "compile, neither (generated code given)")]
    public bool Compile()
    {
        using var stream = new MemoryStream();
        return Compilation([.. _sources, .. _generated]).Emit(stream).Success;
    }

    [Benchmark(Description = "compile with the generator, cold")]
    public bool CompileWithGenerator()
    {
        CSharpGeneratorDriver.Create(new PamtGenerator()).RunGeneratorsAndUpdateCompilation(Compilation(_sources), out var output, out _);
        using var stream = new MemoryStream();
        return output.Emit(stream).Success;
    }

    /// <summary>The analyzer driver alone: an analyzer that registers what PamtGen's do and does nothing (the second baseline).</summary>
    [Benchmark(Description = "compile with an empty analyzer (driver cost)")]
    public int CompileWithEmptyAnalyzer() => EmitAndAnalyze(Compilation([.. _sources, .. _generated]), [new EmptyAnalyzer()]);

    [Benchmark(Description = "compile with all analyzers")]
    public int CompileWithAnalyzers() => EmitAndAnalyze(Compilation([.. _sources, .. _generated]));

    [Benchmark(Description = "compile with generator and analyzers")]
    public int CompileWithBoth()
    {
        CSharpGeneratorDriver.Create(new PamtGenerator()).RunGeneratorsAndUpdateCompilation(Compilation(_sources), out var output, out _);
        return EmitAndAnalyze(output);
    }

    [Benchmark(Description = "generator after an unrelated edit")]
    public int GeneratorIncremental() => _warmDriver.RunGenerators(_edited).GetRunResult().GeneratedTrees.Length;

    /// <summary>As csc does: the analyzers see the compilation's events while it emits, so binding is shared.</summary>
    private static int EmitAndAnalyze(Compilation compilation) => EmitAndAnalyze(compilation, Analyzers);

    private static int EmitAndAnalyze(Compilation compilation, ImmutableArray<DiagnosticAnalyzer> analyzers)
    {
        var withAnalyzers = compilation.WithAnalyzers(analyzers);
        using var stream = new MemoryStream();
        withAnalyzers.Compilation.Emit(stream);
        return withAnalyzers.GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult().Length;
    }

    private CSharpCompilation Compilation(IEnumerable<SyntaxTree> trees) =>
        CSharpCompilation.Create("TdxDpamtSample", trees, _references, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    /// <summary>
    /// Registers what PamtGen's analyzers register (a compilation start, an operation block action on every member body,
    /// a syntax node action on divisions and shifts) and does nothing in them: what the driver costs before any rule runs.
    /// </summary>
#pragma warning disable RS1036, RS1041, RS2008 // a benchmark baseline inside the benchmarks, never shipped
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    private sealed class EmptyAnalyzer : DiagnosticAnalyzer
    {
        private static readonly DiagnosticDescriptor Never = new("PGBENCH", "never", "never", "Benchmark", DiagnosticSeverity.Warning, isEnabledByDefault: true);

        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = [Never];

        public override void Initialize(AnalysisContext context)
        {
            context.EnableConcurrentExecution();
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.RegisterCompilationStartAction(start =>
            {
                start.RegisterOperationBlockAction(_ => { });
                start.RegisterSyntaxNodeAction(_ => { }, Microsoft.CodeAnalysis.CSharp.SyntaxKind.DivideExpression, Microsoft.CodeAnalysis.CSharp.SyntaxKind.RightShiftExpression);
            });
        }
    }
#pragma warning restore RS1036, RS1041, RS2008
}
