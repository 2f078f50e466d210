using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace PamtGen.Generator.Tests.Analyzers;

/// <summary>Runs one analyzer (and its fix) with local references only, on a PTE callback written into a template.</summary>
internal static class AnalyzerHarness
{
    public const string Prefix = """
        using PamtGen;
        using static PamtGen.Pgtable;

        public sealed class State
        {
            public Mm Mm = null!;
            public PageAllocator Allocator = null!;
            public Page? Kept;
            public PgProt Prot;
            // A mask as a kernel port declares one (arm64's PTE_PXN): the rules read it from its initializer.
            public static readonly PgProt Pxn = new(1UL << 53);
            public System.Collections.Generic.HashSet<ulong> Mine = new();
        }

        public static partial class Callbacks
        {
            [PteCallback]
            public static int Callback(PtePointer pte, ulong addr, State data)
            {

        """;

    public const string Suffix = """

            }
        }
        """;

    /// <summary>The template around a callback body (indented by the template).</summary>
    public static string InCallback(string body) => Prefix + Indent(body) + Suffix;

    /// <summary>The template with its classes named apart (CallbacksA, StateA), for a second document of the same project.</summary>
    public static string InCallback(string body, string name) =>
        InCallback(body).Replace("class Callbacks", "class Callbacks" + name, StringComparison.Ordinal)
            .Replace("class State", "class State" + name, StringComparison.Ordinal).Replace("State data", "State" + name + " data", StringComparison.Ordinal);

    /// <summary>Runs the analyzer on <paramref name="source"/> and any <paramref name="others"/> (a geometry and what the generator made of it), expecting the source's markup.</summary>
    public static Task Verify<TAnalyzer>(string source, params (string Name, string Text)[] others)
        where TAnalyzer : DiagnosticAnalyzer, new()
    {
        var test = new CSharpAnalyzerTest<TAnalyzer, DefaultVerifier> { TestCode = source, ReferenceAssemblies = new ReferenceAssemblies("net10.0") };
        foreach (var (name, text) in others)
        {
            test.TestState.Sources.Add((name, text));
        }

        test.TestState.AdditionalReferences.AddRange(GeneratorHarness.References);
        return test.RunAsync();
    }

    public static CSharpCodeFixTest<TAnalyzer, TFix, DefaultVerifier> FixTest<TAnalyzer, TFix>(string source, string fixedSource)
        where TAnalyzer : DiagnosticAnalyzer, new()
        where TFix : CodeFixProvider, new()
    {
        var test = new CSharpCodeFixTest<TAnalyzer, TFix, DefaultVerifier> { TestCode = source, FixedCode = fixedSource, ReferenceAssemblies = new ReferenceAssemblies("net10.0") };
        test.TestState.AdditionalReferences.AddRange(GeneratorHarness.References);
        test.FixedState.AdditionalReferences.AddRange(GeneratorHarness.References);
        return test;
    }

    private static string Indent(string body) =>
        string.Join("\n", body.ReplaceLineEndings("\n").Split('\n').Select(line => line.Length == 0 ? line : "        " + line));
}
