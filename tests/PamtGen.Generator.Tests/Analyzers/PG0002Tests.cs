using Microsoft.CodeAnalysis.Diagnostics;
using PamtGen.Generator.Analyzers;

namespace PamtGen.Generator.Tests.Analyzers;

/// <summary>PG0002: allocations and frees balance on every path (leak, double free, use after free, free while mapped).</summary>
public class PG0002Tests
{
    public static TheoryData<string> Positive => new()
    {
        // Freed twice through a copy of the reference: the copy is the same page.
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        var same = page;
        data.Allocator.FreePage(page);
        {|PG0002:data.Allocator.FreePage(same)|};
        return 0;
        """,
        // The page behind the PTE taken, copied, and freed through both.
        """
        Pte entry = PtepGet(pte);
        if (PteNone(entry)) return 0;
        PteClear(data.Mm, addr, pte);
        Page mapped = data.Allocator.PtePage(entry);
        Page copy;
        copy = mapped;
        data.Allocator.FreePage(copy);
        {|PG0002:data.Allocator.FreePage(mapped)|};
        return 0;
        """,
        // Used through the copy after the original was freed.
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        Page alias = page;
        data.Allocator.FreePage(page);
        SetPteAt(data.Mm, addr, pte, MkPte({|PG0002:alias|}, PageKernel));
        return 0;
        """,
        // 1. A populate that leaks on its error path: the early return keeps the page.
        """
        var page = {|PG0002:data.Allocator.AllocPage(Gfp.Zero)|};
        if (page is null) return -Errno.ENOMEM;
        if (!PteNone(PtepGet(pte))) return 0;
        SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
        return 0;
        """,
        // 2. Never freed at all.
        """
        var page = {|PG0002:data.Allocator.AllocPage(Gfp.Zero)|};
        return 0;
        """,
        // 3. Freed twice.
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        data.Allocator.FreePage(page);
        {|PG0002:data.Allocator.FreePage(page)|};
        return 0;
        """,
        // 4. Used after it was freed.
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        data.Allocator.FreePage(page);
        SetPteAt(data.Mm, addr, pte, MkPte({|PG0002:page|}, PageKernel));
        return 0;
        """,
        // 5. The page behind the PTE freed before the PTE is cleared.
        """
        var entry = PtepGet(pte);
        if (!PteNone(entry))
        {
            {|PG0002:data.Allocator.FreePage(data.Allocator.PtePage(entry))|};
            PteClear(data.Mm, addr, pte);
        }
        return 0;
        """,
        // 6. Freed after the page table took it.
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
        {|PG0002:data.Allocator.FreePage(page)|};
        return 0;
        """,
        // 7. Freed on one branch only.
        """
        var page = {|PG0002:data.Allocator.AllocPage(Gfp.Zero)|};
        if (page is null) return -Errno.ENOMEM;
        if (addr == 0) data.Allocator.FreePage(page);
        return 0;
        """,
        // 8. The null check the wrong way round still leaks on the non-null path.
        """
        var page = {|PG0002:data.Allocator.AllocPage(Gfp.Zero)|};
        if (page is not null) return 0;
        return -Errno.ENOMEM;
        """,
        // 9. Overwritten by a second allocation before it is freed (found by AnalyzerOracleFuzzTests): the first page is
        //    lost although the exit frees the second. Reported at every allocation that may fill the local.
        """
        var page = {|PG0002:data.Allocator.AllocPage(Gfp.Zero)|};
        page = {|PG0002:data.Allocator.AllocPage(Gfp.Zero)|};
        if (page is null) return -Errno.ENOMEM;
        data.Allocator.FreePage(page);
        return 0;
        """,
        // 10. Freed in the try and again in its finally: the finally runs after the free on the way out.
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        try
        {
            data.Allocator.FreePage(page);
        }
        finally
        {
            {|PG0002:data.Allocator.FreePage(page)|};
        }
        return 0;
        """,
        // 11. A finally that frees on one branch only still leaks on the other.
        """
        var page = {|PG0002:data.Allocator.AllocPage(Gfp.Zero)|};
        if (page is null) return -Errno.ENOMEM;
        try
        {
            page.Bytes[0] = 1;
        }
        finally
        {
            if (addr == 0) data.Allocator.FreePage(page);
        }
        return 0;
        """,
        // 12. Used after the try whose finally freed it.
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        try
        {
            page.Bytes[0] = 1;
        }
        finally
        {
            data.Allocator.FreePage(page);
        }
        if (!PteNone(PtepGet(pte))) return 0;
        SetPteAt(data.Mm, addr, pte, MkPte({|PG0002:page|}, PageKernel));
        return 0;
        """,
        // 13. Handed to a field in the try, then freed by its finally on the way out: the field holds a freed page.
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        try
        {
            data.Kept = page;
            return 0;
        }
        finally
        {
            {|PG0002:data.Allocator.FreePage(page)|};
        }
        """,
    };

