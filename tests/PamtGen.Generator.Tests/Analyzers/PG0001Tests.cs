using PamtGen.CodeFixes;
using PamtGen.Generator.Analyzers;

namespace PamtGen.Generator.Tests.Analyzers;

/// <summary>PG0001: a PTE written, cleared, or the page behind it freed, without the dominating pte_none check.</summary>
public class PG0001Tests
{
    public static TheoryData<string> Positive => new()
    {
        // pte_present() the wrong way round: a write where the entry is present, a clear where it is not.
        """
        if (PtePresent(PtepGet(pte)))
            {|PG0001:SetPteAt(data.Mm, addr, pte, MkPte(data.Kept!, PageKernel))|};
        return 0;
        """,
        """
        if (!PtePresent(PtepGet(pte)))
            {|PG0001:PteClear(data.Mm, addr, pte)|};
        return 0;
        """,
        // 1. A populate that writes without checking.
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        {|PG0001:SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel))|};
        return 0;
        """,
        // 2. The v4 depopulate without its check: the clear and the free are both unguarded.
        """
        var entry = PtepGet(pte);
        {|PG0001:PteClear(data.Mm, addr, pte)|};
        var page = data.Allocator.PtePage(entry);
        {|PG0001:data.Allocator.FreePage(page)|};
        return 0;
        """,
        // 3. The check the wrong way round.
        """
        if (!PteNone(PtepGet(pte)))
        {
            {|PG0001:SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel))|};
        }
        return 0;
        """,
        // 4. Checked on one side of || only.
        """
        if (addr == 0 || PteNone(PtepGet(pte)))
        {
            {|PG0001:SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel))|};
        }
        return 0;
        """,
        // 5. The result of the check is thrown away.
        """
        PteNone(PtepGet(pte));
        {|PG0001:SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel))|};
        return 0;
        """,
        // 6. Written twice: after the first write the PTE is no longer none.
        """
        if (PteNone(PtepGet(pte)))
        {
            SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel));
            {|PG0001:SetPteAt(data.Mm, addr, pte, PfnPte(2, PageKernel))|};
        }
        return 0;
        """,
        // 7. Cleared where it was proven none.
        """
        var entry = PtepGet(pte);
        if (PteNone(entry))
        {
            {|PG0001:PteClear(data.Mm, addr, pte)|};
        }
        return 0;
        """,
        // 8. The page behind the PTE freed with no check at all.
        """
        {|PG0001:data.Allocator.FreePage(data.Allocator.PtePage(PtepGet(pte)))|};
        return 0;
        """,
        // 9. Checked on only one of two paths that meet.
        """
        if (addr > 4096)
        {
            if (!PteNone(PtepGet(pte))) return 0;
        }
        {|PG0001:SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel))|};
        return 0;
        """,
        // 10. A finally runs on the early return too, where the PTE was proven none: the clear there is unchecked.
        """
        var entry = PtepGet(pte);
        try
        {
            if (PteNone(entry)) return 0;
        }
        finally
        {
            {|PG0001:PteClear(data.Mm, addr, pte)|};
        }
        return 0;
        """,
        // 11. A finally that only an exception reaches is still checked, from the callback's entry.
        """
        try
        {
            throw new System.InvalidOperationException();
        }
        finally
        {
            {|PG0001:SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel))|};
        }
        """,
    };

    public static TheoryData<string> Negative => new()
    {
        // pte_present() is the check: the walkers' "if (!pte_present(pte)) continue;" before a clear and a free, and a
        // populate that returns on a present entry.
        """
        Pte entry = PtepGet(pte);
        if (!PtePresent(entry)) return 0;
        PteClear(data.Mm, addr, pte);
        data.Allocator.FreePage(data.Allocator.PtePage(entry));
        return 0;
        """,
        """
        if (PtePresent(PtepGet(pte))) return 0;
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
        return 0;
        """,
        """
        bool present = PtePresent(PtepGet(pte));
        if (present) PteClear(data.Mm, addr, pte);
        return 0;
        """,
        // A flag that is true when the PTE is populated, tested either way.
        """
        bool populated = !PteNone(PtepGet(pte));
        if (!populated) return 0;
        PteClear(data.Mm, addr, pte);
        return 0;
        """,
        // 1. The fixed populate: check first, allocate after.
        """
        if (!PteNone(PtepGet(pte))) return 0;
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
        return 0;
        """,
        // 2. The v4 populate: the write is checked (under the lock); its allocation before the check is PG0003's.
        """
        var page = {|PG0003:data.Allocator.AllocPage(Gfp.Zero)|};
        if (page is null) return -Errno.ENOMEM;
        var entry = MkPte(page, PageKernel);
        lock (data.Mm.PageTableLock)
        {
            if (PteNone(PtepGet(pte)))
                SetPteAt(data.Mm, addr, pte, entry);
            else
                data.Allocator.FreePage(page);
        }
        return 0;
        """,
        // 3. The v4 depopulate with its check.
        """
        var entry = PtepGet(pte);
        if (!PteNone(entry))
        {
            PteClear(data.Mm, addr, pte);
            var page = data.Allocator.PtePage(entry);
            data.Allocator.FreePage(page);
        }
        return 0;
        """,
        // 4. The check through a local holding the entry.
        """
        var entry = PtepGet(pte);
        if (PteNone(entry))
            SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel));
        return 0;
        """,
        // 5. Both sides of && must hold.
        """
        if (addr != 0 && PteNone(PtepGet(pte)))
            SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel));
        return 0;
        """,
        // 6. A flag holding the check.
        """
        bool none = PteNone(PtepGet(pte));
        if (!none) return 0;
        SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel));
        return 0;
        """,
        // 7. Clear, then write: the PTE is none after the clear.
        """
        var entry = PtepGet(pte);
        if (PteNone(entry)) return 0;
        PteClear(data.Mm, addr, pte);
        SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel));
        return 0;
        """,
        // 8. The else branch of a populated check.
        """
        if (!PteNone(PtepGet(pte)))
            return 0;
        else
            SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel));
        return 0;
        """,
        // 9. The check as the first operand of ||, as the undo of a transactional populate writes it.
        """
        var entry = PtepGet(pte);
        if (PteNone(entry) || data.Kept is null) return 0;
        PteClear(data.Mm, addr, pte);
        data.Allocator.FreePage(data.Allocator.PtePage(entry));
        return 0;
        """,
        // 10. The same with a call in the second operand.
        """
        var entry = PtepGet(pte);
        if (PteNone(entry) || !data.Mine.Remove(addr))
        {
            return 0;
        }

        PteClear(data.Mm, addr, pte);
        data.Allocator.FreePage(data.Allocator.PtePage(entry));
        return 0;
        """,
        // 11. Freeing a page that is not the one behind the PTE.
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is not null) data.Allocator.FreePage(page);
        return 0;
        """,
        // 12. Code after a return on every path never runs (found by AnalyzerOracleFuzzTests).
        """
        if (addr == 0)
        {
            return 0;
        }
        else
        {
            return 1;
        }
        PteClear(data.Mm, addr, pte);
        return 0;
        """,
        // 13. A check before the try holds in its finally: every path into the finally passed it.
        """
        if (!PteNone(PtepGet(pte))) return 0;
        try
        {
            addr++;
        }
        finally
        {
            SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel));
        }
        return 0;
        """,
        // 14. Each path runs the finally with its own facts: the populated PTE of the early return does not reach the
        //     write after the try, which only the path that found the PTE none gets to.
        """
        var entry = PtepGet(pte);
        try
        {
            if (!PteNone(entry)) return 0;
        }
        finally
        {
            addr++;
        }
        SetPteAt(data.Mm, addr, pte, PfnPte(2, PageKernel));
        return 0;
        """,
    };

    [Theory]
    [MemberData(nameof(Positive))]
    public Task Reports(string body) => AnalyzerHarness.Verify<PteNoneCheckAnalyzer>(AnalyzerHarness.InCallback(body));

    [Theory]
    [MemberData(nameof(Negative))]
    public Task Does_not_report(string body) => AnalyzerHarness.Verify<PteNoneCheckAnalyzer>(AnalyzerHarness.InCallback(body));

    [Fact]
    public Task A_method_of_the_pte_fn_shape_without_the_attribute_is_a_callback_too() =>
        AnalyzerHarness.Verify<PteNoneCheckAnalyzer>("""
            using PamtGen;
            using static PamtGen.Pgtable;

            public static class Plain
            {
                static int Map(PtePointer pte, ulong addr, Mm mm)
                {
                    {|PG0001:SetPteAt(mm, addr, pte, PfnPte(1, PageKernel))|};
                    return 0;
                }

                static void NotACallback(Mm mm, PtePointer pte) => SetPteAt(mm, 0, pte, PfnPte(1, PageKernel));
            }
            """);

    [Fact]
    public Task Fix_checks_first_and_returns_before_the_allocation() =>
        AnalyzerHarness.FixTest<PteNoneCheckAnalyzer, CheckPteFirstCodeFix>(
            AnalyzerHarness.InCallback("""
                var page = data.Allocator.AllocPage(Gfp.Zero);
                if (page is null) return -Errno.ENOMEM;
                {|PG0001:SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel))|};
                return 0;
                """),
            AnalyzerHarness.InCallback("""
                if (!PteNone(PtepGet(pte)))
                {
                    return 0;
                }
                var page = data.Allocator.AllocPage(Gfp.Zero);
                if (page is null) return -Errno.ENOMEM;
                SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
                return 0;
                """)).RunAsync();

    [Fact]
    public Task One_fix_checks_before_a_clear_and_the_free_after_it()
    {
        var test = AnalyzerHarness.FixTest<PteNoneCheckAnalyzer, CheckPteFirstCodeFix>(
            AnalyzerHarness.InCallback("""
                var entry = PtepGet(pte);
                {|PG0001:PteClear(data.Mm, addr, pte)|};
                {|PG0001:data.Allocator.FreePage(data.Allocator.PtePage(entry))|};
                return 0;
                """),
            AnalyzerHarness.InCallback("""
                var entry = PtepGet(pte);
                if (PteNone(PtepGet(pte)))
                {
                    return 0;
                }
                PteClear(data.Mm, addr, pte);
                data.Allocator.FreePage(data.Allocator.PtePage(entry));
                return 0;
                """));
        test.NumberOfFixAllIterations = 1;
        test.NumberOfFixAllInDocumentIterations = 1;
        test.NumberOfIncrementalIterations = 1;
        return test.RunAsync();
    }

    [Fact]
    public Task Fix_all_fixes_a_write_and_a_clear_on_different_branches_in_one_pass()
    {
        var test = AnalyzerHarness.FixTest<PteNoneCheckAnalyzer, CheckPteFirstCodeFix>(
            AnalyzerHarness.InCallback("""
                if (addr == 0)
                    {|PG0001:SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel))|};
                else
                    {|PG0001:PteClear(data.Mm, addr, pte)|};
                return 0;
                """),
            AnalyzerHarness.InCallback("""
                if (addr == 0)
                {
                    if (PteNone(PtepGet(pte)))
                    {
                        SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel));
                    }
                }
                else
                {
                    if (!PteNone(PtepGet(pte)))
                    {
                        PteClear(data.Mm, addr, pte);
                    }
                }
                return 0;
                """));
        test.CodeActionEquivalenceKey = "Check the PTE first";
        test.NumberOfFixAllIterations = 1;
        test.NumberOfFixAllInDocumentIterations = 1;
        test.NumberOfIncrementalIterations = 2;
        return test.RunAsync();
    }

    [Fact]
    public Task Fix_all_in_project_fixes_every_document()
    {
        string Before(string name) => AnalyzerHarness.InCallback("""
            {|PG0001:SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel))|};
            return 0;
            """, name);
        string After(string name) => AnalyzerHarness.InCallback("""
            if (!PteNone(PtepGet(pte)))
            {
                return 0;
            }
            SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel));
            return 0;
            """, name);
        var test = AnalyzerHarness.FixTest<PteNoneCheckAnalyzer, CheckPteFirstCodeFix>(Before("A"), After("A"));
        test.TestState.Sources.Add(Before("B"));
        test.FixedState.Sources.Add(After("B"));
        test.CodeActionEquivalenceKey = "Check the PTE first";
        test.NumberOfFixAllInProjectIterations = 1;
        return test.RunAsync();
    }
}
