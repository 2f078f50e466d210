using PamtGen;
using PamtGen.MemoryMaps;
using TdxDpamt.Dpamt;
using TdxDpamt.Kernel;

namespace TdxDpamt.Report;

/// <summary>
/// What the refcount schemes cost on one machine. The sparse figures and the v4 defects are measured on the
/// model (pages the allocator handed out, freed again, or still holds after teardown); the dense and two-level
/// figures are the generated layout arithmetic.
/// </summary>
public sealed record DpamtReport(
    ulong MaxPfn,
    int TdxRanges,
    ulong PresentBytes,
    ulong DenseRefcountBytes,
    ulong DensePages,
    ulong SparsePages,
    ulong SparseBytes,
    ulong PageTablePages,
    ulong TwoLevelPages,
    ulong V4TeardownLeakedPages,
    ulong V4PopulateWastedAllocations)
{
    /// <summary>Page-table pages the fixed design's teardown reclaimed with FreeEmptyTables (beyond the kernel; not a JSON key).</summary>
    public ulong ReclaimedPageTablePages { get; init; }

    /// <summary>Runs both variants on the model of <paramref name="map"/> and measures them.</summary>
    public static DpamtReport Measure(MemoryMap map)
    {
        var (memlist, fixedRun) = Run(new FixedDpamt(), map);
        if (fixedRun.LeakedPages != 0)
        {
            throw new KernelBugException($"the fixed design leaked {fixedRun.LeakedPages} page(s) on {map.Source}");
        }

        var (_, seedRun) = Run(new SeedV4(), map);
        ulong maxPfn = map.MaxPfn;
        ulong presentPages = memlist.Aggregate(0UL, (sum, r) => sum + r.Pages);

        // Two-level: a directory of refcount-page slots, and one refcount page per slot that has TDX memory.
        var slots = new SortedSet<ulong>();
        foreach (var range in memlist)
        {
            for (ulong slot = X86_64.TwoLevelDirectoryIndex(range.Start); slot <= X86_64.TwoLevelDirectoryIndex(range.End - 1); slot++)
            {
                slots.Add(slot);
            }
        }

        return new DpamtReport(
            maxPfn,
            memlist.Count,
            presentPages * X86_64.PageSize,
            X86_64.DenseRefcountBytes(maxPfn),
            X86_64.DenseRefcountPages(maxPfn),
            fixedRun.RefcountPages,
            fixedRun.RefcountPages * X86_64.PageSize,
            fixedRun.PageTablePages,
            X86_64.TwoLevelDirectoryPages(maxPfn) + (ulong)slots.Count,
            seedRun.LeakedPages,
            seedRun.WastedAllocations)
        {
            ReclaimedPageTablePages = fixedRun.ReclaimedTables,
        };
    }

    /// <summary>Boots the model, populates the refcounts of every TDX range with <paramref name="design"/>, and tears them down.</summary>
    private static (List<PfnRange> Memlist, Measured Run) Run(DpamtDesign design, MemoryMap map)
    {
        var kernel = new TdxKernel(map);
        var memlist = new List<PfnRange>();
        Check(design, design.InitPamtMetadata(kernel), "init_pamt_metadata");
        var before = kernel.Allocator.Stats;
        Check(design, design.BuildTdxMemlist(kernel, memlist), "build_tdx_memlist");
        var populated = kernel.Allocator.Stats;
        design.FreePamtMetadata(kernel);
        var leaked = kernel.Allocator.LeakReport().Count(l => l.Purpose == PagePurpose.Data);
        int reclaimed = design is FixedDpamt ? DpamtDesign.ReclaimPageTables(kernel) : 0;
        return (memlist, new Measured(
            (ulong)(populated.DataPages - before.DataPages),
            (ulong)(populated.PageTablePages - before.PageTablePages),
            (ulong)(populated.Frees - before.Frees),
            (ulong)leaked,
            (ulong)reclaimed));
    }

    private static void Check(DpamtDesign design, int ret, string what)
    {
        if (ret != 0)
        {
            throw new InvalidOperationException($"{design.Name}: {what}() failed with {ret}: the model machine is out of memory");
        }
    }

    private sealed record Measured(ulong RefcountPages, ulong PageTablePages, ulong WastedAllocations, ulong LeakedPages, ulong ReclaimedTables);
}
