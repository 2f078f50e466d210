using System.Collections.Immutable;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace PamtGen.Generator.Tests;

/// <summary>Runs <see cref="PamtGenerator"/> with no network: reference assemblies come from Basic.Reference.Assemblies.Net100.</summary>
internal static class GeneratorHarness
{
    public static readonly ImmutableArray<MetadataReference> References =
    [
        .. Net100.References.All,
        MetadataReference.CreateFromFile(typeof(PageTableGeometryAttribute).Assembly.Location),
    ];

    /// <summary>A Roslyn SDK generator test whose references are all local.</summary>
    public static CSharpSourceGeneratorTest<PamtGenerator, DefaultVerifier> NewTest(string source)
    {
        var test = new CSharpSourceGeneratorTest<PamtGenerator, DefaultVerifier>
        {
            ReferenceAssemblies = new ReferenceAssemblies("net10.0"),
            TestState = { Sources = { source } },
        };
        test.TestState.AdditionalReferences.AddRange(References);
        return test;
    }

    public static CSharpCompilation Compile(params string[] sources) =>
        CSharpCompilation.Create(
            "Consumer",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, new CSharpParseOptions(LanguageVersion.Latest), path: $"Source{i}.cs")),
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));

    /// <summary>Runs the generator directly and returns what it generated and reported.</summary>
    public static GeneratorDriverRunResult Run(params string[] sources) =>
        CSharpGeneratorDriver.Create(new PamtGenerator()).RunGenerators(Compile(sources)).GetRunResult();
}
