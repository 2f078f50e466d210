using PamtGen.Formats;
using static PamtGen.Pgtable;

namespace PamtGen.Runtime.Tests;

/// <summary>
/// The runtime side of entry formats: reading a declaration by reflection, refusing impossible ones as the generator
/// does, the kernel helpers of <see cref="Pgtable"/> being exactly the x86-64 format's, and concatenated roots in the allocator.
/// </summary>
public class EntryFormatRuntimeTests
{
    [Fact]
    public void Pgtable_is_the_x86_64_format_and_agrees_with_its_declaration()
    {
        // The flag names of PteFlags are the x86-64 format's fields, at the same bits: one layout, declared once in the format.
        var x86 = EntryFormat.X86_64;
        var fields = x86.Fields.Where(f => f.Low == f.High).GroupBy(f => f.Name).ToDictionary(g => g.Key, g => g.Select(f => f.Low).ToArray());
        Assert.Equal([1], fields["Writable"]);
        Assert.Equal((ulong)PteFlags.ReadWrite, 1UL << fields["Writable"][0]);
        Assert.Equal((ulong)PteFlags.Accessed, 1UL << fields["Accessed"][0]);
        Assert.Equal((ulong)PteFlags.Dirty, 1UL << fields["Dirty"][0]);
        Assert.Equal((ulong)PteFlags.Global, 1UL << fields["Global"][0]);
        Assert.Equal((ulong)PteFlags.Special, 1UL << x86.Fields.Single(f => f.Name == "Software").Low); // _PAGE_SPECIAL is software bit 1 (bit 9)
        Assert.Equal(x86.Declaration.TableBits, KernPgTable.Value);
        Assert.Equal(x86.Declaration.PageBits, PageKernel.Value);
        Assert.Equal(PfnShift, x86.Declaration.TableAddressLow);

        var g = Geometry.X86_64FourLevel;
        var allocator = PageAllocator.Synthetic(4);
        var page = allocator.AllocPage(Gfp.Zero)!;
        Assert.True(g.IsLeafEntry(PageTableLevel.Pte, MkPte(page, PageKernel).Value));
        Assert.Equal(page.PhysAddr, g.LeafAddress(PageTableLevel.Pte, MkPte(page, PageKernel).Value));
        Assert.True(g.IsLeafEntry(PageTableLevel.Pmd, PfnPmdHuge(0x200, PageKernel).Value) == PmdLeaf(PfnPmdHuge(0x200, PageKernel)));
        Assert.Equal(g.MakeTableEntry(page.PhysAddr), PfnPte(page.Pfn, KernPgTable).Value);
    }

    [Theory]
    [InlineData("x86-64 4-level")]
    [InlineData("arm64 64K")]
    public void Vmalloc_maps_its_pages_with_the_formats_page_bits(string name)
    {
        var m = new Machine(WalkerRuleTests.Of(name));
        var vm = new VmallocSpace(m.Mm);
        ulong addr = vm.Vmalloc(2 * m.P, Gfp.Kernel);
        Assert.NotEqual(0UL, addr);
        Assert.True(m.Mm.TryGetEntry(PageTableLevel.Pte, addr, out ulong pte));
        var g = m.Geometry;
        Assert.True(g.IsLeafEntry(PageTableLevel.Pte, pte));
        Assert.Equal(g.Format.Declaration.PageBits | g.LeafAddress(PageTableLevel.Pte, pte) | (name.StartsWith("arm64", StringComparison.Ordinal) ? 0x3UL : 0x1UL), pte);
        if (name.StartsWith("x86", StringComparison.Ordinal))
        {
            Assert.Equal(MkPte(m.Allocator.PfnToPage(g.LeafAddress(PageTableLevel.Pte, pte) >> g.PageShift), PageKernel).Value, pte); // as before formats
        }
    }

    [Fact]
    public void A_format_is_read_from_the_geometry_class_or_one_ready_made_attribute()
    {
        Assert.Equal("arm64 stage 2, 4K granule", EntryFormat.Of(typeof(Arm64Stage2Granule4KEntryFormatAttribute)).Name);
        Assert.Equal("x86-64", EntryFormat.Of(typeof(WithPreset)).Name);
        Assert.Equal("own", EntryFormat.Of(typeof(WithOwn)).Name);
        Assert.Contains("declares no entry format", Assert.Throws<ArgumentException>(() => EntryFormat.Of(typeof(string))).Message);
        Assert.Contains("declares 2 entry formats", Assert.Throws<ArgumentException>(() => EntryFormat.Of(typeof(WithTwo))).Message);
        Assert.Contains("'TableAddressHigh' is required", Assert.Throws<ArgumentException>(() => EntryFormat.Of(typeof(Incomplete))).Message);
    }

