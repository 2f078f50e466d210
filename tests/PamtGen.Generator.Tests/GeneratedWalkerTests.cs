using PamtGen.Generator.Probe;
using PamtGen.Generator.Probe.Callbacks;

namespace PamtGen.Generator.Tests;

/// <summary>The generated walkers used the way a consumer uses them: [PteCallback] adapters, no allocation (the geometry is checked by the compiler: <see cref="TypedAddressSpaceTests"/>).</summary>
public class GeneratedWalkerTests
{
    [Fact]
    public void The_seeds_populate_and_depopulate_run_through_the_generated_walkers_and_adapters()
    {
        var allocator = PageAllocator.Synthetic(4096);
        var mm = new X86_64FourLevel.AddressSpace(allocator);
        var area = new VmallocSpace(mm).GetVmArea(64 * 4096, VmFlags.Sparse)!;
        var state = new RefcountState(mm);

        // Two overlapping populates, as neighbouring RAM ranges share refcount pages.
        var populate = new RefcountCallbacks.PopulateFn(state);
        Assert.Equal(0, X86_64FourLevel.ApplyToPageRange(mm, area.Addr, 10 * 4096, ref populate));
        Assert.Equal(0, X86_64FourLevel.ApplyToPageRange(mm, area.Addr + 8 * 4096, 10 * 4096, ref populate));
        Assert.Equal(18, state.Populated);
        Assert.Equal(18, allocator.Stats.DataPages);

        var depopulate = new RefcountCallbacks.DepopulateFn(state);
        Assert.Equal(0, X86_64FourLevel.ApplyToExistingPageRange(mm, area.Addr, area.Size, ref depopulate));
        Assert.Equal(0, allocator.Stats.DataPages);
    }

    [Fact]
    public void Walks_over_existing_tables_allocate_nothing()
    {
        var allocator = PageAllocator.Synthetic(8192);
        var mm = new X86_64FourLevel.AddressSpace(allocator);
        ulong start = 0xffffc00000000000UL + (3UL << 21) - (100 * 4096);
        var state = new RefcountState(mm);
        var populate = new RefcountCallbacks.PopulateFn(state);
        Assert.Equal(0, X86_64FourLevel.ApplyToPageRange(mm, start, 1200 * 4096, ref populate)); // 100 + 512 + 512 + 76 pages: four PTE tables

        var sum = new SumFn();
        var ops = new CountOps();
        X86_64FourLevel.ApplyToExistingPageRange(mm, start, 1200 * 4096, ref sum); // JIT and first-call work out of the way
        X86_64FourLevel.WalkPageRange(mm, start, start + (1200 * 4096), ref ops);

        ops = default;
        long before = GC.GetAllocatedBytesForCurrentThread();
        int existing = X86_64FourLevel.ApplyToExistingPageRange(mm, start, 1200 * 4096, ref sum);
        int applied = X86_64FourLevel.ApplyToPageRange(mm, start, 1200 * 4096, ref sum); // tables exist: nothing to allocate
        int walked = X86_64FourLevel.WalkPageRange(mm, start - (1UL << 30), start + (1UL << 31), ref ops);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal((0, 0, 0), (existing, applied, walked));
        Assert.Equal(3 * 1200, sum.Calls);
        Assert.Equal(4 * 512, ops.Ptes); // every PTE of the four present tables
        Assert.True(ops.Holes > 0);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void A_range_across_the_non_canonical_hole_is_einval_not_a_crash()
    {
        // Regression: found by the 100 000-case differential run; the top-level index ran off the pgd.
        var mm = new X86_64FourLevel.AddressSpace(PageAllocator.Synthetic(64));
        var sum = new SumFn();
        var ops = new CountOps();
        ulong start = (1UL << 48) - 8192; // the last two pages below 2^48
        Assert.Equal(-Errno.EINVAL, X86_64FourLevel.ApplyToPageRange(mm, start, 4 * 4096, ref sum));
        Assert.Equal(-Errno.EINVAL, X86_64FourLevel.ApplyToExistingPageRange(mm, start, 4 * 4096, ref sum));
        Assert.Equal(-Errno.EINVAL, X86_64FourLevel.WalkPageRange(mm, start, start + (4 * 4096), ref ops));
        Assert.Equal(0, X86_64FourLevel.ApplyToPageRange(mm, start, 2 * 4096, ref sum));
        Assert.Equal(2, sum.Calls);
    }

    private struct SumFn : IPteFn
    {
        public ulong Sum;
        public int Calls;

        public int Invoke(PtePointer pte, ulong addr)
        {
            Sum += Pgtable.PtepGet(pte).Value;
            Calls++;
            return 0;
        }
    }

    private struct CountOps : IPageWalkOps
    {
        public int Ptes;
        public int Holes;

        public int PteEntry(PtePointer pte, ulong addr, ulong next)
        {
            Ptes++;
            return 0;
        }

        public int PteHole(ulong addr, ulong next, int depth)
        {
            Holes++;
            return 0;
        }

        public readonly int PmdEntry(PmdPointer pmd, ulong addr, ulong next) => 0;

        public readonly int PudEntry(PudPointer pud, ulong addr, ulong next) => 0;
    }
}
