using PamtGen;
using PamtGen.MemoryMaps;
using TdxDpamt.Dpamt;
using TdxDpamt.Kernel;

namespace TdxDpamt.Tests;

public class ConcurrencyTests
{
    [Fact]
    public void Eight_threads_of_random_gets_and_puts_end_with_exact_counts_and_a_balanced_allocator()
    {
        const int threads = 8, operations = 100_000, pfnCount = 64;
        var map = MemoryMap.Load(ReportFigureTests.MapPath("03-server2s-dell-r740-256g.e820"));
        var kernel = new TdxKernel(map);
        var design = new FixedDpamt();
        Assert.Equal(0, design.InitPamtMetadata(kernel));
        Assert.Equal(0, design.BuildTdxMemlist(kernel, []));
        long refcountPages = kernel.Allocator.Stats.DataPages;

        // 64 PFNs in distinct 2 MiB regions of RAM above 4 GiB, and a few sharing one region.
        var pfns = Enumerable.Range(0, pfnCount).Select(i => 0x100000UL + ((ulong)(i < 56 ? i : 56) * 512) + (ulong)i).ToArray();
        var held = new long[threads, pfnCount];
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var rng = new Random(t + 1);
            for (int op = 0; op < operations; op++)
            {
                int i = rng.Next(pfnCount);
                if (held[t, i] > 0 && rng.Next(2) == 0)
                {
                    DpamtDesign.TdxPamtPut(kernel, pfns[i]);
                    held[t, i]--;
                }
                else
                {
                    Assert.Equal(0, DpamtDesign.TdxPamtGet(kernel, pfns[i]));
                    held[t, i]++;
                }
            }
        });

        // Each region's count equals the gets minus the puts of every thread, over the PFNs in it.
        foreach (var region in Enumerable.Range(0, pfnCount).GroupBy(i => pfns[i] >> 9))
        {
            long expected = region.Sum(i => Enumerable.Range(0, threads).Sum(t => held[t, i]));
            Assert.Equal(expected, kernel.InitMm.AtomicAt(DpamtDesign.TdxFindPamtRefcount(kernel, pfns[region.First()])));
        }

        for (int t = 0; t < threads; t++)
        {
            for (int i = 0; i < pfnCount; i++)
            {
                for (; held[t, i] > 0; held[t, i]--)
                {
                    DpamtDesign.TdxPamtPut(kernel, pfns[i]);
                }
            }
        }

        Assert.Equal(refcountPages, kernel.Allocator.Stats.DataPages); // every PAMT backing page came back
        Assert.Equal(0, kernel.Module.BackedRegions);
        Assert.Equal(kernel.Module.Adds, kernel.Module.Removes);
        design.FreePamtMetadata(kernel);
        Assert.Equal(0, kernel.Allocator.Stats.DataPages);
    }
}
