using PamtGen.Generator.Analyzers;

namespace PamtGen.Generator.Tests.Analyzers;

/// <summary>
/// Minimized regressions of issue 15, each failing before its fix: a double free of the page behind a PTE (PG0002
/// missed it), and the kernel's double-checked populate (PG0003 and PG0005 reported correct code).
/// </summary>
public class KernelShapeRegressionTests
{
    /// <summary>The depopulate's start: the entry read, checked populated, cleared, and its page taken.</summary>
    private const string TakePtePage = """
        var entry = PtepGet(pte);
        if (PteNone(entry)) return 0;
        PteClear(data.Mm, addr, pte);
        var page = data.Allocator.PtePage(entry);

        """;

    public static TheoryData<string> PtePageDoubleFree => new()
    {
        // Straight line.
        TakePtePage + "data.Allocator.FreePage(page);\n{|PG0002:data.Allocator.FreePage(page)|};\nreturn 0;",
        // The second free on a conditional path.
        TakePtePage + "data.Allocator.FreePage(page);\nif (addr == 0) {|PG0002:data.Allocator.FreePage(page)|};\nreturn 0;",
        // Freed on one path, then on the join.
        TakePtePage + "if (addr == 0) data.Allocator.FreePage(page);\n{|PG0002:data.Allocator.FreePage(page)|};\nreturn 0;",
        // Used after it was freed.
        TakePtePage + "data.Allocator.FreePage(page);\ndata.Kept = {|PG0002:page|};\nreturn 0;",
    };

    public static TheoryData<string> PtePageFreedOnce => new()
    {
        TakePtePage + "data.Allocator.FreePage(page);\nreturn 0;",
        TakePtePage + "if (addr == 0) data.Allocator.FreePage(page);\nelse data.Allocator.FreePage(page);\nreturn 0;",
        // Read again after the free: a new page handle, not the freed one.
        TakePtePage + "data.Allocator.FreePage(page);\npage = data.Allocator.PtePage(entry);\ndata.Kept = page;\nreturn 0;",
    };

    /// <summary>Double-checked populate as mm/kasan/shadow.c writes it: the set under the lock, the free after it.</summary>
    private const string DoubleCheckedKasanShape = """
        if (!PteNone(PtepGet(pte))) return 0;
        Page? page = data.Allocator.AllocPage(Gfp.Kernel);
        if (page is null) return -Errno.ENOMEM;
        var entry = MkPte(page, PageKernel);
        lock (data.Mm.PageTableLock)
        {
            if (PteNone(PtepGet(pte)))
            {
                SetPteAt(data.Mm, addr, pte, entry);
                page = null;
            }
        }
        if (page is not null) data.Allocator.FreePage(page);
        return 0;
        """;

    /// <summary>Double-checked populate with the free inside: check, allocate, check again, free if filled meanwhile.</summary>
    private const string DoubleCheckedEarlyFree = """
        if (!PteNone(PtepGet(pte))) return 0;
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        lock (data.Mm.PageTableLock)
        {
            if (!PteNone(PtepGet(pte)))
            {
                data.Allocator.FreePage(page);
                return 0;
            }
            SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
        }
        return 0;
        """;

    public static TheoryData<string> DoubleChecked => new()
    {
        DoubleCheckedKasanShape,
        DoubleCheckedEarlyFree,
        // Without the lock: the second check is still a check, the first already returned for a populated PTE.
        DoubleCheckedEarlyFree.Replace("lock (data.Mm.PageTableLock)\n", "", StringComparison.Ordinal),
        // Through an entry local for the first check.
        DoubleCheckedKasanShape.Replace("if (!PteNone(PtepGet(pte))) return 0;", "var first = PtepGet(pte);\nif (!PteNone(first)) return 0;", StringComparison.Ordinal),
    };

    [Theory]
    [MemberData(nameof(PtePageDoubleFree))]
    public Task A_page_from_a_PTE_freed_twice_or_used_after_is_PG0002(string body) =>
        AnalyzerHarness.Verify<UnbalancedPageAnalyzer>(AnalyzerHarness.InCallback(body));

    [Theory]
    [MemberData(nameof(PtePageFreedOnce))]
    public Task A_page_from_a_PTE_freed_once_is_clean(string body) =>
        AnalyzerHarness.Verify<UnbalancedPageAnalyzer>(AnalyzerHarness.InCallback(body));

    [Theory]
    [MemberData(nameof(DoubleChecked))]
    public Task The_double_checked_populate_is_clean_of_PG0001_and_PG0003(string body) =>
        AnalyzerHarness.Verify<PteNoneCheckAnalyzer>(AnalyzerHarness.InCallback(body));

    [Theory]
    [MemberData(nameof(DoubleChecked))]
    public Task The_double_checked_populate_is_clean_of_PG0002(string body) =>
        AnalyzerHarness.Verify<UnbalancedPageAnalyzer>(AnalyzerHarness.InCallback(body));

    [Theory]
    [MemberData(nameof(DoubleChecked))]
    public Task The_lock_of_a_double_checked_populate_is_not_PG0005(string body) =>
        AnalyzerHarness.Verify<LockNotNeededAnalyzer>(AnalyzerHarness.InCallback(body));

    /// <summary>The rules stay: a first check that does not return, or a lock that guards the only check, is still reported.</summary>
    public static TheoryData<string, string> StillReported => new()
    {
        {
            "PG0003",
            """
            if (PteNone(PtepGet(pte))) addr++;
            var page = {|PG0003:data.Allocator.AllocPage(Gfp.Zero)|};
            if (page is null) return -Errno.ENOMEM;
            if (!PteNone(PtepGet(pte))) { data.Allocator.FreePage(page); return 0; }
            SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
            return 0;
            """
        },
        {
            "PG0003",
            // Checked on one path only before the allocation.
            """
            if (addr == 0 && !PteNone(PtepGet(pte))) return 0;
            var page = {|PG0003:data.Allocator.AllocPage(Gfp.Zero)|};
            if (page is null) return -Errno.ENOMEM;
            if (!PteNone(PtepGet(pte))) { data.Allocator.FreePage(page); return 0; }
            SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
            return 0;
            """
        },
        {
            "PG0005",
            // An earlier test of another condition is not a first check.
            """
            if (addr == 0) return 0;
            {|PG0005:lock (data.Mm.PageTableLock)|}
            {
                if (PteNone(PtepGet(pte))) SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel));
            }
            return 0;
            """
        },
        {
            "PG0005",
            // The first check is under the lock too: nothing is checked without it.
            """
            {|PG0005:lock (data.Mm.PageTableLock)|}
            {
                if (!PteNone(PtepGet(pte))) return 0;
            }
            {|PG0005:lock (data.Mm.PageTableLock)|}
            {
                if (PteNone(PtepGet(pte))) SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel));
            }
            return 0;
            """
        },
    };

    [Theory]
    [MemberData(nameof(StillReported))]
    public Task The_rules_still_report_what_they_should(string id, string body) => id switch
    {
        "PG0003" => AnalyzerHarness.Verify<PteNoneCheckAnalyzer>(AnalyzerHarness.InCallback(body)),
        _ => AnalyzerHarness.Verify<LockNotNeededAnalyzer>(AnalyzerHarness.InCallback(body)),
    };
}
