using PamtGen.CodeFixes;
using PamtGen.Generator.Analyzers;

namespace PamtGen.Generator.Tests.Analyzers;

/// <summary>PG0004: a size or count with a floor division by the geometry, where the generated class rounds.</summary>
public class PG0004Tests
{
    internal const string Geometry = """
        using PamtGen;

        [PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48)]
        [RefcountTable(ElementSize = 4)]
        public static partial class G
        {
            // What the generator adds, written out: the analyzer test runs without the generator.
            public const int PtrsPerPte = 512;
            public const int RefcountSize = 4;
            public const int PfnsPerRefcountShift = 9;
            public const int PfnsPerRefcountPageShift = 19;
            public const int PageShift = 12, PmdShift = 21;
            public const ulong PageSize = 4096;
            public static ulong RefcountAreaSize(ulong maxPfn) => (maxPfn + (1UL << 19) - 1) >> 19 << 12;
            public static ulong DenseRefcountBytes(ulong maxPfn) => (maxPfn + 511) / 512 * 4;
        }

        [PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48)]
        public static partial class NoRefcounts
        {
            public const int PtrsPerPte = 512;
        }

        public static class Teardown
        {

        """;

    public static TheoryData<string> Positive => new()
    {
        "static ulong Size(ulong maxPfn) { ulong size = {|PG0004:maxPfn / G.PtrsPerPte * G.RefcountSize|}; return size; }",
        "static ulong Size(ulong maxPfn) { return {|PG0004:maxPfn / G.PtrsPerPte * 4|}; }",
        "static ulong Size(ulong maxPfn) { var bytes = {|PG0004:maxPfn / G.PtrsPerPte|}; return bytes; }",
        "static ulong Size(ulong maxPfn) { ulong pageCount = {|PG0004:maxPfn >> G.PfnsPerRefcountShift|}; return pageCount; }",
        "static ulong Size(ulong maxPfn) => {|PG0004:maxPfn / G.PtrsPerPte * G.RefcountSize|};",
        "static ulong Size(ulong maxPfn) { ulong areaSize = {|PG0004:(maxPfn / G.PtrsPerPte) * 4|}; return areaSize; }",
        "static ulong Size(ulong maxPfn) { ulong count; count = {|PG0004:maxPfn >> G.PfnsPerRefcountShift|}; return count; }",
        "static ulong Size(ulong maxPfn) { ulong size = {|PG0004:maxPfn / G.PtrsPerPte * G.RefcountSize|}; size = (size + G.PageSize - 1) & ~(G.PageSize - 1); return size; }",
        // Floors written with shifts, then scaled: by the refcount shift, by pfn_to_refcount's PMD_SHIFT - PAGE_SHIFT, by
        // the refcount page's shift (pages of refcounts, then bytes).
        "static ulong Size(ulong maxPfn) { ulong size = {|PG0004:(maxPfn >> G.PfnsPerRefcountShift) << 2|}; return size; }",
        "static ulong Size(ulong maxPfn) => {|PG0004:(maxPfn >> (G.PmdShift - G.PageShift)) * G.RefcountSize|};",
        "static ulong Size(ulong maxPfn) => {|PG0004:(maxPfn >> G.PfnsPerRefcountPageShift) << G.PageShift|};",
        "static ulong Size(ulong maxPfn) { ulong pages = {|PG0004:maxPfn >> G.PfnsPerRefcountPageShift|}; return pages; }",
        "static ulong Size(ulong maxPfn) => {|PG0004:maxPfn / (1UL << G.PfnsPerRefcountPageShift) * G.PageSize|};",
    };

    public static TheoryData<string> Negative => new()
    {
        "static ulong Index(ulong pfn) { ulong index = pfn / G.PtrsPerPte; return index; }",
        "static ulong Size(ulong maxPfn) => G.RefcountAreaSize(maxPfn);",
        "static ulong Size(ulong maxPfn) { ulong size = maxPfn / 512 * 4; return size; }",
        "static ulong Size(ulong maxPfn) { ulong size = maxPfn / NoRefcounts.PtrsPerPte * 4; return size; }",
        "static ulong Size(ulong maxPfn) { ulong size = (maxPfn + G.PtrsPerPte - 1) / G.PtrsPerPte * 4; return size; }",
        "static ulong Slot(ulong pfn) { var slot = pfn >> G.PfnsPerRefcountShift; return slot; }",
        "static ulong Size(ulong a) { ulong size = a / 3 * 4; return size; }",
        "static ulong Size(ulong maxPfn) { var bytes = G.DenseRefcountBytes(maxPfn); return bytes; }",
        // Rounded up with shifts; a shift by another amount; a shift written without the geometry (which geometry?).
        "static ulong Size(ulong maxPfn) { ulong size = ((maxPfn + 511) >> G.PfnsPerRefcountShift) << 2; return size; }",
        "static ulong Size(ulong maxPfn) { ulong size = (maxPfn >> G.PageShift) << 2; return size; }",
        "static ulong Size(ulong maxPfn) { ulong size = (maxPfn >> 9) << 2; return size; }",
        // The shift is the scaled value's shift amount, not a floor being scaled.
        "static ulong Size(ulong n) { ulong size = 4UL << (int)(n >> G.PfnsPerRefcountShift); return size; }",
    };

    [Theory]
    [MemberData(nameof(Positive))]
    public Task Reports(string member) => AnalyzerHarness.Verify<TruncatingSizeAnalyzer>(Geometry + member + "\n}\n");

    [Theory]
    [MemberData(nameof(Negative))]
    public Task Does_not_report(string member) => AnalyzerHarness.Verify<TruncatingSizeAnalyzer>(Geometry + member + "\n}\n");

    [Fact]
    public Task Fix_calls_the_generated_size_and_fix_all_covers_the_document()
    {
        var test = AnalyzerHarness.FixTest<TruncatingSizeAnalyzer, UseRefcountAreaSizeCodeFix>(
            Geometry + """
                static ulong Init(ulong maxPfn) { ulong size = {|PG0004:maxPfn / G.PtrsPerPte * G.RefcountSize|}; return size; }
                static ulong Free(ulong maxPfn) => {|PG0004:maxPfn / G.PtrsPerPte * 4|};
                static ulong Shifted(ulong maxPfn) => {|PG0004:(maxPfn >> (G.PmdShift - G.PageShift)) << 2|};
                }
                """,
            Geometry + """
                static ulong Init(ulong maxPfn) { ulong size = G.RefcountAreaSize(maxPfn); return size; }
                static ulong Free(ulong maxPfn) => G.RefcountAreaSize(maxPfn);
                static ulong Shifted(ulong maxPfn) => G.RefcountAreaSize(maxPfn);
                }
                """);
        test.CodeActionEquivalenceKey = nameof(UseRefcountAreaSizeCodeFix);
        test.NumberOfFixAllIterations = 1;
        test.NumberOfFixAllInDocumentIterations = 1;
        test.NumberOfIncrementalIterations = 3;
        return test.RunAsync();
    }
}