    [Fact]
    public void A_geometry_refuses_a_format_that_does_not_fit_it_with_the_generators_words()
    {
        // arm64 4K stage 1 has a level-1 (pud) block; 2 levels fold the pud (their top entries are pmd entries).
        var wrong = EntryFormat.Of(typeof(Arm64Stage1Granule4KEntryFormatAttribute));
        var e = Assert.Throws<ArgumentException>(() => new Geometry(12, 512, 8, 2, 30, "2 levels with 4K arm64 entries", wrong));
        Assert.Contains("2 levels fold Pud into the table above it, whose entries are checked as Pmd entries", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new Geometry(12, 512, 8, 3, 40, rootTables: 4, format: EntryFormat.Of(typeof(Arm64Stage2Granule4KEntryFormatAttribute))));
        Assert.Throws<ArgumentException>(() => new Geometry(12, 512, 8, 3, 40)); // 40 bits on 3 levels need 2 root tables
        Assert.Equal(1024, new Geometry(12, 512, 8, 3, 40, rootTables: 2, format: EntryFormat.Of(typeof(Arm64Stage2Granule4KEntryFormatAttribute))).PtrsPer(PageTableLevel.Pgd));
        Assert.Throws<ArgumentException>(() => new Geometry(10, 128, 8, 3, 30)); // x86's default needs 4 KiB pages
    }

    [Fact]
    public void Concatenated_root_tables_are_contiguous_aligned_zeroed_and_freed_as_one()
    {
        var allocator = PageAllocator.Synthetic(64, 12, firstPfn: 0x103);
        var root = allocator.AllocPageTables(4, 512)!;
        Assert.Equal(0x104UL, root.Pfn);
        Assert.Equal(4, root.Pages);
        var memory = new ModelMemory(allocator);
        Assert.All(Enumerable.Range(0, 2048), i => Assert.Equal(0UL, memory.Read(root, i, MemoryOrder.Once))); // 2048 entries, all zero
        Assert.Throws<IndexOutOfRangeException>(() => memory.Read(root, 2048, MemoryOrder.Once));
        Assert.Equal(4, allocator.Stats.PageTablePages);
        Assert.Equal([0x104UL, 0x105, 0x106, 0x107], allocator.LeakReport().Select(l => l.Pfn));
        Assert.Equal(0x103UL, allocator.AllocPage(Gfp.Zero)!.Pfn); // the page skipped for the alignment is used first
        allocator.FreePage(root);
        Assert.Equal(0, allocator.Stats.PageTablePages);
        Assert.False(allocator.IsAllocated(0x106));
        Assert.Throws<KernelBugException>(() => allocator.FreePage(root));
        Assert.Throws<ArgumentOutOfRangeException>(() => allocator.AllocPageTables(3, 512));
    }

    [Fact]
    public void A_concatenated_root_fails_when_no_aligned_run_is_left_or_by_fault_injection()
    {
        var small = PageAllocator.Synthetic(3, 12, firstPfn: 0x101); // 0x101-0x103: no aligned run of 4
        Assert.Null(small.AllocPageTables(4, 512));
        Assert.Equal(1, small.Stats.Failures);
        var injected = PageAllocator.Synthetic(64, 12);
        injected.FaultInjection = FailPageAlloc.Nth(1);
        Assert.Null(injected.AllocPageTables(2, 512));
        Assert.Equal(0, injected.Stats.PageTablePages);
    }

    [X86_64EntryFormat]
    private static class WithPreset;

    [EntryFormat(Name = "own", PhysicalAddressBits = 48, TableAddressLow = 12, TableAddressHigh = 47)]
    [EntryLeaf(PageTableLevel.Pte, AddressLow = 12, AddressHigh = 47)]
    private static class WithOwn;

    [X86_64EntryFormat]
    [X86NonPaeEntryFormat]
    private static class WithTwo;

    [EntryFormat(PhysicalAddressBits = 48, TableAddressLow = 12)]
    private static class Incomplete;
}
