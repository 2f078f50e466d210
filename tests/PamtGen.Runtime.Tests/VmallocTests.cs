using static PamtGen.Pgtable;

namespace PamtGen.Runtime.Tests;

public class VmallocTests
{
    private readonly Machine _m = new(Geometry.X86_64FourLevel);

    private VmallocSpace NewSpace() => new(_m.Mm);

    [Fact]
    public void Areas_are_page_aligned_lowest_first_and_separated_by_a_guard_page()
    {
        var vm = NewSpace();
        var a = vm.GetVmArea(1, VmFlags.Sparse)!;
        var b = vm.GetVmArea(3 * 4096 + 1, VmFlags.Sparse)!;
        Assert.Equal(vm.VmallocStart, a.Addr);
        Assert.Equal(4096UL, a.Size);
        Assert.Equal(a.End + 4096, b.Addr); // the guard page after a
        Assert.Equal(4 * 4096UL, b.Size);
        Assert.Null(vm.GetVmArea(0, VmFlags.Sparse));
        Assert.Null(vm.GetVmArea(vm.VmallocEnd - vm.VmallocStart, VmFlags.Sparse)); // no room for it and its guard
        Assert.Equal(0, _m.Allocator.Stats.DataPages); // address space only
        vm.Vfree(a.Addr);
        Assert.Equal(a.Addr, vm.GetVmArea(4096, VmFlags.Sparse)!.Addr); // first fit reuses the freed hole
    }

    [Fact]
    public void Vmalloc_maps_every_page_and_vfree_unmaps_and_frees_them()
    {
        var vm = NewSpace();
        ulong addr = vm.Vmalloc(10 * 4096, Gfp.Zero);
        Assert.NotEqual(0UL, addr);
        Assert.Equal(10, _m.Allocator.Stats.DataPages);
        Assert.All(Machine.Pages(addr, 10, 4096), a => Assert.True(_m.Mm.IsMapped(a)));
        Assert.False(_m.Mm.IsMapped(addr + 10 * 4096)); // the guard page
        Assert.Equal(0, _m.Mm.AtomicAt(addr + 8 * 4096 + 12));
        vm.Vfree(addr);
        Assert.Equal(0, _m.Allocator.Stats.DataPages);
        Assert.All(Machine.Pages(addr, 10, 4096), a => Assert.False(_m.Mm.IsMapped(a)));
        Assert.Empty(vm.Areas);
        Assert.True(_m.Allocator.Stats.PageTablePages > 1); // vmalloc's page tables stay, as in the kernel
    }

    [Fact]
    public void Vmalloc_without_gfp_zero_returns_poisoned_pages()
    {
        ulong addr = NewSpace().Vmalloc(4096);
        Assert.Equal(unchecked((int)0xaaaaaaaa), _m.Mm.AtomicAt(addr));
    }

    [Fact]
    public void A_failed_vmalloc_returns_0_and_leaves_nothing_behind()
    {
        var vm = NewSpace();
        vm.Vmalloc(4096); // the page tables exist now
        var before = _m.Allocator.Stats;
        _m.Allocator.FaultInjection = FailPageAlloc.Nth(before.Attempts + 5);
        Assert.Equal(0UL, vm.Vmalloc(8 * 4096));
        Assert.Equal(before.DataPages, _m.Allocator.Stats.DataPages);
        Assert.Single(vm.Areas);
    }

    [Fact]
    public void Vfree_of_a_sparse_area_unmaps_but_does_not_free_the_callers_pages()
    {
        var vm = NewSpace();
        var area = vm.GetVmArea(8 * 4096, VmFlags.Sparse)!;
        Assert.Equal(0, ReferenceWalkers.ApplyToPageRange(_m.Mm, area.Addr + 4096, 2 * 4096, KernelCallbacks.PopulateIfNone, _m.Mm));
        var mapped = _m.Allocator.LeakReport().Where(l => l.Purpose == PagePurpose.Data).ToArray();
        Assert.Equal(2, mapped.Length);
        vm.Vfree(area.Addr);
        Assert.False(_m.Mm.IsMapped(area.Addr + 4096));
        // Not depopulated first: leaked, and the leak report names them.
        Assert.Equal(mapped, _m.Allocator.LeakReport().Where(l => l.Purpose == PagePurpose.Data));
        Assert.Contains($"pfn 0x{mapped[0].Pfn:x} (data)", _m.Allocator.FormatLeakReport());
    }

    [Fact]
    public void Touching_an_unmapped_address_oopses_naming_it()
    {
        var vm = NewSpace();
        var area = vm.GetVmArea(4 * 4096, VmFlags.Sparse)!;
        ulong addr = area.Addr + 2 * 4096 + 8;
        var oops = Assert.Throws<KernelOopsException>(() => _m.Mm.AtomicAt(addr));
        Assert.Equal(addr, oops.Address);
        Assert.Contains($"0x{addr:x16}", oops.Message);
        Assert.Throws<KernelOopsException>(() => _m.Mm.Deref<long>(0xffff888000000000)); // no table at all there
    }

    [Fact]
    public void A_refcount_at_a_virtual_address_is_a_ref_int_for_interlocked()
    {
        var vm = NewSpace();
        var area = vm.GetVmArea(4096, VmFlags.Sparse)!;
        Assert.Equal(0, ReferenceWalkers.ApplyToPageRange(_m.Mm, area.Addr, 4096, KernelCallbacks.PopulateIfNone, _m.Mm));
        ulong refcount = area.Addr + 17 * 4;
        Parallel.For(0, 8, _ =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                Interlocked.Increment(ref _m.Mm.AtomicAt(refcount));
            }
        });
        Assert.Equal(80_000, _m.Mm.AtomicAt(refcount));
        Assert.Throws<ArgumentException>(() => _m.Mm.AtomicAt(refcount + 1)); // misaligned
    }

    [Fact]
    public void A_huge_leaf_maps_the_pages_below_it()
    {
        // A 2 MiB leaf maps an aligned 2 MiB: allocate (ascending PFNs) up to a 512-aligned one and the two after it.
        var first = _m.Allocator.AllocPage(Gfp.Zero)!;
        while (first.Pfn % 512 != 0)
        {
            first = _m.Allocator.AllocPage(Gfp.Zero)!;
        }

        var data = new[] { first, _m.Allocator.AllocPage(Gfp.Zero)!, _m.Allocator.AllocPage(Gfp.Zero)! };
        ulong addr = _m.Base + 7 * _m.PmdSize;
        Assert.True(_m.Mm.SetEntry(PageTableLevel.Pmd, addr, PfnPmdHuge(data[0].Pfn, PageKernel).Value));
        _m.Mm.AtomicAt(addr + 2 * 4096 + 4) = 42;
        Assert.Equal(42, data[2].AtomicAt(4));
    }

    [Fact]
    public void Vfree_of_nothing_is_a_no_op_and_of_an_unknown_address_a_bug()
    {
        var vm = NewSpace();
        vm.Vfree(0);
        var bug = Assert.Throws<KernelBugException>(() => vm.Vfree(vm.VmallocStart + 4096));
        Assert.Contains("nonexistent vm area", bug.Message);
    }
}
