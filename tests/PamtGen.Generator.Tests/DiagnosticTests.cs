using PamtGen.Testing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;

namespace PamtGen.Generator.Tests;

/// <summary>
/// One test per PG1xxx diagnostic, each with its exact location. The Roslyn SDK verifier checks the whole
/// compilation: with an error nothing is generated and no other diagnostic (no CS cascade, no CS8785) appears.
/// </summary>
public class DiagnosticTests
{
    private const string Valid = "PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48";

    /// <summary>
    /// Every help link, of every descriptor and of every rule the analyzers declare, is built from the one constant on the
    /// project's address set in Directory.Build.props (the package's project URL), and names a page that exists under
    /// docs/diagnostics/ (which the package ships too). Offline: nothing is fetched.
    /// </summary>
    [Fact]
    public void Every_help_link_comes_from_the_one_constant_and_names_a_page_that_exists()
    {
        var props = System.Xml.Linq.XDocument.Load(Path.Combine(TestRepository.Root, "Directory.Build.props"));
        string projectUrl = props.Descendants("PackageProjectUrl").Single().Value;
        Assert.StartsWith("https://", projectUrl, StringComparison.Ordinal);
        Assert.Equal(projectUrl + "/blob/main/docs/diagnostics/", DiagnosticDescriptors.HelpLinkBase);
        var descriptors = typeof(DiagnosticDescriptors)
            .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .Concat(Analyzers.RepositorySources.Analyzers.SelectMany(a => a.SupportedDiagnostics))
            .ToList();
        Assert.True(descriptors.Count >= 30);
        foreach (var descriptor in descriptors)
        {
            Assert.Equal(DiagnosticDescriptors.HelpLinkBase + descriptor.Id + ".md", descriptor.HelpLinkUri);
            Assert.True(File.Exists(Path.Combine(TestRepository.Root, "docs", "diagnostics", descriptor.Id + ".md")), $"no page for {descriptor.Id}");
        }

        // And every page is of a rule: no page left behind by a removed id.
        var ids = descriptors.Select(d => d.Id).ToHashSet();
        Assert.All(Directory.GetFiles(Path.Combine(TestRepository.Root, "docs", "diagnostics"), "*.md"), page => Assert.Contains(Path.GetFileNameWithoutExtension(page), ids));
    }

    /// <summary>
    /// A declaration error is not configurable (no #pragma or .editorconfig hides it: nothing is generated for the
    /// declaration, so no build could succeed); the analyzers' rules are. The package tests build it for real.
    /// </summary>
    [Fact]
    public void Declaration_errors_are_not_configurable_and_analyzer_rules_are()
    {
        var descriptors = typeof(DiagnosticDescriptors)
            .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .ToList();
        Assert.Equal(24, descriptors.Count(d => d.Id.StartsWith("PG1", StringComparison.Ordinal)));
        foreach (var descriptor in descriptors)
        {
            bool declarationError = descriptor.Id.StartsWith("PG1", StringComparison.Ordinal);
            Assert.Equal(declarationError, descriptor.CustomTags.Contains(WellKnownDiagnosticTags.NotConfigurable));
            Assert.Equal(declarationError, descriptor.DefaultSeverity == DiagnosticSeverity.Error);
        }
    }

    [Theory]
    [InlineData("public partial class {|#0:Geo|};")]
    [InlineData("public static class {|#0:Geo|};")]
    [InlineData("public sealed partial class {|#0:Geo|};")]
    public Task PG1001_class_not_static_partial(string declaration) =>
        Verify($"[PageTableGeometry({Valid})]\n{declaration}", Expect("PG1001", 0, "Geo"));

    [Fact]
    public Task PG1002_containing_type_not_partial() =>
        Verify($$"""
            public class {|#0:Outer|}
            {
                [PageTableGeometry({{Valid}})]
                public static partial class Geo;
            }
            """, Expect("PG1002", 0, "Outer", "geometry class"));

