using BenchmarkDotNet.Attributes;
using PamtGen.MemoryMaps;
using X86_64 = TdxDpamt.X86_64;
using TdxDpamt.Dpamt;
using TdxDpamt.Kernel;

namespace PamtGen.Benchmarks;

/// <summary>
/// tdx_find_pamt_refcount() and an atomic increment, for 4096 random PFNs of present RAM on the 1 TiB Supermicro map:
/// the dense array (a vmalloc of the whole array, baseline), the seed's sparse area, and a two-level directory.
/// </summary>
[MemoryDiagnoser]
public class LookupBenchmarks
{
    private const int Lookups = 4096;
    private TdxKernel _kernel = null!;
    private ulong _dense;
    private Page?[] _directory = [];
    private ulong[] _pfns = [];

    [GlobalSetup]
    public void Setup()
    {
        var map = MemoryMap.Load(Path.Combine(AppContext.BaseDirectory, "memmaps", "04-server2s-supermicro-h11dsu-1t.e820"));
        _kernel = new TdxKernel(map);
        var memlist = new List<PfnRange>();
        var design = new FixedDpamt();
        if (design.InitPamtMetadata(_kernel) != 0 || design.BuildTdxMemlist(_kernel, memlist) != 0)
        {
            throw new InvalidOperationException("populate failed");
        }

        _dense = _kernel.Vmalloc.Vmalloc(X86_64.RefcountAreaSize(map.MaxPfn), Gfp.Zero);
        _directory = new Page?[X86_64.TwoLevelDirectorySlots(map.MaxPfn)];
        foreach (var range in memlist)
        {
            for (ulong slot = X86_64.TwoLevelDirectoryIndex(range.Start); slot <= X86_64.TwoLevelDirectoryIndex(range.End - 1); slot++)
            {
                _directory[slot] ??= _kernel.Allocator.AllocPage(Gfp.Zero);
            }
        }

        var random = new Random(2025);
        _pfns = Enumerable.Range(0, Lookups).Select(_ =>
        {
            var range = memlist[random.Next(memlist.Count)];
            return range.Start + (ulong)random.NextInt64((long)range.Pages);
        }).ToArray();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Lookups, Description = "dense (vmalloc of the whole array)")]
    public int Dense()
    {
        int last = 0;
        foreach (ulong pfn in _pfns)
        {
            last = Interlocked.Increment(ref _kernel.InitMm.AtomicAt(_dense + (X86_64.PfnToRefcountIndex(pfn) * X86_64.RefcountSize)));
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Lookups, Description = "sparse (the seed's area)")]
    public int Sparse()
    {
        int last = 0;
        foreach (ulong pfn in _pfns)
        {
            last = Interlocked.Increment(ref _kernel.InitMm.AtomicAt(DpamtDesign.TdxFindPamtRefcount(_kernel, pfn)));
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Lookups, Description = "two-level directory")]
    public int TwoLevel()
    {
        int last = 0;
        foreach (ulong pfn in _pfns)
        {
            last = Interlocked.Increment(ref _directory[X86_64.TwoLevelDirectoryIndex(pfn)]!.AtomicAt((int)X86_64.TwoLevelRefcountOffset(pfn)));
        }

        return last;
    }
}
