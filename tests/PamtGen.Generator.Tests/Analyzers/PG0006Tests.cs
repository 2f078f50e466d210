using Microsoft.CodeAnalysis.Diagnostics;
using PamtGen.CodeFixes;
using PamtGen.Generator.Analyzers;
using PamtGen.Testing;

namespace PamtGen.Generator.Tests.Analyzers;

/// <summary>
/// PG0006 on callbacks over arm64 stage-2 and stage-1 tables and an x86 one (the geometries and what the generator makes
/// of them are handed to the analyzer as the sources they are in a real build), and its fix: the clear and the
/// invalidation inserted before the write, alone and by Fix All in the document, the project and the solution.
/// </summary>
public class PG0006Tests
{
    internal const string Geometries = """
        using PamtGen;
        using PamtGen.Formats;

        [PageTableGeometry(PageShift = 12, Levels = 4, VirtualAddressBits = 48)]
        [Arm64Stage2Granule4KEntryFormat]
        public static partial class Stage2;

        [PageTableGeometry(PageShift = 12, Levels = 4, VirtualAddressBits = 48)]
        [Arm64Stage1Granule4KEntryFormat]
        public static partial class Stage1;

        [PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48)]
        [X86_64EntryFormat]
        public static partial class X86;

        /// <summary>arm64's pgtable-hwdef.h bits, as the ported callbacks spell them (PROT_NS_SHARED: the top address bit of a realm).</summary>
        public static class Arm64Bits
        {
            public const ulong PteValid = 1UL << 0, PteRdonly = 1UL << 7, PteDbm = 1UL << 51, PteCont = 1UL << 52, PtePxn = 1UL << 53, ProtNsShared = 1UL << 47;
            public static readonly PgProt Pxn = new(PtePxn);
        }
        """;

    internal static readonly Lazy<(string Name, string Text)[]> Sources = new(() =>
        [("Geometries.cs", Geometries), .. GeneratorHarness.Run(Geometries).GeneratedTrees.Select(t => (Path.GetFileName(t.FilePath), t.ToString()))]);

