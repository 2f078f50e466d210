using PamtGen.MemoryMaps;
using TdxDpamt.Report;

namespace TdxDpamt.Tests;

/// <summary>
/// Every figure of the report, for each bundled map, against a derivation written here from the map's TDX ranges
/// (listed by hand: the memblock ranges of the file, the first 1 MiB dropped) with plain arithmetic on refcount
/// page numbers: the refcount of PFN p is byte (p / 512) * 4 of the area, so its page is p / 2^19.
/// </summary>
public class ReportFigureTests
{
    [Fact]
    public void Laptop() => AssertFigures("01-laptop-lenovo-t14g3.e820", 0x85f800, [(0x100, 0x8ba3f), (0x917ff, 0x91800), (0x100000, 0x85f800)]);

    [Fact]
    public void Dell_r740() => AssertFigures("03-server2s-dell-r740-256g.e820", 0x4080000, [(0x100, 0x488f4), (0x508fc, 0x682ff), (0x6ffff, 0x70000), (0x100000, 0x4080000)]);

    [Fact]
    public void Supermicro_h11dsu() => AssertFigures(
        "04-server2s-supermicro-h11dsu-1t.e820",
        0x1002ff80,
        [
            (0x100, 0x76db0), (0x77000, 0xc9d5f), (0xc9dd2, 0xc9e85), (0xcacc9, 0xcc000), (0x100000, 0x202f380),
            (0x2030000, 0x402ff80), (0x4030000, 0x602ff80), (0x6030000, 0x802ff80), (0x8030000, 0xa02ff80),
            (0xa030000, 0xc02ff80), (0xc030000, 0xe02ff80), (0xe030000, 0x1002ff80),
        ]);

    [Fact]
    public void Qemu_i440fx() => AssertFigures("08-vm-qemu-i440fx-16g.e820", 0x440000, [(0x100, 0xbffdf), (0x100000, 0x440000)]);

    internal static string MapPath(string name) => Path.Combine(AppContext.BaseDirectory, "memmaps", name);

    private static void AssertFigures(string name, ulong maxPfn, (ulong Start, ulong End)[] tdxRanges)
    {
        var expected = Derive(maxPfn, tdxRanges);
        var actual = DpamtReport.Measure(MemoryMap.Load(MapPath(name)));
        Assert.Equal(expected, actual);
    }

    /// <summary>The figures from first principles.</summary>
    internal static DpamtReport Derive(ulong maxPfn, (ulong Start, ulong End)[] tdxRanges)
    {
        const ulong pfnsPerRefcountPage = 512 * 1024; // 512 PFNs per 2 MiB refcount, 1024 refcounts per page

        // Populate, range by range: the refcount pages [first, last] of each range; a page already populated by an
        // earlier range is one the v4 populate allocates and frees again.
        var populated = new SortedSet<ulong>();
        ulong wasted = 0;
        foreach (var (start, end) in tdxRanges)
        {
            for (ulong page = start / pfnsPerRefcountPage; page <= (end - 1) / pfnsPerRefcountPage; page++)
            {
                if (!populated.Add(page))
                {
                    wasted++;
                }
            }
        }

        // The area starts the vmalloc space (0xffffc00000000000, aligned far above 2^39): one PTE table per 512
        // pages, one pmd table per 512 PTE tables, one pud table per 512 pmd tables (the pgd exists already).
        ulong pageTables = (ulong)(populated.Select(p => p >> 9).Distinct().Count() + populated.Select(p => p >> 18).Distinct().Count() + populated.Select(p => p >> 27).Distinct().Count());

        ulong denseBytes = (maxPfn + 511) / 512 * 4;
        ulong densePages = (denseBytes + 4095) / 4096;
        ulong directoryPages = (((maxPfn + pfnsPerRefcountPage - 1) / pfnsPerRefcountPage * 8) + 4095) / 4096;

        // v4's teardown depopulates round_up(max_pfn / 512 * 4, 4096) bytes: pages at or past that leak.
        ulong teardownPages = ((maxPfn / 512 * 4) + 4095) / 4096;
        ulong leaked = (ulong)populated.Count(p => p >= teardownPages);

        // The fixed teardown's FreeEmptyTables over the vmalloc space frees every table the populate installed.
        return new DpamtReport(
            maxPfn,
            tdxRanges.Length,
            tdxRanges.Aggregate(0UL, (sum, r) => sum + ((r.End - r.Start) * 4096)),
            denseBytes,
            densePages,
            (ulong)populated.Count,
            (ulong)populated.Count * 4096,
            pageTables,
            directoryPages + (ulong)populated.Count,
            leaked,
            wasted)
        {
            ReclaimedPageTablePages = pageTables,
        };
    }
}
