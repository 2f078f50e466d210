using Microsoft.CodeAnalysis.Diagnostics;
using PamtGen.Generator.Analyzers;

namespace PamtGen.Generator.Tests.Analyzers;

/// <summary>
/// PG0001-PG0005 on callbacks over an arm64 stage-2 table, written with the geometry's generated entry struct (the
/// struct is generated here and handed to the analyzers as the source it is in a real build): entry.IsValid(level) and
/// entry.IsNone are the pte_none() check, Stage2.Entry.Page(page.PhysAddr) maps the page, PtePage(entry) is pte_page().
/// </summary>
public class Arm64FormatAnalyzerTests
{
    private const string Geometry = """
        using PamtGen;
        using PamtGen.Formats;

        [PageTableGeometry(PageShift = 16, Levels = 3, VirtualAddressBits = 48)]
        [Arm64Stage2Granule64KEntryFormat]
        [RefcountTable(ElementSize = 4)]
        public static partial class Stage2;
        """;

    private static readonly Lazy<string> Generated = new(() =>
        GeneratorHarness.Run(Geometry).GeneratedTrees.Single(t => t.FilePath.EndsWith("Stage2.PamtGen.g.cs", StringComparison.Ordinal)).ToString());

    public static TheoryData<string> Pg0001 => new()
    {
        // A stage-2 map that writes a page descriptor without looking at the entry.
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        {|PG0001:SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(page.PhysAddr).WithAccessFlag(true))|};
        return 0;
        """,
        // An unmap that clears and frees without the validity check.
        """
        Stage2.Entry entry = PtepGet(pte);
        {|PG0001:PteClear(data.Mm, addr, pte)|};
        {|PG0001:data.Allocator.FreePage(data.Allocator.PtePage(entry))|};
        return 0;
        """,
        // The check the wrong way round.
        """
        Stage2.Entry entry = PtepGet(pte);
        if (entry.IsValid(PageTableLevel.Pte))
        {
            var page = data.Allocator.AllocPage(Gfp.Zero);
            if (page is null) return -Errno.ENOMEM;
            {|PG0001:SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(page.PhysAddr))|};
        }
        return 0;
        """,
    };

    public static TheoryData<string> Clean => new()
    {
        // The map of samples/Arm64Stage2, checked with the format's validity test.
        """
        Stage2.Entry entry = PtepGet(pte);
        if (entry.IsValid(PageTableLevel.Pte)) return 0;
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(page.PhysAddr).WithAccessFlag(true).WithS2AccessPermissions(3));
        return 0;
        """,
        // The same with pte_none() spelled as the struct's IsNone.
        """
        if (!((Stage2.Entry)PtepGet(pte)).IsNone) return 0;
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(page.PhysAddr));
        return 0;
        """,
        // The unmap: check, clear, then free the page behind the descriptor.
        """
        Stage2.Entry entry = PtepGet(pte);
        if (!entry.IsValid(PageTableLevel.Pte)) return 0;
        PteClear(data.Mm, addr, pte);
        data.Allocator.FreePage(data.Allocator.PtePage(entry));
        return 0;
        """,
        // stage2_split_walker() installing its new table: the table entry hands the page to the tables (no leak), here
        // with the struct's constructor and with the runtime geometry's.
        """
        Stage2.Entry entry = PtepGet(pte);
        if (!entry.IsNone) return 0;
        var child = data.Allocator.AllocPage(Gfp.Zero);
        if (child is null) return -Errno.ENOMEM;
        SetPteAt(data.Mm, addr, pte, Stage2.Entry.Table(child.PhysAddr));
        return 0;
        """,
        """
        if (!((Stage2.Entry)PtepGet(pte)).IsNone) return 0;
        var child = data.Allocator.AllocPage(Gfp.Zero);
        if (child is null) return -Errno.ENOMEM;
        SetPteAt(data.Mm, addr, pte, new Pte(data.Mm.Geometry.MakeTableEntry(child.PhysAddr)));
        return 0;
        """,
        // A page entry of the allocated page, through the pte-level Block and the kernel page constructor: handed on.
        """
        if (!((Stage2.Entry)PtepGet(pte)).IsNone) return 0;
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        SetPteAt(data.Mm, addr, pte, Stage2.Entry.Block(PageTableLevel.Pte, page.PhysAddr));
        return 0;
        """,
        """
        if (!((Stage2.Entry)PtepGet(pte)).IsNone) return 0;
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        SetPteAt(data.Mm, addr, pte, Stage2.Entry.KernelPage(page.PhysAddr));
        return 0;
        """,
        // A permission change of the mapping that is there (no new mapping over it).
        """
        Stage2.Entry entry = PtepGet(pte);
        SetPteAt(data.Mm, addr, pte, entry.WithS2AccessPermissions(1));
        return 0;
        """,
    };

    public static TheoryData<string> Pg0002 => new()
    {
        // A page allocated, then device memory mapped: a mapping of memory the tables do not own hides no leak.
        """
        var page = {|PG0002:data.Allocator.AllocPage(Gfp.Zero)|};
        if (page is null) return -Errno.ENOMEM;
        if (!((Stage2.Entry)PtepGet(pte)).IsNone) { data.Allocator.FreePage(page); return 0; }
        SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(0x8000_0000UL).WithMemAttr(0));
        return 0;
        """,
        // A 4K allocator page mapped as a block: a block is memory the tables do not own, the page is not handed on.
        """
        var page = {|PG0002:data.Allocator.AllocPage(Gfp.Zero)|};
        if (page is null) return -Errno.ENOMEM;
        if (!((Stage2.Entry)PtepGet(pte)).IsNone) { data.Allocator.FreePage(page); return 0; }
        SetPteAt(data.Mm, addr, pte, Stage2.Entry.Block(PageTableLevel.Pmd, page.PhysAddr));
        return 0;
        """,
        // Leaks on the early return for a valid entry.
        """
        var page = {|PG0002:data.Allocator.AllocPage(Gfp.Zero)|};
        if (page is null) return -Errno.ENOMEM;
        Stage2.Entry entry = PtepGet(pte);
        if (entry.IsValid(PageTableLevel.Pte)) return 0;
        SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(page.PhysAddr));
        return 0;
        """,
        // The page behind the descriptor freed twice.
        """
        Stage2.Entry entry = PtepGet(pte);
        if (entry.IsNone) return 0;
        PteClear(data.Mm, addr, pte);
        var page = data.Allocator.PtePage(entry);
        data.Allocator.FreePage(page);
        {|PG0002:data.Allocator.FreePage(page)|};
        return 0;
        """,
        // Freed while the stage-2 table still maps it.
        """
        var page = data.Allocator.AllocPage(Gfp.Zero);
        if (page is null) return -Errno.ENOMEM;
        if (!((Stage2.Entry)PtepGet(pte)).IsNone) { data.Allocator.FreePage(page); return 0; }
        SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(page.PhysAddr));
        {|PG0002:data.Allocator.FreePage(page)|};
        return 0;
        """,
    };

    [Theory]
    [MemberData(nameof(Pg0001))]
    public Task PG0001_reports_unchecked_writes_of_stage2_descriptors(string body) => Verify<PteNoneCheckAnalyzer>(AnalyzerHarness.InCallback(body));

    [Theory]
    [MemberData(nameof(Clean))]
    public async Task Checked_stage2_callbacks_are_clean_under_every_rule(string body)
    {
        await Verify<PteNoneCheckAnalyzer>(AnalyzerHarness.InCallback(body));
        await Verify<UnbalancedPageAnalyzer>(AnalyzerHarness.InCallback(body));
        await Verify<LockNotNeededAnalyzer>(AnalyzerHarness.InCallback(body));
    }

    [Theory]
    [MemberData(nameof(Pg0002))]
    public Task PG0002_follows_pages_mapped_by_stage2_descriptors(string body) => Verify<UnbalancedPageAnalyzer>(AnalyzerHarness.InCallback(body));

    [Fact]
    public Task PG0003_reports_an_allocation_before_the_validity_check() => Verify<PteNoneCheckAnalyzer>(AnalyzerHarness.InCallback("""
        var page = {|PG0003:data.Allocator.AllocPage(Gfp.Zero)|};
        if (page is null) return -Errno.ENOMEM;
        Stage2.Entry entry = PtepGet(pte);
        if (!entry.IsValid(PageTableLevel.Pte))
            SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(page.PhysAddr));
        else
            data.Allocator.FreePage(page);
        return 0;
        """));

    [Fact]
    public Task PG0004_reports_a_truncating_size_of_a_stage2_geometry() => Verify<TruncatingSizeAnalyzer>(
        "public static class Sizes { public static ulong Size(ulong maxPfn) => {|PG0004:maxPfn / Stage2.PtrsPerPte * Stage2.RefcountSize|}; }\n");

    [Fact]
    public Task PG0005_reports_the_lock_in_a_stage2_callback() => Verify<LockNotNeededAnalyzer>(AnalyzerHarness.InCallback("""
        Stage2.Entry entry = PtepGet(pte);
        {|PG0005:lock (data.Mm.PageTableLock)|}
        {
            if (entry.IsValid(PageTableLevel.Pte)) PteClear(data.Mm, addr, pte);
        }
        return 0;
        """));

    /// <summary>The analyzer over the callback, the geometry declaration and the struct the generator made of it.</summary>
    private static Task Verify<TAnalyzer>(string source)
        where TAnalyzer : DiagnosticAnalyzer, new() =>
        AnalyzerHarness.Verify<TAnalyzer>(source, ("Stage2.cs", Geometry), ("Stage2.PamtGen.g.cs", Generated.Value));
}
