using PamtGen.MemoryMaps;
using Xunit.Abstractions;

namespace PamtGen.Runtime.Tests;

/// <summary>
/// Exhaustive fault injection: the seed's populate of a sparse refcount area for every RAM range of a
/// bundled map, failing allocation k for every k the clean run makes; after each failure the seed's
/// teardown (apply_to_existing_page_range with the checking depopulate, then vfree) must leave no data
/// page allocated and must never free a page twice.
/// </summary>
public class FaultInjectionTests(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(BundledMaps.Names), MemberType = typeof(BundledMaps))]
    public void Every_failed_populate_is_torn_down_without_leaks_or_double_frees(string name)
    {
        var map = MemoryMap.Load(BundledMaps.PathOf(name));
        var clean = PopulateAndTearDown(map, failAttempt: null);
        Assert.Equal(0, clean.Error);
        Assert.Equal(0, clean.DataPagesLeft);
        Assert.True(clean.Attempts > 0);

        int runs = 0, leaks = 0;
        for (long k = 1; k <= clean.Attempts; k++)
        {
            var run = PopulateAndTearDown(map, failAttempt: k);
            Assert.Equal(-Errno.ENOMEM, run.Error); // every attempt of the clean run is on the populate path
            leaks += run.DataPagesLeft;
            runs++;
        }

        output.WriteLine($"{name}: {clean.Attempts} allocations in the clean run, {runs} injected runs, leaks found: {leaks}");
        Assert.Equal(clean.Attempts, runs);
        Assert.Equal(0, leaks);
    }

    /// <summary>init_pamt_metadata(), build_tdx_memlist() with the v4 populate, then free_pamt_metadata() sized with the page-rounded ceiling.</summary>
    private static (int Error, long Attempts, int DataPagesLeft) PopulateAndTearDown(MemoryMap map, long? failAttempt)
    {
        var allocator = new PageAllocator(map.ForEachMemPfnRange());
        var mm = new Mm(Geometry.X86_64FourLevel, allocator);
        var vm = new VmallocSpace(mm);
        ulong size = (map.MaxPfn + 511) / 512 * 4; // DIV_ROUND_UP(max_pfn, PTRS_PER_PTE) * sizeof(atomic_t)
        var area = vm.GetVmArea(size, VmFlags.Sparse)!;
        long setupAttempts = allocator.Stats.Attempts;
        if (failAttempt is { } k)
        {
            allocator.FaultInjection = FailPageAlloc.Nth(setupAttempts + k);
        }

        int err = 0;
        foreach (var range in map.ForEachMemPfnRange())
        {
            ulong startPfn = Math.Max(range.Start, 0x100); // the first 1 MiB is skipped
            if (startPfn >= range.End)
            {
                continue;
            }

            ulong first = area.Addr + (startPfn >> 9) * 4, last = area.Addr + ((range.End - 1) >> 9) * 4;
            ulong mapStart = first & ~4095UL, mapEnd = (last + 4 + 4095) & ~4095UL;
            err = ReferenceWalkers.ApplyToPageRange(mm, mapStart, mapEnd - mapStart, KernelCallbacks.SeedV4Populate, mm);
            if (err != 0)
            {
                break; // build_tdx_memlist(): goto err
            }
        }

        long attempts = allocator.Stats.Attempts - setupAttempts;
        ReferenceWalkers.ApplyToExistingPageRange(mm, area.Addr, (size + 4095) & ~4095UL, KernelCallbacks.Depopulate, mm);
        vm.Vfree(area.Addr);
        return (err, attempts, (int)allocator.Stats.DataPages);
    }
}
