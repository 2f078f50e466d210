using PamtGen;
using PamtGen.MemoryMaps;
using TdxDpamt.Dpamt;
using TdxDpamt.Kernel;
using Xunit.Abstractions;
using PamtGen.Testing;

namespace TdxDpamt.Tests;

/// <summary>
/// tdx_pamt_get()/tdx_pamt_put() from 8 threads with random PAMT.ADD failures: 8 x 50 000 in CI, 8 x 1 000 000 with
/// PAMTGEN_FUZZ_CASES=100000. Final counts exact, allocator balanced, no BUG.
/// </summary>
[Trait(Category.Name, Category.Slow)]
public class StressTests(ITestOutputHelper output)
{
    [Fact]
    public void Gets_and_puts_with_random_add_failures_balance_exactly()
    {
        const int threads = 8, pfnCount = 64;
        int operations = FuzzSize.LongRun ? 1_000_000 : 50_000;
        var kernel = new TdxKernel(MemoryMap.Load(ReportFigureTests.MapPath("03-server2s-dell-r740-256g.e820")));
        var design = new FixedDpamt();
        Assert.Equal(0, design.InitPamtMetadata(kernel));
        Assert.Equal(0, design.BuildTdxMemlist(kernel, []));
        long refcountPages = kernel.Allocator.Stats.DataPages;
        var failures = new Random(77);
        kernel.Module.FailAdd = _ => failures.Next(10) == 0; // called under the module's lock
        var pfns = Enumerable.Range(0, pfnCount).Select(i => 0x100000UL + ((ulong)i * 512 * 3)).ToArray();
        var held = new long[threads, pfnCount];
        long eio = 0;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var rng = new Random(t + 100);
            for (int op = 0; op < operations; op++)
            {
                int i = rng.Next(pfnCount);
                if (held[t, i] > 0 && rng.Next(2) == 0)
                {
                    DpamtDesign.TdxPamtPut(kernel, pfns[i]);
                    held[t, i]--;
                }
                else if (DpamtDesign.TdxPamtGet(kernel, pfns[i]) is var err && err == 0)
                {
                    held[t, i]++;
                }
                else
                {
                    Assert.Equal(-Errno.EIO, err);
                    Interlocked.Increment(ref eio);
                }
            }
        });

        for (int i = 0; i < pfnCount; i++)
        {
            long expected = Enumerable.Range(0, threads).Sum(t => held[t, i]);
            Assert.Equal(expected, kernel.InitMm.AtomicAt(DpamtDesign.TdxFindPamtRefcount(kernel, pfns[i])));
            for (int t = 0; t < threads; t++)
            {
                for (; held[t, i] > 0; held[t, i]--)
                {
                    DpamtDesign.TdxPamtPut(kernel, pfns[i]);
                }
            }
        }

        output.WriteLine($"{threads} x {operations} operations, {eio} PAMT.ADD failures (-EIO), {kernel.Module.Adds} ADD calls, {kernel.Module.Removes} REMOVE calls");
        Assert.True(eio > 0);
        Assert.Equal(refcountPages, kernel.Allocator.Stats.DataPages);
        Assert.Equal(0, kernel.Module.BackedRegions);
        Assert.Equal(eio, kernel.Warnings.Count);
    }
}