    [Theory]
    [InlineData(9)]
    [InlineData(21)]
    [InlineData(-1)]
    public Task PG1003_page_shift_out_of_range(int pageShift) =>
        Verify(
            $"[PageTableGeometry({{|#0:PageShift = {pageShift}|}}, PmdShift = 21, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48)]\npublic static partial class Geo;",
            Expect("PG1003", 0, pageShift.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public Task PG1004_ptrs_per_pte_not_page_size_over_entry_size() =>
        Verify(
            "[PageTableGeometry(PageShift = 12, PmdShift = 21, {|#0:PtrsPerPte = 1024|}, Levels = 4, VirtualAddressBits = 48)]\npublic static partial class Geo;",
            Expect("PG1004", 0, "1024", "4096", "512", "8"));

    [Fact]
    public Task PG1005_pmd_shift_not_page_shift_plus_log2_ptrs() =>
        Verify(
            "[PageTableGeometry(PageShift = 12, {|#0:PmdShift = 22|}, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48)]\npublic static partial class Geo;",
            Expect("PG1005", 0, "22", "12", "512", "21"));

    [Fact]
    public Task PG1004_and_PG1005_are_reported_together() =>
        Verify(
            "[PageTableGeometry(PageShift = 12, {|#1:PmdShift = 20|}, {|#0:PtrsPerPte = 256|}, Levels = 4, VirtualAddressBits = 48)]\npublic static partial class Geo;",
            Expect("PG1004", 0, "256", "4096", "512", "8"),
            Expect("PG1005", 1, "20", "12", "512", "21"));

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    public Task PG1006_levels_out_of_range(int levels) =>
        Verify(
            $"[PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 512, {{|#0:Levels = {levels}|}}, VirtualAddressBits = 48)]\npublic static partial class Geo;",
            Expect("PG1006", 0, levels.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    [Theory]
    [InlineData(4, 49, "4 levels of 9 bits over 12-bit pages translate only 48 bits; use more levels")]
    [InlineData(4, 39, "the top of 4 levels starts at bit 39 and would resolve no bit; use fewer levels")]
    [InlineData(5, 65, "an address has 64 bits")]
    public Task PG1007_virtual_address_bits_not_covered(int levels, int vaBits, string why) =>
        Verify(
            $"[PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = {levels}, {{|#0:VirtualAddressBits = {vaBits}|}})]\npublic static partial class Geo;",
            Expect("PG1007", 0, vaBits.ToString(System.Globalization.CultureInfo.InvariantCulture), why));

    [Fact]
    public Task PG1008_entry_size_not_4_or_8() =>
        Verify(
            $"[PageTableGeometry({Valid}, {{|#0:EntrySize = 6|}})]\npublic static partial class Geo;",
            Expect("PG1008", 0, "6"));

    [Theory]
    [InlineData(3)]
    [InlineData(0)]
    [InlineData(8192)]
    public Task PG1009_element_size_not_a_power_of_two_or_over_a_page(int size) =>
        Verify(
            $"[PageTableGeometry({Valid})]\n[RefcountTable({{|#0:ElementSize = {size}|}})]\npublic static partial class Geo;",
            Expect("PG1009", 0, size.ToString(System.Globalization.CultureInfo.InvariantCulture), "4096"));

    [Fact]
    public Task PG1010_refcount_table_without_geometry() =>
        Verify("[{|#0:RefcountTable(ElementSize = 4)|}]\npublic static partial class Geo;", Expect("PG1010", 0, "Geo"));

    [Fact]
    public Task PG1011_missing_argument_is_reported_on_the_attribute() =>
        Verify(
            "[{|#0:PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 4)|}]\npublic static partial class Geo;",
            Expect("PG1011", 0, "PageTableGeometry", "VirtualAddressBits", "is required: set it to a constant int"));

    [Fact]
    public Task PG1011_missing_element_size_is_reported_on_its_attribute() =>
        Verify(
            $"[PageTableGeometry({Valid})]\n[{{|#0:RefcountTable|}}]\npublic static partial class Geo;",
            Expect("PG1011", 0, "RefcountTable", "ElementSize", "is required: set it to a constant int"));

    [Fact]
    public Task PG1011_non_constant_argument_is_reported_on_the_argument_beside_the_compilers_error() =>
        Verify(
            """
            public static class Config { public static int Shift = 12; }

            [PageTableGeometry({|#0:PageShift = {|#1:Config.Shift|}|}, PmdShift = 21, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48)]
            public static partial class Geo;
            """,
            Expect("PG1011", 0, "PageTableGeometry", "PageShift", "must be a constant int"),
            DiagnosticResult.CompilerError("CS0182").WithLocation(1));

    [Fact]
    public async Task Nested_generic_record_and_global_namespace_declarations_generate_code_that_compiles_cleanly()
    {
        string source = $$"""
            using PamtGen;

            [PageTableGeometry({{Valid}})]
            public static partial class GlobalGeo;

            namespace Deep.Nested
            {
                public partial class Outer<T> where T : class
                {
                    public partial record struct Middle
                    {
                        [PageTableGeometry(PageShift = 16, PmdShift = 29, PtrsPerPte = 8192, Levels = 3, VirtualAddressBits = 52)]
                        [RefcountTable(ElementSize = 8)]
                        internal static partial class Inner;
                    }
                }
            }
            """;
        var compilation = GeneratorHarness.Compile(source);
        Microsoft.CodeAnalysis.CSharp.CSharpGeneratorDriver.Create(new PamtGenerator())
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        Assert.Empty(generatorDiagnostics);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
        Assert.Equal(2, output.SyntaxTrees.Count() - 1);
        await Task.CompletedTask;
    }

    private static DiagnosticResult Expect(string id, int location, params string[] arguments) =>
        new DiagnosticResult(id, DiagnosticSeverity.Error).WithLocation(location).WithArguments(arguments);

    private static Task Verify(string declarations, params DiagnosticResult[] expected)
    {
        var test = GeneratorHarness.NewTest("using PamtGen;\n\n" + declarations);
        test.TestState.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync(); // no GeneratedSources: nothing may be generated
    }
}
