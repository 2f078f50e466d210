using PamtGen;
using PamtGen.MemoryMaps;
using TdxDpamt.Dpamt;
using TdxDpamt.Kernel;
using TdxDpamt.Report;

namespace TdxDpamt.Tests;

/// <summary>The v4 teardown's floor against the one generated size: the leak measured on the model.</summary>
public class SizingTests
{
    [Fact]
    public void Max_pfn_one_past_2_pow_28_leaks_one_page_in_v4_and_none_in_the_fixed_design()
    {
        // RAM ending 4 KiB after 1 TiB: max_pfn = (1 << 28) + 1. v4 reserves DIV_ROUND_UP(max_pfn, 512) * 4 bytes
        // (513 pages) but tears down max_pfn / 512 * 4 rounded up (512 pages): the refcount page of the last 2 MiB
        // is never depopulated.
        var map = MemoryMap.FromEntries([new E820Entry(1UL << 20, ((1UL << 28) + 1) << 12, E820Type.Ram)]);
        Assert.Equal((1UL << 28) + 1, map.MaxPfn);
        Assert.Equal(1UL, LeakedAfterTeardown(new SeedV4(), map));
        Assert.Equal(0UL, LeakedAfterTeardown(new FixedDpamt(), map));
        Assert.Equal(1UL, DpamtReport.Measure(map).V4TeardownLeakedPages);
    }

    [Fact]
    public void Max_pfn_a_multiple_of_512_leaks_nothing_in_either()
    {
        var map = MemoryMap.FromEntries([new E820Entry(1UL << 20, 1UL << 40, E820Type.Ram)]);
        Assert.Equal(0UL, map.MaxPfn % 512);
        Assert.Equal(0UL, LeakedAfterTeardown(new SeedV4(), map));
        Assert.Equal(0UL, LeakedAfterTeardown(new FixedDpamt(), map));
    }

    [Fact]
    public void V4_populate_allocates_before_the_check_and_frees_where_ranges_share_a_refcount_page()
    {
        // Two ranges in the same 2 GiB: the second one's refcount page is already populated.
        var map = MemoryMap.FromEntries([new E820Entry(1UL << 20, 1UL << 30, E820Type.Ram), new E820Entry(3UL << 29, 7UL << 28, E820Type.Ram)]);
        Assert.Equal(1UL, DpamtReport.Measure(map).V4PopulateWastedAllocations);
        var kernel = new TdxKernel(map);
        var design = new FixedDpamt();
        Assert.Equal(0, design.InitPamtMetadata(kernel));
        long before = kernel.Allocator.Stats.Frees;
        Assert.Equal(0, design.BuildTdxMemlist(kernel, []));
        Assert.Equal(before, kernel.Allocator.Stats.Frees); // the fixed populate never frees
    }

    private static ulong LeakedAfterTeardown(DpamtDesign design, MemoryMap map)
    {
        var kernel = new TdxKernel(map);
        Assert.Equal(0, design.InitPamtMetadata(kernel));
        Assert.Equal(0, design.BuildTdxMemlist(kernel, []));
        design.FreePamtMetadata(kernel);
        return (ulong)kernel.Allocator.LeakReport().Count(l => l.Purpose == PagePurpose.Data);
    }
}
