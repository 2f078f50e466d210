using PamtGen.MemoryMaps;

namespace PamtGen.Runtime.Tests;

/// <summary>
/// The four bundled real maps. Each expected value is derived by hand from the file's "usable" and
/// "ACPI data" lines: an inclusive end E becomes the exclusive end E + 1, a range's pages are
/// PFN_UP(start) .. PFN_DOWN(end), and max_pfn is the highest PFN_DOWN(end) of usable and ACPI data.
/// </summary>
public class RealMemoryMapTests
{
    [Fact]
    public void Laptop_lenovo_t14g3()
    {
        // usable 0x0-0x9efff                  -> [0x0, 0x9f000)             -> PFN 0x0..0x9f          =     159 pages
        // usable 0x100000-0x8ba3efff          -> [0x100000, 0x8ba3f000)     -> PFN 0x100..0x8ba3f     = 571 711 pages (0x8b93f)
        // usable 0x917ff000-0x917fffff        -> [0x917ff000, 0x91800000)   -> PFN 0x917ff..0x91800   =       1 page
        // usable 0x100000000-0x85f7fffff      -> [0x100000000, 0x85f800000) -> PFN 0x100000..0x85f800 = 7 731 200 pages (0x75f800)
        // No two are adjacent: 4 ranges, 159 + 571 711 + 1 + 7 731 200 = 8 303 071 pages (31.67 GiB, as SOURCES.md says).
        // max_pfn: the last usable range ends at 0x85f800000 >> 12 = 0x85f800; ACPI data ends lower (0x917ff).
        AssertMap(BundledMaps.Laptop, maxPfn: 0x85f800, ranges: 4, pages: 8_303_071);
    }

    [Fact]
    public void Server_dell_r740_256g()
    {
        // usable 0x0-0x9ffff                  -> PFN 0x0..0xa0            =        160 pages
        // usable 0x100000-0x488f3fff          -> PFN 0x100..0x488f4       =    296 948 pages (0x487f4)
        // usable 0x508fc000-0x682fefff        -> PFN 0x508fc..0x682ff     =     96 771 pages (0x17a03)
        // usable 0x6ffff000-0x6fffffff        -> PFN 0x6ffff..0x70000     =          1 page
        // usable 0x100000000-0x407fffffff     -> PFN 0x100000..0x4080000  = 66 584 576 pages (0x3f80000)
        // 5 ranges, 66 978 456 pages (255.50 GiB). max_pfn = 0x4080000000 >> 12 = 0x4080000.
        AssertMap(BundledMaps.Dell, maxPfn: 0x4080000, ranges: 5, pages: 66_978_456);
    }

    [Fact]
    public void Server_supermicro_h11dsu_1t()
    {
        // usable 0x0-0x997ff                  -> [0x0, 0x99800): PFN_DOWN(0x99800) = 0x99 -> 153 pages
        // usable 0x100000-0x76daffff          -> PFN 0x100..0x76db0       =    486 576 pages (0x76cb0)
        // usable 0x77000000-0xc9d5efff        -> PFN 0x77000..0xc9d5f     =    339 295 pages (0x52d5f); a reserved range lies between
        // usable 0xc9dd2000-0xc9e84fff        -> PFN 0xc9dd2..0xc9e85     =        179 pages (0xb3)
        // usable 0xcacc9000-0xcbffffff        -> PFN 0xcacc9..0xcc000     =      4 919 pages (0x1337)
        // usable 0x100000000-0x202f37ffff     -> PFN 0x100000..0x202f380  = 32 699 264 pages (0x1f2f380)
        // 7 ranges 0x?030000000-0x?02ff7ffff (one per node, each followed by a reserved 0x80000-byte range)
        //                                      -> 0x1ffff80 pages each    = 7 x 33 554 304 = 234 880 128 pages
        // 13 ranges; 153 + 486 576 + 339 295 + 179 + 4 919 + 32 699 264 + 234 880 128 = 268 410 514 pages (1023.90 GiB).
        // max_pfn = 0x1002ff80000 >> 12 = 0x1002ff80, the "last_pfn = 0x1002ff80" the source's boot log prints.
        AssertMap(BundledMaps.Supermicro, maxPfn: 0x1002ff80, ranges: 13, pages: 268_410_514);
    }

    [Fact]
    public void Vm_qemu_i440fx_16g()
    {
        // usable 0x0-0x9fbff                  -> [0x0, 0x9fc00): PFN_DOWN = 0x9f -> 159 pages
        // usable 0x100000-0xbffdefff          -> PFN 0x100..0xbffdf       =    786 143 pages (0xbfedf)
        // usable 0x100000000-0x43fffffff      -> PFN 0x100000..0x440000   =  3 407 872 pages (0x340000)
        // 3 ranges, 4 194 174 pages. max_pfn = 0x440000, the "last_pfn = 0x440000" of the source's log.
        AssertMap(BundledMaps.Qemu, maxPfn: 0x440000, ranges: 3, pages: 4_194_174);
    }

    [Theory]
    [MemberData(nameof(BundledMaps.Names), MemberType = typeof(BundledMaps))]
    public void Bundled_maps_are_read_as_dmesg_with_nothing_applied(string name)
    {
        var map = MemoryMap.Load(BundledMaps.PathOf(name));
        Assert.Equal(MemoryMapFormat.Dmesg, map.Format);
        Assert.Empty(map.Notes);
        Assert.Equal(map.ForEachMemPfnRange().Count(), map.RamRanges.Count); // every RAM range holds a whole page
    }

    private static void AssertMap(string name, ulong maxPfn, int ranges, ulong pages)
    {
        var map = MemoryMap.Load(BundledMaps.PathOf(name));
        Assert.Equal(maxPfn, map.MaxPfn);
        var pfnRanges = map.ForEachMemPfnRange().ToList();
        Assert.Equal(ranges, pfnRanges.Count);
        Assert.Equal(pages, pfnRanges.Aggregate(0UL, (sum, r) => sum + r.Pages));
        Assert.Equal(pages << 12, map.TotalRamBytes);
    }
}
