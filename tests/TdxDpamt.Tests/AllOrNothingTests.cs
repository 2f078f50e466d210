using PamtGen;
using PamtGen.MemoryMaps;
using TdxDpamt.Dpamt;
using TdxDpamt.Kernel;
using Xunit.Abstractions;

namespace TdxDpamt.Tests;

/// <summary>
/// Beyond the kernel: every memory range's populate is all or nothing, and teardown reclaims the page tables. For each
/// bundled map and every allocation k of a clean build, failing allocation k leaves the model exactly as it was before
/// the failing alloc_pamt_refcount() call; a full teardown then leaves only the root table allocated.
/// </summary>
public class AllOrNothingTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("01-laptop-lenovo-t14g3.e820")]
    [InlineData("03-server2s-dell-r740-256g.e820")]
    [InlineData("04-server2s-supermicro-h11dsu-1t.e820")]
    [InlineData("08-vm-qemu-i440fx-16g.e820")]
    public void Every_failed_range_populate_leaves_the_model_as_before_and_teardown_leaves_only_the_root(string name)
    {
        var map = MemoryMap.Load(ReportFigureTests.MapPath(name));
        long attempts = Build(map, failAttempt: null, out _);
        int runs = 0;
        for (long k = 1; k <= attempts; k++, runs++)
        {
            Build(map, k, out bool failed);
            Assert.True(failed, $"allocation {k} of {attempts} did not fail a populate");
        }

        output.WriteLine($"{name}: {attempts} allocations in the clean build, {runs} injected runs, each rolled back exactly");
        Assert.Equal(attempts, runs);
    }

    [Fact]
    public void The_report_states_the_reclaimed_page_tables()
    {
        var report = TdxDpamt.Report.DpamtReport.Measure(MemoryMap.Load(ReportFigureTests.MapPath("04-server2s-supermicro-h11dsu-1t.e820")));
        Assert.Equal(report.PageTablePages, report.ReclaimedPageTablePages);
        Assert.Contains("page-table pages reclaimed", TdxDpamt.Report.ReportFormatter.Table(report, "map"));
    }

    /// <summary>Builds range by range; checks a failing call changed nothing; tears down; returns the populate's allocations.</summary>
    private static long Build(MemoryMap map, long? failAttempt, out bool failed)
    {
        var kernel = new TdxKernel(map);
        var design = new FixedDpamt();
        Assert.Equal(0, design.InitPamtMetadata(kernel));
        // Attempts counted from here; a scope that fails nothing when the build runs clean.
        var injection = failAttempt is { } k ? kernel.Allocator.FailNth(k) : kernel.Allocator.FailAfter(int.MaxValue);
        failed = false;
        foreach (var range in map.ForEachMemPfnRange())
        {
            ulong start = Math.Max(range.Start, DpamtDesign.FirstTdxPfn);
            if (start >= range.End)
            {
                continue;
            }

            var tablesBefore = kernel.InitMm.Snapshot();
            var statsBefore = kernel.Allocator.Stats;
            int err = design.AllocPamtRefcount(kernel, start, range.End);
            if (err != 0)
            {
                Assert.Equal(-Errno.ENOMEM, err);
                Assert.Equal(tablesBefore, kernel.InitMm.Snapshot());
                Assert.Equal((statsBefore.DataPages, statsBefore.PageTablePages), (kernel.Allocator.Stats.DataPages, kernel.Allocator.Stats.PageTablePages));
                failed = true;
                break;
            }
        }

        long attempts = injection.Attempts;
        Assert.Equal(failAttempt is not null, injection.Injected);
        injection.Dispose();
        design.FreePamtMetadata(kernel);
        DpamtDesign.ReclaimPageTables(kernel);
        Assert.Equal((0L, 1L), (kernel.Allocator.Stats.DataPages, kernel.Allocator.Stats.PageTablePages)); // only the root
        return attempts;
    }
}