    public static TheoryData<string> Reported => new()
    {
        // A valid stage-2 page pointed at another page in place (what KVM's stage-2 code must never do).
        """
        Stage2.Entry entry = PtepGet(pte);
        if (!entry.IsValid(PageTableLevel.Pte)) return 0;
        {|PG0006:SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(data.Kept!.PhysAddr).WithAccessFlag(true))|};
        return 0;
        """,
        // The memory type of a live mapping changed in place (MemAttr is break-before-make on change).
        """
        Stage2.Entry entry = PtepGet(pte);
        if (entry.IsNone) return 0;
        {|PG0006:SetPteAt(data.Mm, addr, pte, entry.WithMemAttr(0b0101))|};
        return 0;
        """,
        // Shareability changed through a local, after a permission change of the same entry.
        """
        Stage2.Entry entry = PtepGet(pte);
        var changed = entry.WithS2AccessPermissions(1).WithShareability(2);
        {|PG0006:SetPteAt(data.Mm, addr, pte, changed)|};
        return 0;
        """,
        // Stage 1: nG set on a global mapping (break-before-make when set).
        """
        Stage1.Entry entry = PtepGet(pte);
        {|PG0006:SetPteAt(data.Mm, addr, pte, entry.WithNotGlobal(true))|};
        return 0;
        """,
        // The break without the invalidation: the TLB may still hold the old page.
        """
        Stage2.Entry entry = PtepGet(pte);
        if (!entry.IsValid(PageTableLevel.Pte)) return 0;
        PteClear(data.Mm, addr, pte);
        {|PG0006:SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(data.Kept!.PhysAddr))|};
        return 0;
        """,
        // Invalidated before the clear instead of after it.
        """
        if (PteNone(PtepGet(pte))) return 0;
        FlushTlbKernelRange(data.Mm, addr, addr + data.Mm.Geometry.PageSize);
        PteClear(data.Mm, addr, pte);
        {|PG0006:SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(data.Kept!.PhysAddr))|};
        return 0;
        """,
        // Invalidated on one branch only.
        """
        if (PteNone(PtepGet(pte))) return 0;
        PteClear(data.Mm, addr, pte);
        if (addr != 0)
        {
            FlushTlbKernelRange(data.Mm, addr, addr + data.Mm.Geometry.PageSize);
        }
        {|PG0006:SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(data.Kept!.PhysAddr))|};
        return 0;
        """,
        // Gathered, but flushed after the new entry is written.
        """
        var gather = new TlbGather();
        if (PteNone(PtepGet(pte))) return 0;
        PteClear(data.Mm, addr, pte);
        gather.Add(addr, data.Mm.Geometry.PageSize);
        {|PG0006:SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(data.Kept!.PhysAddr))|};
        gather.Flush(data.Mm);
        return 0;
        """,
        // A new mapping written without looking: the PTE may be valid (PG0001 says so too).
        """
        {|PG0006:SetPteAt(data.Mm, addr, pte, Stage2.Entry.KernelPage(data.Kept!.PhysAddr))|};
        return 0;
        """,
        // A permission change is fine, but the remap after it is not: both entries may be in the TLB.
        """
        Stage2.Entry entry = PtepGet(pte);
        if (!entry.IsValid(PageTableLevel.Pte)) return 0;
        SetPteAt(data.Mm, addr, pte, entry.WithS2AccessPermissions(1));
        PteClear(data.Mm, addr, pte);
        {|PG0006:SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(data.Kept!.PhysAddr))|};
        return 0;
        """,
        // In a loop: the second pass writes over the first pass's entry.
        """
        if (!PteNone(PtepGet(pte))) return 0;
        for (int i = 0; i < (int)(addr & 3); i++)
        {
            {|PG0006:SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(data.Kept!.PhysAddr + ((ulong)i << 16)))|};
        }
        return 0;
        """,
        // The old entry was a table (a block replacing it, as stage2_map_walker_try_leaf() may): invalidating one page leaves
        // the walk caches and the leaves under the table cached for the rest of the range.
        """
        Stage2.Entry old = PtepGet(pte);
        if (!old.IsTable(PageTableLevel.Pmd)) return 0;
        PteClear(data.Mm, addr, pte);
        data.Mm.Tlb?.InvalidateAddress(addr);
        {|PG0006:SetPteAt(data.Mm, addr, pte, Stage2.Entry.Block(PageTableLevel.Pmd, data.Kept!.PhysAddr))|};
        return 0;
        """,
        // __set_memory_enc_dec() without its flush between the break and the make: the old output address may be cached.
        """
        Stage1.Entry entry = PtepGet(pte);
        Pte broken = ClearPteBit(SetPteBit(entry, new PgProt(ProtNsShared)), new PgProt(PteValid));
        SetPteAt(data.Mm, addr, pte, broken);
        {|PG0006:SetPteAt(data.Mm, addr, pte, SetPteBit(broken, new PgProt(PteValid)))|};
        return 0;
        """,
        // The generic bit helpers with a memory-type bit (AttrIndx[0]) on a live entry: not a permission change.
        """
        Stage1.Entry entry = PtepGet(pte);
        if (!entry.IsValid(PageTableLevel.Pte)) return 0;
        {|PG0006:SetPteAt(data.Mm, addr, pte, SetPteBit(entry, new PgProt(1UL << 2)))|};
        return 0;
        """,
        // The Contiguous bit set on a live entry, through the helpers or the With-er: a change of block size.
        """
        Stage1.Entry entry = PtepGet(pte);
        if (!entry.IsValid(PageTableLevel.Pte)) return 0;
        {|PG0006:SetPteAt(data.Mm, addr, pte, SetPteBit(entry, new PgProt(PteCont)))|};
        return 0;
        """,
        """
        Stage2.Entry entry = PtepGet(pte);
        if (entry.IsNone) return 0;
        {|PG0006:SetPteAt(data.Mm, addr, pte, entry.WithContiguous(true))|};
        return 0;
        """,
        // A mask the rule cannot know (from the callback's data) may be anything.
        """
        Stage1.Entry entry = PtepGet(pte);
        if (!entry.IsValid(PageTableLevel.Pte)) return 0;
        {|PG0006:SetPteAt(data.Mm, addr, pte, SetPteBit(entry, data.Prot))|};
        return 0;
        """,
        // A bit set, then every bit cleared: the PTE is zero whatever it held, so the check finds it none on every path,
        // and the original, maybe valid, may still be cached. (Bits cleared undo bits set: a value once known not zero
        // may be zero again; found by the oracle fuzz, where the analysis had ruled this path out.)
        """
        SetPteAt(data.Mm, addr, pte, ClearPteBit(SetPteBit(PtepGet(pte), new PgProt(PteRdonly)), new PgProt(ulong.MaxValue)));
        if (PteNone(PtepGet(pte)))
            {|PG0006:SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(data.Kept!.PhysAddr))|};
        return 0;
        """,
    };

