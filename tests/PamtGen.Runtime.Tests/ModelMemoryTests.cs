using PamtGen.MemoryMaps;
using Xunit.Abstractions;

namespace PamtGen.Runtime.Tests;

/// <summary>Tests that measure the whole process's managed memory run alone, so no other test's allocations count.</summary>
[CollectionDefinition(nameof(MemoryMeasurement), DisableParallelization = true)]
public sealed class MemoryMeasurement;

[Collection(nameof(MemoryMeasurement))]
public class ModelMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public void Model_memory_is_proportional_to_pages_in_use_not_to_a_52_bit_address_space()
    {
        // 16 nodes of 256 GiB spread over the 4 PiB (52-bit) physical address space, max_pfn ~ 2^40:
        // the seed's refcount area for it spans 8 GiB of virtual space, and populating it for the RAM
        // takes 4 TiB / 2 GiB = 2048 refcount pages plus their page tables.
        const ulong nodeBytes = 256UL << 30, stride = 1UL << 48;
        var ram = Enumerable.Range(0, 16).Select(n => new E820Entry((ulong)n * stride + stride / 2, (ulong)n * stride + stride / 2 + nodeBytes, E820Type.Ram));
        var map = MemoryMap.FromEntries(ram);
        long before = GC.GetTotalMemory(forceFullCollection: true);

        var allocator = new PageAllocator(map.ForEachMemPfnRange());
        var mm = new Mm(Geometry.X86_64FiveLevel, allocator);
        var vm = new VmallocSpace(mm);
        ulong areaSize = (map.MaxPfn + 511) / 512 * 4;
        var area = vm.GetVmArea(areaSize, VmFlags.Sparse)!;
        foreach (var range in map.ForEachMemPfnRange())
        {
            ulong first = area.Addr + (range.Start >> 9) * 4, last = area.Addr + ((range.End - 1) >> 9) * 4;
            ulong start = first & ~4095UL, end = (last + 4 + 4095) & ~4095UL;
            Assert.Equal(0, ReferenceWalkers.ApplyToPageRange(mm, start, end - start, KernelCallbacks.PopulateIfNone, mm));
        }

        long after = GC.GetTotalMemory(forceFullCollection: true);
        var stats = allocator.Stats;
        long modelBytes = after - before;
        long pageBytes = stats.AllocatedPages * 4096;
        output.WriteLine($"max_pfn 0x{map.MaxPfn:x}; refcount area {areaSize >> 20} MiB of VA; pages allocated {stats.AllocatedPages} "
            + $"({stats.DataPages} data, {stats.PageTablePages} page-table) = {pageBytes >> 10} KiB; model's managed memory {modelBytes >> 10} KiB "
            + $"= {(double)modelBytes / pageBytes:F3}x; process peak working set {System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 >> 20} MiB");
        Assert.Equal(2048, stats.DataPages);
        Assert.InRange(modelBytes, pageBytes, pageBytes * 11 / 10 + (256 << 10));
        GC.KeepAlive(vm);
    }
}
