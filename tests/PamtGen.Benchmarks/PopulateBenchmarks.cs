using BenchmarkDotNet.Attributes;
using PamtGen.MemoryMaps;
using TdxDpamt.Dpamt;
using TdxDpamt.Kernel;

namespace PamtGen.Benchmarks;

/// <summary>
/// The fixed TDX design populating and tearing down the refcounts of 1 TiB of RAM: contiguous (baseline), and as 16
/// nodes spread over a 52-bit (4 PiB) physical address space; and the SeedV4 populate, which allocates before its check.
/// Each operation boots a model machine, runs init, build_tdx_memlist and free_pamt_metadata.
/// </summary>
[MemoryDiagnoser]
public class PopulateBenchmarks
{
    private static readonly MemoryMap Contiguous = MemoryMap.FromEntries([new E820Entry(1UL << 20, (1UL << 40) + (1UL << 20), E820Type.Ram)]);

    private static readonly MemoryMap Spread = MemoryMap.FromEntries(
        Enumerable.Range(0, 16).Select(n => new E820Entry(((ulong)n << 48) + (1UL << 40), ((ulong)n << 48) + (1UL << 40) + (64UL << 30), E820Type.Ram)));

    /// <summary>The refcount pages each layout populates (for the memory target: allocated bytes against these pages).</summary>
    public static long PopulatedPages(MemoryMap map) => Run(new FixedDpamt(), map, teardown: false);

    [Benchmark(Baseline = true, Description = "fixed, 1 TiB contiguous")]
    public long FixedContiguous() => Run(new FixedDpamt(), Contiguous, teardown: true);

    [Benchmark(Description = "fixed, 16 x 64 GiB over 4 PiB")]
    public long FixedSpread() => Run(new FixedDpamt(), Spread, teardown: true);

    [Benchmark(Description = "SeedV4, 1 TiB contiguous")]
    public long SeedV4Contiguous() => Run(new SeedV4(), Contiguous, teardown: true);

    private static long Run(DpamtDesign design, MemoryMap map, bool teardown)
    {
        var kernel = new TdxKernel(map);
        if (design.InitPamtMetadata(kernel) != 0 || design.BuildTdxMemlist(kernel, []) != 0)
        {
            throw new InvalidOperationException("populate failed");
        }

        long pages = kernel.Allocator.Stats.DataPages;
        if (teardown)
        {
            design.FreePamtMetadata(kernel);
        }

        return pages;
    }
}