    public static TheoryData<string> Clean => new()
    {
        // KVM's stage2_try_break_pte() + stage2_make_pte() (arch/arm64/kvm/hyp/pgtable.c): the old entry, read before the
        // break, decides the invalidation: a table the range under it, a valid leaf its address, an invalid entry nothing.
        """
        Stage2.Entry old = PtepGet(pte);
        PteClear(data.Mm, addr, pte);
        if (old.IsTable(PageTableLevel.Pmd))
            data.Mm.Tlb?.InvalidateRange(addr & ~0x1fffffUL, 0x200000);
        else if (old.IsValid(PageTableLevel.Pmd))
            data.Mm.Tlb?.InvalidateAddress(addr);
        SetPteAt(data.Mm, addr, pte, Stage2.Entry.Block(PageTableLevel.Pmd, data.Kept!.PhysAddr));
        return 0;
        """,
        // The same with the old entry tested for validity only: an invalid old entry cannot be cached.
        """
        Stage2.Entry old = PtepGet(pte);
        PteClear(data.Mm, addr, pte);
        if (old.IsValid(PageTableLevel.Pte))
            FlushTlbKernelRange(data.Mm, addr, addr + data.Mm.Geometry.PageSize);
        SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(data.Kept!.PhysAddr));
        return 0;
        """,
        // stage2_split_walker(): a block broken, invalidated, and replaced by a table of pages mapping what it mapped.
        """
        Stage2.Entry old = PtepGet(pte);
        if (!old.IsLeaf(PageTableLevel.Pmd)) return 0;
        PteClear(data.Mm, addr, pte);
        data.Mm.Tlb?.InvalidateAddress(addr);
        SetPteAt(data.Mm, addr, pte, Stage2.Entry.Table(data.Kept!.PhysAddr));
        return 0;
        """,
        // __set_memory_enc_dec() (arch/arm64/mm/pageattr.c): the valid bit cleared with the address change is the break,
        // flush_tlb_kernel_range(), then the valid bit set: the make.
        """
        Stage1.Entry entry = PtepGet(pte);
        Pte broken = ClearPteBit(SetPteBit(entry, new PgProt(ProtNsShared)), new PgProt(PteValid));
        SetPteAt(data.Mm, addr, pte, broken);
        FlushTlbKernelRange(data.Mm, addr, addr + data.Mm.Geometry.PageSize);
        SetPteAt(data.Mm, addr, pte, SetPteBit(broken, new PgProt(PteValid)));
        return 0;
        """,
        // set_direct_map_invalid_noflush(), then set_direct_map_default_noflush(): the valid bit cleared and set again on an
        // entry whose address and attributes did not change (what the TLB may still hold is the same mapping).
        """
        Stage1.Entry entry = PtepGet(pte);
        SetPteAt(data.Mm, addr, pte, ClearPteBit(entry, new PgProt(PteValid)));
        SetPteAt(data.Mm, addr, pte, SetPteBit(ClearPteBit(entry, new PgProt(PteValid)), new PgProt(PteValid)));
        return 0;
        """,
        // The same, written on the raw value.
        """
        Stage1.Entry entry = PtepGet(pte);
        SetPteAt(data.Mm, addr, pte, new Pte(entry.Value & ~PteValid));
        SetPteAt(data.Mm, addr, pte, new Pte(entry.Value | PteValid));
        return 0;
        """,
        // set_memory_ro()/set_memory_x() through the generic bit helpers: PTE_RDONLY, PTE_DBM, PXN, whatever the entry is.
        """
        Stage1.Entry entry = PtepGet(pte);
        Pte changed = SetPteBit(ClearPteBit(entry, new PgProt(PteDbm)), new PgProt(PteRdonly));
        changed = ClearPteBit(changed, State.Pxn);
        SetPteAt(data.Mm, addr, pte, changed);
        return 0;
        """,
        // The Contiguous bit cleared while the entry is invalid, then the entry made valid: contpte_convert()'s order.
        """
        Stage1.Entry entry = PtepGet(pte);
        PteClear(data.Mm, addr, pte);
        FlushTlbKernelRange(data.Mm, addr, addr + data.Mm.Geometry.PageSize);
        SetPteAt(data.Mm, addr, pte, entry.WithContiguous(false));
        return 0;
        """,

        // The break done right: invalid entry, invalidation, new entry.
        """
        Stage2.Entry entry = PtepGet(pte);
        if (!entry.IsValid(PageTableLevel.Pte)) return 0;
        PteClear(data.Mm, addr, pte);
        FlushTlbKernelRange(data.Mm, addr, addr + data.Mm.Geometry.PageSize);
        SetPteAt(data.Mm, addr, pte, entry.WithMemAttr(0b0101));
        return 0;
        """,
        // A permission change of the live mapping (change_page_range()).
        """
        Stage2.Entry entry = PtepGet(pte);
        if (entry.IsNone) return 0;
        SetPteAt(data.Mm, addr, pte, entry.WithS2AccessPermissions(1).WithExecuteNever(true));
        return 0;
        """,
        // The access flag, twice, through a local assigned in a loop.
        """
        Stage2.Entry entry = PtepGet(pte);
        for (int i = 0; i < 2; i++)
        {
            entry = entry.WithAccessFlag(i == 0);
            SetPteAt(data.Mm, addr, pte, entry);
        }
        return 0;
        """,
        // Stage 1: nG cleared (break-before-make only when set).
        """
        Stage1.Entry entry = PtepGet(pte);
        SetPteAt(data.Mm, addr, pte, entry.WithNotGlobal(false).WithAccessPermissions(2));
        return 0;
        """,
        // arm64's change_page_range() (set_memory_ro()/set_memory_nx()) over the struct: AP and PXN, whatever their values.
        """
        Stage1.Entry entry = PtepGet(pte);
        entry = entry.WithAccessPermissions(addr > 0x1000 ? 2UL : 0UL);
        entry = entry.WithPrivilegedExecuteNever(addr > 0x2000);
        SetPteAt(data.Mm, addr, pte, entry);
        return 0;
        """,
        // x86 has no break-before-make: a remap in place is another rule's business.
        """
        X86.Entry entry = PtepGet(pte);
        if (!entry.IsValid(PageTableLevel.Pte)) return 0;
        SetPteAt(data.Mm, addr, pte, X86.Entry.Page(data.Kept!.PhysAddr));
        return 0;
        """,
        // A populate: the new page goes where there was none.
        """
        if (!((Stage2.Entry)PtepGet(pte)).IsNone) return 0;
        SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(data.Kept!.PhysAddr));
        return 0;
        """,
        // The mmu_gather way: gathered, flushed, then written.
        """
        var gather = new TlbGather();
        if (PteNone(PtepGet(pte))) return 0;
        PteClear(data.Mm, addr, pte);
        gather.Add(addr, data.Mm.Geometry.PageSize);
        gather.Flush(data.Mm);
        SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(data.Kept!.PhysAddr));
        return 0;
        """,
        // A gather handed to another method counts as flushed by it.
        """
        var gather = new TlbGather();
        if (PteNone(PtepGet(pte))) return 0;
        PteClear(data.Mm, addr, pte);
        gather.Add(addr, data.Mm.Geometry.PageSize);
        BlockMapping.UnmapRange(data.Mm, 0, 0, gather);
        SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(data.Kept!.PhysAddr));
        return 0;
        """,
        // The TLB model's own invalidation, through ?. (a space without a TLB caches nothing).
        """
        if (PteNone(PtepGet(pte))) return 0;
        PteClear(data.Mm, addr, pte);
        data.Mm.Tlb?.InvalidateAddress(addr);
        SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(data.Kept!.PhysAddr));
        return 0;
        """,
        // Bits cleared in a cleared entry leave it zero: no entry written, nothing to break.
        """
        if (PteNone(PtepGet(pte))) return 0;
        PteClear(data.Mm, addr, pte);
        SetPteAt(data.Mm, addr, pte, ClearPteBit(PtepGet(pte), new PgProt(PteRdonly)));
        return 0;
        """,
        // A permission bit cleared and the entry then found zero: its valid bits, the original's, were clear, so the
        // original was never cached and a new entry needs no invalidation (found by the oracle fuzz).
        """
        SetPteAt(data.Mm, addr, pte, ClearPteBit(PtepGet(pte), new PgProt(PteRdonly)));
        if (PteNone(PtepGet(pte)))
            SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(data.Kept!.PhysAddr));
        return 0;
        """,
        // The original found none, a permission bit cleared in it: still zero, so a check finding it populated is never
        // taken and the write there meets no valid entry (found by the long oracle fuzz).
        """
        if (!PteNone(PtepGet(pte))) return 0;
        SetPteAt(data.Mm, addr, pte, ClearPteBit(PtepGet(pte), new PgProt(PteRdonly)));
        if (!PteNone(PtepGet(pte)))
        {
            SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(data.Kept!.PhysAddr));
            SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(data.Kept!.PhysAddr));
        }
        return 0;
        """,
        // A valid entry with a permission bit cleared is still valid, so never zero: the none branch is not taken.
        """
        if (!PtePresent(PtepGet(pte))) return 0;
        SetPteAt(data.Mm, addr, pte, ClearPteBit(PtepGet(pte), new PgProt(PteRdonly)));
        if (PteNone(PtepGet(pte)))
            SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(data.Kept!.PhysAddr));
        return 0;
        """,
        // Raw entries with x86's helpers: no arm64 format in sight.
        """
        if (!PteNone(PtepGet(pte))) PteClear(data.Mm, addr, pte);
        SetPteAt(data.Mm, addr, pte, MkPte(data.Kept!, PageKernel));
        return 0;
        """,
    };

