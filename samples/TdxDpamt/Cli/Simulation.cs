using System.Text;
using PamtGen;
using PamtGen.MemoryMaps;
using TdxDpamt.Dpamt;
using TdxDpamt.Kernel;

namespace TdxDpamt.Cli;

/// <summary>
/// <c>simulate</c>: init, populate, a random get/put workload from several threads, every reference put back,
/// teardown; then the allocator's accounting and leak report. Failure is a leak or a kernel BUG.
/// </summary>
public static class Simulation
{
    /// <summary>The outcome: the text to print and whether the model ended clean.</summary>
    public sealed record Result(string Text, bool Clean);

    /// <summary>Runs the simulation of <paramref name="map"/>.</summary>
    public static Result Run(MemoryMap map, long? failNth, int ops, int threads, int seed)
    {
        var text = new StringBuilder();
        var kernel = new TdxKernel(map);
        var design = new FixedDpamt();
        var memlist = new List<PfnRange>();
        if (failNth is { } nth)
        {
            kernel.Allocator.FaultInjection = FailPageAlloc.Nth(kernel.Allocator.Stats.Attempts + nth);
            text.Append($"fault injection: allocation {nth} after boot fails\n");
        }

        try
        {
            int ret = design.InitPamtMetadata(kernel);
            ret = ret != 0 ? ret : design.BuildTdxMemlist(kernel, memlist);
            text.Append($"init + build_tdx_memlist: {(ret == 0 ? "ok" : $"failed with {ret}")}; {memlist.Count} TDX ranges, {kernel.Allocator.Stats.DataPages} refcount pages\n");
            if (ret == 0 && ops > 0)
            {
                var (gets, failed) = Workload(kernel, memlist, ops, threads, seed);
                text.Append($"workload: {ops} operations on {threads} thread(s): {gets} gets, {failed} failed gets, every reference put back; {kernel.Module.Adds} PAMT.ADD, {kernel.Module.Removes} PAMT.REMOVE, {kernel.Module.BackedRegions} regions still backed\n");
            }

            design.FreePamtMetadata(kernel);
        }
        catch (Exception e) when (e is KernelBugException or KernelOopsException)
        {
            text.Append(e.Message).Append('\n');
            return new Result(text.ToString(), Clean: false);
        }

        var stats = kernel.Allocator.Stats;
        text.Append($"allocator: {stats.Attempts} allocations, {stats.Failures} failed, {stats.Frees} frees; peak {stats.PeakPages} pages ({stats.PeakDataPages} data, {stats.PeakPageTablePages} page-table)\n");
        foreach (string warning in kernel.Warnings)
        {
            text.Append("WARNING: ").Append(warning).Append('\n');
        }

        int leaked = kernel.Allocator.LeakReport().Count(l => l.Purpose == PagePurpose.Data);
        text.Append(leaked == 0
            ? $"leak report: no data page left ({stats.PageTablePages} page-table pages stay with init_mm, as the kernel's vmalloc tables do)\n"
            : "leak report: " + kernel.Allocator.FormatLeakReport());
        return new Result(text.ToString(), Clean: leaked == 0 && kernel.Module.BackedRegions == 0);
    }

    /// <summary>Random tdx_pamt_get()/tdx_pamt_put() on up to 64 2 MiB regions of TDX memory; each thread puts back what it got.</summary>
    private static (long Gets, long Failed) Workload(TdxKernel kernel, List<PfnRange> memlist, int ops, int threads, int seed)
    {
        var pick = new Random(seed);
        var pfns = Enumerable.Range(0, 64).Select(_ =>
        {
            var range = memlist[pick.Next(memlist.Count)];
            return range.Start + (ulong)pick.NextInt64(0, (long)range.Pages);
        }).ToArray();
        long gets = 0, failed = 0;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, thread =>
        {
            var rng = new Random(seed * 7919 + thread);
            var held = new List<ulong>();
            for (int i = thread; i < ops; i += threads)
            {
                if (held.Count > 0 && rng.Next(2) == 0)
                {
                    int at = rng.Next(held.Count);
                    DpamtDesign.TdxPamtPut(kernel, held[at]);
                    held[at] = held[^1];
                    held.RemoveAt(held.Count - 1);
                }
                else
                {
                    ulong pfn = pfns[rng.Next(pfns.Length)];
                    if (DpamtDesign.TdxPamtGet(kernel, pfn) == 0)
                    {
                        held.Add(pfn);
                        Interlocked.Increment(ref gets);
                    }
                    else
                    {
                        Interlocked.Increment(ref failed);
                    }
                }
            }

            held.ForEach(pfn => DpamtDesign.TdxPamtPut(kernel, pfn));
        });
        return (gets, failed);
    }
}
