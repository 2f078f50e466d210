using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace PamtGen.Generator.Tests;

/// <summary>The pipeline's caching, observed with trackIncrementalGeneratorSteps.</summary>
public class IncrementalTests
{
    private const string GeometryA = """
        using PamtGen;
        namespace Inc;
        [PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48)]
        [RefcountTable(ElementSize = 4)]
        public static partial class A;
        """;

    private const string GeometryB = """
        using PamtGen;
        namespace Inc;
        [PageTableGeometry(PageShift = 16, PmdShift = 29, PtrsPerPte = 8192, Levels = 3, VirtualAddressBits = 48)]
        public static partial class B;
        """;

    private const string Unrelated = "namespace Inc; public static class Other { public static int F() => 1; }";

    private static readonly IncrementalStepRunReason[] Reused = [IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged];

    [Fact]
    public void An_unrelated_edit_leaves_every_step_cached_or_unchanged()
    {
        var (driver, compilation) = FirstRun();
        var edited = Replace(compilation, 2, Unrelated.Replace("=> 1", "=> 2", StringComparison.Ordinal));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        var outputs = OurSteps(result).Concat(result.TrackedOutputSteps).SelectMany(s => s.Value).SelectMany(step => step.Outputs).ToList();
        Assert.NotEmpty(outputs);
        Assert.All(outputs, output => Assert.Contains(output.Reason, Reused));
    }

    [Fact]
    public void Changing_one_classs_attribute_regenerates_that_class_only()
    {
        var (driver, compilation) = FirstRun();
        var edited = Replace(compilation, 0, GeometryA.Replace("VirtualAddressBits = 48", "VirtualAddressBits = 47", StringComparison.Ordinal));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        var parsed = result.TrackedSteps[PamtGenerator.TrackingNames.Geometry].SelectMany(s => s.Outputs).ToList();
        Assert.Equal(2, parsed.Count);
        Assert.Single(parsed, o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Single(parsed, o => Reused.Contains(o.Reason));
        var modified = (dynamic)parsed.Single(o => o.Reason == IncrementalStepRunReason.Modified).Value;
        Assert.Equal("global::Inc.A", (string)modified.Spec.Type.FullName);

        var emitted = result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).ToList();
        Assert.Single(emitted, o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains("512 8-byte entries, 47-bit", result.GeneratedSources.Single(s => s.HintName.Contains("Inc.A", StringComparison.Ordinal)).SourceText.ToString());
    }

    [Theory]
    [InlineData("[PamtGen.Formats.Arm64Stage1Granule4KEntryFormat]", "arm64 stage 1, 4K granule")]
    [InlineData("[EntryFormat(Name = \"own\", PhysicalAddressBits = 48, TableAddressLow = 12, TableAddressHigh = 47)]\n[EntryLeaf(PageTableLevel.Pte, AddressLow = 12, AddressHigh = 47)]\n[EntryField(\"Extra\", 9)]", "public bool Extra")]
    public void Changing_one_classs_entry_format_regenerates_that_class_only(string format, string expected)
    {
        var (driver, compilation) = FirstRun();
        var edited = Replace(compilation, 0, GeometryA.Replace("[RefcountTable", format + "\n[RefcountTable", StringComparison.Ordinal));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        var parsed = result.TrackedSteps[PamtGenerator.TrackingNames.Geometry].SelectMany(s => s.Outputs).ToList();
        Assert.Single(parsed, o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Single(parsed, o => Reused.Contains(o.Reason));
        var emitted = result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).ToList();
        Assert.Single(emitted, o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains(expected, result.GeneratedSources.Single(s => s.HintName.Contains("Inc.A", StringComparison.Ordinal)).SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Rewriting_a_format_declaration_to_the_same_format_changes_nothing_downstream()
    {
        // The format is read into plain records: the same declaration laid out differently is the same model, so nothing is re-emitted.
        const string Own = "[EntryFormat(PhysicalAddressBits = 48, TableAddressLow = 12, TableAddressHigh = 47)]\n[EntryLeaf(PageTableLevel.Pte, AddressLow = 12, AddressHigh = 47)]\n";
        var compilation = GeneratorHarness.Compile(GeometryA.Replace("[RefcountTable", Own + "[RefcountTable", StringComparison.Ordinal), GeometryB, Unrelated);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new PamtGenerator().AsSourceGenerator()],
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true)).RunGenerators(compilation);
        string relaid = Own.Replace("PhysicalAddressBits = 48, TableAddressLow = 12", "TableAddressLow = 12,   PhysicalAddressBits = 48", StringComparison.Ordinal);
        var result = driver.RunGenerators(Replace(compilation, 0, GeometryA.Replace("[RefcountTable", relaid + "[RefcountTable", StringComparison.Ordinal))).GetRunResult().Results.Single();
        var parsed = result.TrackedSteps[PamtGenerator.TrackingNames.Geometry].SelectMany(s => s.Outputs).ToList();
        Assert.DoesNotContain(parsed, o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs), o => Assert.Contains(o.Reason, Reused));
    }

    [Fact]
    public void Pipeline_models_hold_no_symbol_syntax_node_or_location()
    {
        var (driver, _) = FirstRun();
        var result = driver.GetRunResult().Results.Single();
        var values = OurSteps(result).SelectMany(s => s.Value).SelectMany(step => step.Outputs).Select(o => o.Value).ToList();
        Assert.NotEmpty(values);
        foreach (var value in values)
        {
            AssertPlainData(value, new HashSet<object>(ReferenceEqualityComparer.Instance), path: value.GetType().Name);
        }
    }

    /// <summary>The steps the generator names (Roslyn's own steps inside ForAttributeWithMetadataName hold syntax by design).</summary>
    private static IEnumerable<KeyValuePair<string, System.Collections.Immutable.ImmutableArray<IncrementalGeneratorRunStep>>> OurSteps(GeneratorRunResult result) =>
        result.TrackedSteps.Where(s => s.Key is PamtGenerator.TrackingNames.Geometry or PamtGenerator.TrackingNames.OrphanRefcount or PamtGenerator.TrackingNames.Callback);

    private static (GeneratorDriver Driver, Compilation Compilation) FirstRun()
    {
        var compilation = GeneratorHarness.Compile(GeometryA, GeometryB, Unrelated);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new PamtGenerator().AsSourceGenerator()],
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        return (driver.RunGenerators(compilation), compilation);
    }

    private static Compilation Replace(Compilation compilation, int index, string text)
    {
        var old = compilation.SyntaxTrees.ElementAt(index);
        return compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(text, (CSharpParseOptions)old.Options, old.FilePath));
    }

    /// <summary>Walks the object graph and fails on anything that would pin a compilation in the cache.</summary>
    private static void AssertPlainData(object? value, HashSet<object> seen, string path)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || !seen.Add(value))
        {
            return;
        }

        Assert.False(value is ISymbol or SyntaxNode or Location or SyntaxTree or Compilation or SemanticModel, $"{path} holds a {value.GetType().Name}");
        if (value is IEnumerable items)
        {
            int i = 0;
            foreach (var item in items)
            {
                AssertPlainData(item, seen, $"{path}[{i++}]");
            }
        }

        if (value is DiagnosticDescriptor)
        {
            return; // static singletons, compared by reference
        }

        foreach (var field in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            AssertPlainData(field.GetValue(value), seen, $"{path}.{field.Name}");
        }
    }
}