    [Theory]
    [MemberData(nameof(Reported))]
    public Task Reports_writes_that_skip_break_before_make(string body) =>
        AnalyzerHarness.Verify<BreakBeforeMakeAnalyzer>(WithArm64Bits(AnalyzerHarness.InCallback(body)), Sources.Value);

    [Theory]
    [MemberData(nameof(Clean))]
    public Task Leaves_writes_that_need_no_break_alone(string body) =>
        AnalyzerHarness.Verify<BreakBeforeMakeAnalyzer>(WithArm64Bits(AnalyzerHarness.InCallback(body)), Sources.Value);

    /// <summary>The callback with arm64's bit names in scope.</summary>
    internal static string WithArm64Bits(string source) =>
        source.Replace("using static PamtGen.Pgtable;\n", "using static PamtGen.Pgtable;\nusing static Arm64Bits;\n", StringComparison.Ordinal);

    [Fact]
    public async Task The_message_names_the_geometry_and_why()
    {
        var source = AnalyzerHarness.InCallback("""
            PteClear(data.Mm, addr, pte);
            SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(0));
            SetPteAt(data.Mm, addr, pte, Stage2.Entry.Page(0x10000));
            return 0;
            """);
        var trees = new[] { RepositorySources.Parse(source, "Callback.cs") }
            .Concat(Sources.Value.Select(s => RepositorySources.Parse(s.Text, s.Name)));
        var compilation = RepositorySources.Compile(trees);
        var diagnostics = await compilation.WithAnalyzers([new BreakBeforeMakeAnalyzer()]).GetAnalyzerDiagnosticsAsync();
        Assert.Equal(
            [
                "SetPteAt may change a Stage2 entry in a way that needs break-before-make, while the TLB may still hold the entry it held before (cleared or replaced, not invalidated since); write an invalid entry (PteClear) and invalidate the TLB (FlushTlbKernelRange) first",
                "SetPteAt may change a Stage2 entry in a way that needs break-before-make, over an entry that may still be valid; write an invalid entry (PteClear) and invalidate the TLB (FlushTlbKernelRange) first",
            ],
            diagnostics.OrderBy(d => d.Location.SourceSpan.Start).Select(d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(["Flush", "ClearAndFlush"], diagnostics.OrderBy(d => d.Location.SourceSpan.Start).Select(d => d.Properties[BreakBeforeMakeAnalyzer.InsertProperty]));
    }

    [Fact]
    public async Task The_doc_pages_example_reports_where_it_says()
    {
        string page = File.ReadAllText(Path.Combine(TestRepository.Root, "docs", "diagnostics", "PG0006.md"));
        string example = System.Text.RegularExpressions.Regex.Match(page, "```csharp\n(.*?)```", System.Text.RegularExpressions.RegexOptions.Singleline).Groups[1].Value;
        string source = "using PamtGen;\nusing static PamtGen.Pgtable;\n\npublic sealed class Guest { public Mm Mm = null!; public Page Next = null!; }\n\n"
            + "public static partial class Callbacks\n{\n" + example + "}\n";
        var trees = new[] { RepositorySources.Parse(source, "Example.cs") }.Concat(Sources.Value.Select(s => RepositorySources.Parse(s.Text, s.Name)));
        var compilation = RepositorySources.Compile(trees);
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error));
        var diagnostics = await compilation.WithAnalyzers([new BreakBeforeMakeAnalyzer()]).GetAnalyzerDiagnosticsAsync();
        var lines = source.Split('\n');
        var marked = Enumerable.Range(0, lines.Length).Where(i => lines[i].Contains("// PG0006", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, marked.Count);
        Assert.Equal(marked, diagnostics.Select(d => d.Location.GetLineSpan().StartLinePosition.Line).Order());
    }

    [Fact]
    public Task Fix_clears_and_flushes_before_a_write_over_a_valid_entry() => Fix(
        """
        Stage2.Entry entry = PtepGet(pte);
        if (entry.IsNone) return 0;
        // the new memory type
        {|PG0006:SetPteAt(data.Mm, addr, pte, entry.WithMemAttr(0b0101))|};
        return 0;
        """,
        """
        Stage2.Entry entry = PtepGet(pte);
        if (entry.IsNone) return 0;
        // the new memory type
        PteClear(data.Mm, addr, pte);
        FlushTlbKernelRange(data.Mm, addr, addr + data.Mm.Geometry.PageSize);
        SetPteAt(data.Mm, addr, pte, entry.WithMemAttr(0b0101));
        return 0;
        """);

    [Fact]
    public Task Fix_only_flushes_where_the_entry_was_cleared_already() => Fix(
        """
        if (PteNone(PtepGet(pte))) return 0;
        PteClear(data.Mm, addr, pte);
        {|PG0006:SetPteAt(data.Mm, addr + 0, pte, Stage2.Entry.Page(data.Kept!.PhysAddr))|};
        return 0;
        """,
        """
        if (PteNone(PtepGet(pte))) return 0;
        PteClear(data.Mm, addr, pte);
        FlushTlbKernelRange(data.Mm, addr + 0, addr + 0 + data.Mm.Geometry.PageSize);
        SetPteAt(data.Mm, addr + 0, pte, Stage2.Entry.Page(data.Kept!.PhysAddr));
        return 0;
        """);

    [Fact]
    public Task Fix_makes_a_block_of_a_lone_statement() => Fix(
        """
        Stage2.Entry entry = PtepGet(pte);
        if (entry.IsValid(PageTableLevel.Pte))
            {|PG0006:SetPteAt(data.Mm, addr, pte, entry.WithShareability(2))|};
        return 0;
        """,
        """
        Stage2.Entry entry = PtepGet(pte);
        if (entry.IsValid(PageTableLevel.Pte))
        {
            PteClear(data.Mm, addr, pte);
            FlushTlbKernelRange(data.Mm, addr, addr + data.Mm.Geometry.PageSize);
            SetPteAt(data.Mm, addr, pte, entry.WithShareability(2));
        }
        return 0;
        """);

    [Fact]
    public Task Fix_all_in_document_project_and_solution()
    {
        const string Before = """
            Stage2.Entry entry = PtepGet(pte);
            if (entry.IsNone) return 0;
            {|PG0006:SetPteAt(data.Mm, addr, pte, entry.WithMemAttr(1))|};
            if (addr == 0) return 0;
            PteClear(data.Mm, addr, pte);
            {|PG0006:SetPteAt(data.Mm, addr, pte, entry.WithMemAttr(2))|};
            return 0;
            """;
        const string After = """
            Stage2.Entry entry = PtepGet(pte);
            if (entry.IsNone) return 0;
            PteClear(data.Mm, addr, pte);
            FlushTlbKernelRange(data.Mm, addr, addr + data.Mm.Geometry.PageSize);
            SetPteAt(data.Mm, addr, pte, entry.WithMemAttr(1));
            if (addr == 0) return 0;
            PteClear(data.Mm, addr, pte);
            FlushTlbKernelRange(data.Mm, addr, addr + data.Mm.Geometry.PageSize);
            SetPteAt(data.Mm, addr, pte, entry.WithMemAttr(2));
            return 0;
            """;
        var test = AnalyzerHarness.FixTest<BreakBeforeMakeAnalyzer, BreakBeforeMakeCodeFix>(AnalyzerHarness.InCallback(Before, "A"), AnalyzerHarness.InCallback(After, "A"));
        test.TestState.Sources.Add(AnalyzerHarness.InCallback(Before, "B"));
        test.FixedState.Sources.Add(AnalyzerHarness.InCallback(After, "B"));
        foreach (var (name, text) in Sources.Value)
        {
            test.TestState.Sources.Add((name, text));
            test.FixedState.Sources.Add((name, text));
        }

        test.CodeActionEquivalenceKey = "Break before make";
        test.NumberOfFixAllInDocumentIterations = 2; // one document per pass
        test.NumberOfFixAllInProjectIterations = 1;
        test.NumberOfFixAllIterations = 1;
        return test.RunAsync();
    }

    private static Task Fix(string before, string after)
    {
        var test = AnalyzerHarness.FixTest<BreakBeforeMakeAnalyzer, BreakBeforeMakeCodeFix>(AnalyzerHarness.InCallback(before), AnalyzerHarness.InCallback(after));
        foreach (var (name, text) in Sources.Value)
        {
            test.TestState.Sources.Add((name, text));
            test.FixedState.Sources.Add((name, text));
        }

        return test.RunAsync();
    }
}
