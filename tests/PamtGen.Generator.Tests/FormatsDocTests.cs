using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using PamtGen.Testing;

namespace PamtGen.Generator.Tests;

/// <summary>
/// docs/FORMATS.md is code: every C# block in it compiles with the generator, without a diagnostic, and its RISC-V Sv39
/// geometry builds entries bit for bit as the RISC-V privileged specification lays them out.
/// </summary>
public partial class FormatsDocTests
{
    private static readonly string Document = File.ReadAllText(Path.Combine(TestRepository.Root, "docs", "FORMATS.md"));

    [Fact]
    public void Every_block_compiles_with_the_generator_and_no_diagnostic()
    {
        var blocks = Blocks().ToList();
        Assert.True(blocks.Count >= 2, "the document lost its code blocks");
        foreach (string block in blocks)
        {
            var (compilation, diagnostics) = Generate(block);
            Assert.Empty(diagnostics);
            Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
        }
    }

    [Fact]
    public void The_sv39_declaration_lays_out_entries_as_the_riscv_specification()
    {
        var entry = Load(Blocks().Single(b => b.Contains("[RiscVSv39EntryFormat]", StringComparison.Ordinal))).GetType("Sv39+Entry")!;
        ulong Value(object e) => (ulong)entry.GetProperty("Value")!.GetValue(e)!;
        object Make(string method, params object[] args) => entry.GetMethod(method)!.Invoke(null, args)!;
        object With(object e, string field) => entry.GetMethod("With" + field)!.Invoke(e, [true])!;
        bool Is(object e, string test, PageTableLevel level) => (bool)entry.GetMethod(test)!.Invoke(e, [level])!;

        // A 4 KiB leaf: V, R, W, A, D and PPN = pa >> 12 at [53:10].
        var page = With(With(With(With(Make("Page", 0x8020_3000UL), "Read"), "Write"), "Accessed"), "Dirty");
        Assert.Equal(((0x8020_3000UL >> 12) << 10) | 0xc7, Value(page));
        Assert.True(Is(page, "IsLeaf", PageTableLevel.Pte));

        // A pointer to the next table: V only, none of R/W/X.
        var table = Make("Table", 0x8040_0000UL);
        Assert.Equal(((0x8040_0000UL >> 12) << 10) | 0x1, Value(table));
        Assert.True(Is(table, "IsTable", PageTableLevel.Pmd));
        Assert.False(Is(table, "IsLeaf", PageTableLevel.Pmd));

        // A megapage at level 1 and a gigapage at level 2: leaves because X (or R) is set, PPN[0] (and PPN[1]) zero.
        var mega = With(Make("Block", PageTableLevel.Pmd, 0x8060_0000UL), "Execute");
        Assert.Equal(((0x8060_0000UL >> 12) << 10) | 0x9, Value(mega));
        Assert.True(Is(mega, "IsLeaf", PageTableLevel.Pmd));
        Assert.Equal(0x8060_0000UL, (ulong)entry.GetMethod("OutputAddress")!.Invoke(mega, [PageTableLevel.Pmd])!);
        var giga = With(Make("Block", PageTableLevel.Pud, 0x4000_0000UL), "Read");
        Assert.Equal(((0x4000_0000UL >> 12) << 10) | 0x3, Value(giga));
        Assert.True(Is(giga, "IsLeaf", PageTableLevel.Pud));
        Assert.False(Is(Make("Block", PageTableLevel.Pud, 0x4000_0000UL), "IsLeaf", PageTableLevel.Pud)); // no R/W/X: a table pointer
    }

    private static IEnumerable<string> Blocks() =>
        CodeBlock().Matches(Document.ReplaceLineEndings("\n")).Select(m => m.Groups["code"].Value);

    private static (Compilation Compilation, System.Collections.Immutable.ImmutableArray<Diagnostic> Diagnostics) Generate(string source)
    {
        Microsoft.CodeAnalysis.CSharp.CSharpGeneratorDriver.Create(new PamtGenerator())
            .RunGeneratorsAndUpdateCompilation(GeneratorHarness.Compile(source), out var output, out var diagnostics);
        return (output, diagnostics);
    }

    /// <summary>The block with what the generator adds, compiled and loaded, for the tests to call its generated members.</summary>
    private static Assembly Load(string source)
    {
        var (compilation, diagnostics) = Generate(source);
        Assert.Empty(diagnostics);
        using var image = new MemoryStream();
        var emit = compilation.Emit(image);
        Assert.True(emit.Success, string.Join('\n', emit.Diagnostics));
        return Assembly.Load(image.ToArray());
    }

    [GeneratedRegex(@"```csharp\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CodeBlock();
}
