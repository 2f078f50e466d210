using PamtGen.CodeFixes;
using PamtGen.Generator.Analyzers;

namespace PamtGen.Generator.Tests.Analyzers;

/// <summary>PG0003: a page allocated before the pte_none check and freed again where the PTE is populated.</summary>
public class PG0003Tests
{
    private const string SeedV4Populate = """
        Page? page;
        Pte entry;

        page = {|PG0003:data.Allocator.AllocPage(Gfp.Kernel | Gfp.Zero)|};
        if (page is null)
            return -Errno.ENOMEM;

        entry = MkPte(page, PageKernel);

        lock (data.Mm.PageTableLock)
        {
            if (PteNone(PtepGet(pte)))
                SetPteAt(data.Mm, addr, pte, entry);
            else
                data.Allocator.FreePage(page);
        }

        return 0;
        """;

    public static TheoryData<string> Positive => new()
    {
        // 1. The v4 populate, literally.
        SeedV4Populate,
        // 2. The same without the lock.
        """
        var page = {|PG0003:data.Allocator.AllocPage(Gfp.Zero)|};
        if (page is null) return -Errno.ENOMEM;
        if (PteNone(PtepGet(pte)))
            SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
        else
            data.Allocator.FreePage(page);
        return 0;
        """,
        // 3. Freed in an early branch of a negated check.
        """
        var page = {|PG0003:data.Allocator.AllocPage(Gfp.Zero)|};
        if (page is null) return -Errno.ENOMEM;
        if (!PteNone(PtepGet(pte)))
        {
            data.Allocator.FreePage(page);
            return 0;
        }
        SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
        return 0;
        """,
        // 4. Checked through an entry local.
        """
        var page = {|PG0003:data.Allocator.AllocPage(Gfp.Zero)|};
        if (page is null) return -Errno.ENOMEM;
        var current = PtepGet(pte);
        if (!PteNone(current)) { data.Allocator.FreePage(page); return 0; }
        SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
        return 0;
        """,
        // Freed through a copy of the reference (the analysis threw on this before: the copy has no allocation of its own).
        """
        var page = {|PG0003:data.Allocator.AllocPage(Gfp.Zero)|};
        if (page is null) return -Errno.ENOMEM;
        if (!PteNone(PtepGet(pte)))
        {
            var copy = page;
            data.Allocator.FreePage(copy);
            return 0;
        }
        SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
        return 0;
        """,
        // 5. Checked through a flag.
        """
        var page = {|PG0003:data.Allocator.AllocPage(Gfp.Zero)|};
        if (page is null) return -Errno.ENOMEM;
        bool none = PteNone(PtepGet(pte));
        if (none) SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
        else data.Allocator.FreePage(page);
        return 0;
        """,
        // 6. Allocated with the default GFP flags.
        """
        var page = {|PG0003:data.Allocator.AllocPage(Gfp.Kernel)|};
        if (page == null) return -Errno.ENOMEM;
        if (!PteNone(PtepGet(pte))) { data.Allocator.FreePage(page); return 0; }
        SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
        return 0;
        """,
        // 7. A nested check after an unrelated one.
        """
        var page = {|PG0003:data.Allocator.AllocPage(Gfp.Zero)|};
        if (page is null) return -Errno.ENOMEM;
        if (addr != 0)
        {
            if (PteNone(PtepGet(pte))) { SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel)); return 0; }
            data.Allocator.FreePage(page);
            return 0;
        }
        data.Allocator.FreePage(page);
        return 0;
        """,
        // 8. Through an entry made first, as v4 does, with the check negated.
        """
        var page = {|PG0003:data.Allocator.AllocPage(Gfp.Zero)|};
        if (page is null) return -Errno.ENOMEM;
        var entry = MkPte(page, PageKernel);
        if (!PteNone(PtepGet(pte))) data.Allocator.FreePage(page);
        else SetPteAt(data.Mm, addr, pte, entry);
        return 0;
        """,
    };

    public static TheoryData<string> Negative => new()
    {
        // 1. The fixed populate.
        """
        if (!PteNone(PtepGet(pte))) return 0;
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
        return 0;
        """,
        // 2. Freed with no relation to the PTE.
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        data.Allocator.FreePage(page);
        return 0;
        """,
        // 3. Freed on the none path (odd, but not an allocation wasted on a populated PTE).
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        if (PteNone(PtepGet(pte))) data.Allocator.FreePage(page);
        else data.Kept = page;
        return 0;
        """,
        // 4. Kept where populated (stored, not freed).
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        if (PteNone(PtepGet(pte))) SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
        else data.Kept = page;
        return 0;
        """,
        // 5. The depopulate.
        """
        var entry = PtepGet(pte);
        if (PteNone(entry)) return 0;
        PteClear(data.Mm, addr, pte);
        data.Allocator.FreePage(data.Allocator.PtePage(entry));
        return 0;
        """,
        // 6. Allocated and mapped unconditionally (PG0001's finding, not PG0003's).
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        {|PG0001:SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel))|};
        return 0;
        """,
        // 7. Freed where unknown (after a check that was merged away).
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        if (PteNone(PtepGet(pte))) addr++;
        data.Allocator.FreePage(page);
        return 0;
        """,
        // 8. No allocation at all.
        """
        return PteNone(PtepGet(pte)) ? 0 : 1;
        """,
    };

    [Theory]
    [MemberData(nameof(Positive))]
    public Task Reports(string body) => AnalyzerHarness.Verify<PteNoneCheckAnalyzer>(AnalyzerHarness.InCallback(body));

    [Theory]
    [MemberData(nameof(Negative))]
    public Task Does_not_report(string body) => AnalyzerHarness.Verify<PteNoneCheckAnalyzer>(AnalyzerHarness.InCallback(body));

    [Fact]
    public Task Fix_returns_early_where_populated_and_drops_the_free() =>
        AnalyzerHarness.FixTest<PteNoneCheckAnalyzer, MoveAllocationAfterCheckCodeFix>(
            AnalyzerHarness.InCallback(SeedV4Populate),
            AnalyzerHarness.InCallback("""
                Page? page;
                Pte entry;

                if (!PteNone(PtepGet(pte)))
                {
                    return 0;
                }

                page = data.Allocator.AllocPage(Gfp.Kernel | Gfp.Zero);
                if (page is null)
                    return -Errno.ENOMEM;

                entry = MkPte(page, PageKernel);

                lock (data.Mm.PageTableLock)
                {
                    SetPteAt(data.Mm, addr, pte, entry);
                }

                return 0;
                """)).RunAsync();
}
