using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Diagnostics;
using PamtGen.CodeFixes;
using PamtGen.Generator.Analyzers;

namespace PamtGen.Generator.Tests.Analyzers;

/// <summary>Fix All in project for each remaining fix: the same finding in two documents, both fixed in one pass.</summary>
public class FixAllInProjectTests
{
    [Fact]
    public Task PG0003_move_allocation_after_check() => Run<PteNoneCheckAnalyzer, MoveAllocationAfterCheckCodeFix>(
        """
        var page = {|PG0003:data.Allocator.AllocPage(Gfp.Zero)|};
        if (page is null) return -Errno.ENOMEM;
        if (PteNone(PtepGet(pte)))
            SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
        else
            data.Allocator.FreePage(page);
        return 0;
        """,
        """
        if (!PteNone(PtepGet(pte)))
        {
            return 0;
        }

        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
        return 0;
        """,
        "Check pte_none first, allocate only where the PTE is none");

    [Fact]
    public Task PG0004_use_refcount_area_size() => Run<TruncatingSizeAnalyzer, UseRefcountAreaSizeCodeFix>(
        "ulong size = {|PG0004:addr / Geo.PtrsPerPte * Geo.RefcountSize|};\nreturn (int)size;",
        "ulong size = Geo.RefcountAreaSize(addr);\nreturn (int)size;",
        nameof(UseRefcountAreaSizeCodeFix));

    [Fact]
    public Task PG0005_remove_lock() => Run<LockNotNeededAnalyzer, RemoveLockCodeFix>(
        "{|PG0005:lock (data.Mm.PageTableLock)|}\n{\n    addr++;\n}\nreturn 0;",
        "addr++;\nreturn 0;",
        "Remove the page-table lock");

    /// <summary>The callback body in two documents (differing only in their class names), fixed together.</summary>
    private static Task Run<TAnalyzer, TFix>(string before, string after, string equivalenceKey)
        where TAnalyzer : DiagnosticAnalyzer, new()
        where TFix : CodeFixProvider, new()
    {
        static string Document(string body, string name) => AnalyzerHarness.InCallback(body, name) + (name == "A" ? Geometry : "");
        var test = AnalyzerHarness.FixTest<TAnalyzer, TFix>(Document(before, "A"), Document(after, "A"));
        test.TestState.Sources.Add(Document(before, "B"));
        test.FixedState.Sources.Add(Document(after, "B"));
        test.CodeActionEquivalenceKey = equivalenceKey;
        test.NumberOfFixAllInProjectIterations = 1;
        test.NumberOfFixAllIterations = 1;
        test.NumberOfFixAllInDocumentIterations = 2; // one document per pass
        return test.RunAsync();
    }

    private const string Geometry = """

        [PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48)]
        [RefcountTable(ElementSize = 4)]
        public static partial class Geo
        {
            public const int PtrsPerPte = 512;
            public const int RefcountSize = 4;
            public static ulong RefcountAreaSize(ulong maxPfn) => (maxPfn + (1UL << 19) - 1) >> 19 << 12;
        }
        """;
}