    public static TheoryData<string> Negative => new()
    {
        // Freed once through a copy: balanced.
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        var same = page;
        data.Allocator.FreePage(same);
        return 0;
        """,
        // A local assigned two different pages is no copy of either: each is followed on its own.
        """
        var a = data.Allocator.AllocPage(Gfp.Zero);
        var b = data.Allocator.AllocPage(Gfp.Zero);
        Page? either = a;
        if (addr == 0) either = b;
        if (a is not null) data.Allocator.FreePage(a);
        if (b is not null) data.Allocator.FreePage(b);
        return 0;
        """,
        // 1. The fixed populate.
        """
        if (!PteNone(PtepGet(pte))) return 0;
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
        return 0;
        """,
        // 2. The v4 populate: mapped through an entry local, or freed.
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        var entry = MkPte(page, PageKernel);
        if (PteNone(PtepGet(pte)))
            SetPteAt(data.Mm, addr, pte, entry);
        else
            data.Allocator.FreePage(page);
        return 0;
        """,
        // 3. The null path holds no page (== null form).
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page == null) return -Errno.ENOMEM;
        data.Allocator.FreePage(page);
        return 0;
        """,
        // 4. Stored in a field: ownership moves to the state.
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        data.Kept = page;
        return 0;
        """,
        // 5. The v4 depopulate: cleared, then freed.
        """
        var entry = PtepGet(pte);
        if (!PteNone(entry))
        {
            PteClear(data.Mm, addr, pte);
            data.Allocator.FreePage(data.Allocator.PtePage(entry));
        }
        return 0;
        """,
        // 6. Freed in a finally block, which runs on the early return from the try too.
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        try
        {
            if (addr == 0) return 1;
            page.Bytes[0] = 1;
        }
        finally
        {
            data.Allocator.FreePage(page);
        }
        return 0;
        """,
        // 7. Freed on every branch.
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        if (addr == 0)
            data.Allocator.FreePage(page);
        else
            data.Allocator.FreePage(page);
        return 0;
        """,
        // 8. Reallocated in a loop, freed each time.
        """
        for (int i = 0; i < 3; i++)
        {
            var page = data.Allocator.AllocPage(Gfp.Zero);
            if (page is null) return -Errno.ENOMEM;
            data.Allocator.FreePage(page);
        }
        return 0;
        """,
        // 9. Code after a return on every path never runs (found by AnalyzerOracleFuzzTests).
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        if (addr == 0)
        {
            data.Allocator.FreePage(page);
            return 0;
        }
        else
        {
            data.Allocator.FreePage(page);
            return 1;
        }
        data.Allocator.FreePage(page);
        data.Allocator.FreePage(page);
        return 0;
        """,
        // 10. Nested: the inner finally frees, the outer one clears the PTE before the page behind it is freed.
        """
        var entry = PtepGet(pte);
        if (PteNone(entry)) return 0;
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        try
        {
            try
            {
                page.Bytes[0] = 1;
            }
            finally
            {
                data.Allocator.FreePage(page);
            }
        }
        finally
        {
            PteClear(data.Mm, addr, pte);
        }
        data.Allocator.FreePage(data.Allocator.PtePage(entry));
        return 0;
        """,
    };

    [Theory]
    [MemberData(nameof(Positive))]
    public Task Reports(string body) => AnalyzerHarness.Verify<UnbalancedPageAnalyzer>(AnalyzerHarness.InCallback(body));

    [Theory]
    [MemberData(nameof(Negative))]
    public Task Does_not_report(string body) => AnalyzerHarness.Verify<UnbalancedPageAnalyzer>(AnalyzerHarness.InCallback(body));

    [Fact]
    public async Task A_leak_names_the_returns_where_the_page_is_lost()
    {
        var source = AnalyzerHarness.InCallback("""
            var page = data.Allocator.AllocPage(Gfp.Zero);
            if (page is null) return -Errno.ENOMEM;
            if (!PteNone(PtepGet(pte))) return 0;
            if (addr == 0) return -Errno.EINVAL;
            SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
            return 0;
            """);
        var compilation = RepositorySources.Compile([RepositorySources.Parse(source, "Callback.cs")]);
        var diagnostic = Assert.Single(await compilation.WithAnalyzers([new UnbalancedPageAnalyzer()]).GetAnalyzerDiagnosticsAsync());
        var lines = source.Split('\n');
        int Line(string text) => Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal));
        // The two returns that keep the page, not the null return (no page) nor the one after the mapping.
        int populated = Line("PteNone(PtepGet(pte))) return 0;"), invalid = Line("return -Errno.EINVAL;");
        Assert.Equal([populated, invalid], diagnostic.AdditionalLocations.Select(l => l.GetLineSpan().StartLinePosition.Line));
        Assert.All(diagnostic.AdditionalLocations, l => Assert.StartsWith("return", l.SourceTree!.GetText().ToString(l.SourceSpan), StringComparison.Ordinal));
        Assert.EndsWith($"on some path to the returns on lines {populated + 1}, {invalid + 1}", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public Task Users_own_allocators_and_owning_parameters_take_part() =>
        AnalyzerHarness.Verify<UnbalancedPageAnalyzer>("""
            using PamtGen;

            public static class Pool
            {
                [AllocatesPage]
                public static Page? Take(PageAllocator allocator) => allocator.AllocPage(Gfp.Zero);

                public static void Keep([TakesPageOwnership] Page page) { }

                public static void Leaks(PageAllocator allocator)
                {
                    var page = {|PG0002:Take(allocator)|};
                }

                public static void HandsOn(PageAllocator allocator)
                {
                    var page = Take(allocator);
                    if (page is not null) Keep(page);
                }

                public static Page? Returns(PageAllocator allocator)
                {
                    var page = allocator.AllocPage(Gfp.Zero);
                    return page;
                }

                public static Page[]? ReturnsBoth(PageAllocator allocator)
                {
                    var first = allocator.AllocPage(Gfp.Zero);
                    if (first is null) return null;
                    var second = allocator.AllocPage(Gfp.Zero);
                    if (second is null)
                    {
                        allocator.FreePage(first);
                        return null;
                    }

                    return [first, second];
                }
            }
            """);
}
