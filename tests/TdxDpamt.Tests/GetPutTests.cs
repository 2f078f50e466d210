using PamtGen;
using PamtGen.MemoryMaps;
using TdxDpamt.Dpamt;
using TdxDpamt.Kernel;

namespace TdxDpamt.Tests;

/// <summary>tdx_pamt_get()/tdx_pamt_put(): every transition and error path of docs/KERNEL.md section 1.</summary>
public class GetPutTests
{
    /// <summary>RAM in two ranges with a hole from 256 MiB to 8 GiB: the refcount page of 4 GiB is never populated.</summary>
    private static (TdxKernel Kernel, ulong Pfn) Boot()
    {
        var map = MemoryMap.FromEntries(
        [
            new E820Entry(1UL << 20, 256UL << 20, E820Type.Ram),
            new E820Entry(8UL << 30, (8UL << 30) + (256UL << 20), E820Type.Ram),
        ]);
        var kernel = new TdxKernel(map);
        var design = new FixedDpamt();
        Assert.Equal(0, design.InitPamtMetadata(kernel));
        Assert.Equal(0, design.BuildTdxMemlist(kernel, []));
        return (kernel, 0x8000 + 5); // a PFN at 128 MiB
    }

    private static int Count(TdxKernel k, ulong pfn) => k.InitMm.AtomicAt(DpamtDesign.TdxFindPamtRefcount(k, pfn));

    [Fact]
    public void Zero_to_one_allocates_the_backing_pages_and_calls_add()
    {
        var (k, pfn) = Boot();
        long pages = k.Allocator.Stats.DataPages;
        Assert.Equal(0, DpamtDesign.TdxPamtGet(k, pfn));
        Assert.Equal(1, Count(k, pfn));
        Assert.Equal(pages + 2, k.Allocator.Stats.DataPages);
        Assert.Equal((1L, 1), (k.Module.Adds, k.Module.BackedRegions));
    }

    [Fact]
    public void One_to_two_and_two_to_one_touch_nothing_else()
    {
        var (k, pfn) = Boot();
        Assert.Equal(0, DpamtDesign.TdxPamtGet(k, pfn));
        var stats = k.Allocator.Stats;
        Assert.Equal(0, DpamtDesign.TdxPamtGet(k, pfn + 1)); // the same 2 MiB region
        Assert.Equal(2, Count(k, pfn));
        DpamtDesign.TdxPamtPut(k, pfn);
        Assert.Equal(1, Count(k, pfn));
        Assert.Equal(stats, k.Allocator.Stats);
        Assert.Equal((1L, 0L), (k.Module.Adds, k.Module.Removes));
    }

    [Fact]
    public void One_to_zero_calls_remove_and_frees_the_pages()
    {
        var (k, pfn) = Boot();
        long pages = k.Allocator.Stats.DataPages;
        Assert.Equal(0, DpamtDesign.TdxPamtGet(k, pfn));
        DpamtDesign.TdxPamtPut(k, pfn);
        Assert.Equal(0, Count(k, pfn));
        Assert.Equal(pages, k.Allocator.Stats.DataPages);
        Assert.Equal((1L, 0), (k.Module.Removes, k.Module.BackedRegions));
    }

    [Fact]
    public void An_add_failure_is_eio_frees_the_pages_and_leaves_the_count_at_zero()
    {
        var (k, pfn) = Boot();
        k.Module.FailAdd = _ => true;
        var stats = k.Allocator.Stats;
        Assert.Equal(-Errno.EIO, DpamtDesign.TdxPamtGet(k, pfn));
        Assert.Equal(0, Count(k, pfn));
        Assert.Equal(stats.DataPages, k.Allocator.Stats.DataPages);
        Assert.Equal(stats.Frees + 2, k.Allocator.Stats.Frees);
        Assert.Single(k.Warnings, w => w.Contains("PAMT.ADD failed", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void An_allocation_failure_is_enomem_with_nothing_allocated(int failingPage)
    {
        var (k, pfn) = Boot();
        var stats = k.Allocator.Stats;
        using var failure = k.Allocator.FailNth(failingPage);
        Assert.Equal(-Errno.ENOMEM, DpamtDesign.TdxPamtGet(k, pfn));
        Assert.True(failure.Injected);
        Assert.Equal(0, Count(k, pfn));
        Assert.Equal(stats.DataPages, k.Allocator.Stats.DataPages);
        Assert.Equal(0, k.Module.Adds);
    }

    [Fact]
    public void A_remove_failure_leaks_the_pages_on_purpose_and_restores_the_count_to_one()
    {
        var (k, pfn) = Boot();
        Assert.Equal(0, DpamtDesign.TdxPamtGet(k, pfn));
        long pages = k.Allocator.Stats.DataPages;
        k.Module.FailRemove = _ => true;
        DpamtDesign.TdxPamtPut(k, pfn);
        Assert.Equal(1, Count(k, pfn));
        Assert.Equal(pages, k.Allocator.Stats.DataPages); // the backing pages stay allocated: they may hold module data
        Assert.Single(k.Warnings, w => w.Contains("PAMT.REMOVE failed", StringComparison.Ordinal));
    }

    [Fact]
    public void Touching_the_refcount_of_a_pfn_in_a_hole_oopses()
    {
        var (k, _) = Boot();
        ulong hole = (4UL << 30) >> 12; // 4 GiB: its refcount page lies between the populated ones
        var oops = Assert.Throws<KernelOopsException>(() => DpamtDesign.TdxPamtGet(k, hole));
        Assert.Equal(DpamtDesign.TdxFindPamtRefcount(k, hole), oops.Address);
    }

    [Fact]
    public void Putting_more_than_was_got_is_a_kernel_bug()
    {
        var (k, pfn) = Boot();
        Assert.Throws<KernelBugException>(() => DpamtDesign.TdxPamtPut(k, pfn));
    }
}
