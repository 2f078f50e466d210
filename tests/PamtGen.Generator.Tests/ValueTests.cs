using System.Reflection;
using PamtGen.Generator.Probe;

namespace PamtGen.Generator.Tests;

/// <summary>
/// Every generated helper of every test geometry (compiled through the generator in PamtGen.Generator.Probe)
/// equals a plain reference computation written here in 128-bit arithmetic, on 100 000 random inputs plus
/// the edges: 0, ulong.MaxValue, every level boundary and boundary +-1, max_pfn = (1 &lt;&lt; 28) + 1.
/// </summary>
public class ValueTests
{
    private const int RandomInputs = 100_000;

    public static TheoryData<string> Names => new() { "X86_64FourLevel", "X86_64FiveLevel", "Arm64Granule4K", "Arm64Granule16K", "Arm64Granule64K", "Arm64Granule64K52Bit", "X86NonPae" };

    /// <summary>docs/KERNEL.md section 4, as the probe declares them; all with 4-byte refcounts.</summary>
    private static readonly Dictionary<string, (Type Generated, int PageShift, int EntrySize, int Levels, int VaBits, Geometry Runtime)> Vectors = new()
    {
        ["X86_64FourLevel"] = (typeof(X86_64FourLevel), 12, 8, 4, 48, Geometry.X86_64FourLevel),
        ["X86_64FiveLevel"] = (typeof(X86_64FiveLevel), 12, 8, 5, 57, Geometry.X86_64FiveLevel),
        ["Arm64Granule4K"] = (typeof(Arm64Granule4K), 12, 8, 4, 48, Geometry.Arm64Granule4K),
        ["Arm64Granule16K"] = (typeof(Arm64Granule16K), 14, 8, 4, 48, Geometry.Arm64Granule16K),
        ["Arm64Granule64K"] = (typeof(Arm64Granule64K), 16, 8, 3, 48, Geometry.Arm64Granule64K),
        ["Arm64Granule64K52Bit"] = (typeof(Arm64Granule64K52Bit), 16, 8, 3, 52, Geometry.Arm64Granule64K52Bit),
        ["X86NonPae"] = (typeof(X86NonPae), 12, 4, 2, 32, Geometry.X86NonPae),
    };

    private const int RefcountSize = 4;

    [Theory]
    [MemberData(nameof(Names))]
    public void Constants_follow_the_kernel_folding_rules_and_agree_with_the_runtime_geometry(string name)
    {
        var v = Vectors[name];
        var g = new Reference(v.PageShift, v.EntrySize, v.Levels, v.VaBits);
        Assert.Equal(v.PageShift, Const<int>(v.Generated, "PageShift"));
        Assert.Equal(1UL << v.PageShift, Const<ulong>(v.Generated, "PageSize"));
        Assert.Equal(g.Ptrs, Const<int>(v.Generated, "PtrsPerPte"));
        Assert.Equal(g.Shift(1), Const<int>(v.Generated, "PmdShift"));
        Assert.Equal(1UL << g.Shift(1), Const<ulong>(v.Generated, "PmdSize"));
        Assert.Equal(g.TopShift, Const<int>(v.Generated, "PgdShift"));
        Assert.Equal(1 << (v.VaBits - g.TopShift), Const<int>(v.Generated, "PtrsPerPgd"));
        Assert.Equal(v.Levels, Const<int>(v.Generated, "Levels"));
        Assert.Equal(v.VaBits, Const<int>(v.Generated, "VirtualAddressBits"));
        // Folding: 2 levels are pgd and pte; 3 add pmd; 4 add pud; 5 add p4d. Folded levels get no members.
        Assert.Equal(v.Levels >= 3, Has(v.Generated, "PtrsPerPmd") && Has(v.Generated, "PmdIndex") && Has(v.Generated, "PmdAddrEnd"));
        Assert.Equal(v.Levels >= 4, Has(v.Generated, "PudShift") && Has(v.Generated, "PtrsPerPud") && Has(v.Generated, "PudIndex"));
        Assert.Equal(v.Levels >= 5, Has(v.Generated, "P4dShift") && Has(v.Generated, "PtrsPerP4d") && Has(v.Generated, "P4dIndex"));
        Assert.False(Has(v.Generated, "PmdIndex") ^ Has(v.Generated, "PtrsPerPmd"));
        // The runtime's description of the same geometry agrees.
        Assert.Equal(v.Runtime.PmdShift, Const<int>(v.Generated, "PmdShift"));
        Assert.Equal(v.Runtime.Shift(PageTableLevel.Pgd), Const<int>(v.Generated, "PgdShift"));
        Assert.Equal(v.Runtime.PtrsPer(PageTableLevel.Pgd), Const<int>(v.Generated, "PtrsPerPgd"));
        Assert.Equal((1 << v.PageShift) / RefcountSize, Const<int>(v.Generated, "RefcountsPerPage"));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Index_helpers_equal_shift_and_modulo(string name)
    {
        var (type, g) = Of(name);
        var inputs = Inputs(g);
        string[] levels = ["Pte", "Pmd", "Pud", "P4d"];
        for (int level = 0; level < levels.Length; level++)
        {
            if (Unary(type, levels[level] + "Index") is not { } index)
            {
                continue;
            }

            int shift = g.Shift(level);
            foreach (ulong addr in inputs)
            {
                Assert.Equal((addr >> shift) % (ulong)g.Ptrs, index(addr));
            }
        }

        var pgdIndex = Unary(type, "PgdIndex")!;
        foreach (ulong addr in inputs)
        {
            Assert.Equal((addr >> g.TopShift) % (1UL << (g.VaBits - g.TopShift)), pgdIndex(addr));
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Addr_end_helpers_equal_the_next_boundary_or_end_with_2_pow_64_as_the_top(string name)
    {
        var (type, g) = Of(name);
        var pairs = Pairs(g);
        foreach (var (helper, shift) in new[] { ("PmdAddrEnd", g.Shift(1)), ("PudAddrEnd", g.Shift(2)), ("P4dAddrEnd", g.Shift(3)), ("PgdAddrEnd", g.TopShift) })
        {
            if (Binary(type, helper) is not { } addrEnd || (helper != "PgdAddrEnd" && shift >= g.TopShift))
            {
                continue;
            }

            UInt128 size = UInt128.One << shift;
            foreach (var (addr, end) in pairs)
            {
                UInt128 next = ((addr / size) + 1) * size; // may be 2^64: the boundary past the top
                UInt128 limit = end == 0 ? UInt128.One << 64 : end; // end 0 means "up to the top"
                Assert.Equal((ulong)(UInt128.Min(next, limit) & ulong.MaxValue), addrEnd(addr, end));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Rounding_helpers_equal_exact_division(string name)
    {
        var (type, g) = Of(name);
        UInt128 page = UInt128.One << g.PageShift;
        var (down, up, pfnDown, pfnUp) = (Unary(type, "PageAlignDown")!, Unary(type, "PageAlignUp")!, Unary(type, "PfnDown")!, Unary(type, "PfnUp")!);
        foreach (ulong x in Inputs(g))
        {
            Assert.Equal(x - (ulong)(x % page), down(x));
            Assert.Equal((ulong)((x + page - 1) / page * page & ulong.MaxValue), up(x)); // PAGE_ALIGN wraps, as the kernel's
            Assert.Equal((ulong)(x / page), pfnDown(x));
            Assert.Equal((ulong)((x + page - 1) / page), pfnUp(x)); // exact: no wrap
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Refcount_helpers_equal_the_seeds_arithmetic_done_exactly(string name)
    {
        var (type, g) = Of(name);
        UInt128 page = UInt128.One << g.PageShift, pfnsPerRefcount = UInt128.One << (g.Shift(1) - g.PageShift);
        UInt128 refcountsPerPage = page / RefcountSize;
        var index = Unary(type, "PfnToRefcountIndex")!;
        var areaSize = Unary(type, "RefcountAreaSize")!;
        var denseBytes = Unary(type, "DenseRefcountBytes")!;
        var densePages = Unary(type, "DenseRefcountPages")!;
        var slot = Unary(type, "TwoLevelDirectoryIndex")!;
        var offset = Unary(type, "TwoLevelRefcountOffset")!;
        var slots = Unary(type, "TwoLevelDirectorySlots")!;
        var directoryPages = Unary(type, "TwoLevelDirectoryPages")!;
        foreach (ulong pfn in Inputs(g))
        {
            UInt128 refcounts = Ceil(pfn, pfnsPerRefcount); // DIV_ROUND_UP(max_pfn, PTRS_PER_PTE) for x86
            UInt128 bytes = refcounts * RefcountSize;
            Assert.Equal((ulong)(pfn / pfnsPerRefcount), index(pfn));
            Assert.Equal((ulong)(Ceil(bytes, page) * page), areaSize(pfn)); // round_up(size, PAGE_SIZE)
            Assert.Equal((ulong)bytes, denseBytes(pfn));
            Assert.Equal((ulong)Ceil(bytes, page), densePages(pfn));
            Assert.Equal((ulong)(pfn / (pfnsPerRefcount * refcountsPerPage)), slot(pfn));
            Assert.Equal((ulong)(pfn / pfnsPerRefcount % refcountsPerPage * RefcountSize), offset(pfn));
            Assert.Equal((ulong)Ceil(refcounts, refcountsPerPage), slots(pfn));
            Assert.Equal((ulong)Ceil(Ceil(refcounts, refcountsPerPage) * 8, page), directoryPages(pfn));
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Refcount_mapping_range_is_alloc_pamt_refcounts_rounded_byte_range(string name)
    {
        var (type, g) = Of(name);
        var range = type.GetMethod("RefcountMappingRange")!.CreateDelegate<Func<ulong, ulong, (ulong Start, ulong End)>>();
        UInt128 page = UInt128.One << g.PageShift, pfnsPerRefcount = UInt128.One << (g.Shift(1) - g.PageShift);
        foreach (var (a, b) in Pairs(g))
        {
            ulong start = Math.Min(a, b), end = Math.Max(a, b);
            if (start == end)
            {
                continue; // the range is [start, end): empty ranges are not asked for
            }

            UInt128 first = start / pfnsPerRefcount * RefcountSize, last = (end - 1) / pfnsPerRefcount * RefcountSize;
            var expected = ((ulong)(first / page * page), (ulong)Ceil(last + RefcountSize, page) * (ulong)page);
            Assert.Equal(expected, range(start, end));
        }
    }

    [Fact]
    public void The_seeds_sizing_example_needs_one_more_page_than_the_floor_and_teardown_uses_the_same_size()
    {
        // Dave Hansen on v3: "what if max_pfn = (1<<28) + 1? Then size needs to be one more page."
        ulong maxPfn = (1UL << 28) + 1;
        ulong floorV4Teardown = (maxPfn / 512 * 4 + 4095) & ~4095UL; // free_pamt_metadata() of v4: floor, then round_up
        Assert.Equal(513UL * 4096, X86_64FourLevel.RefcountAreaSize(maxPfn));
        Assert.Equal(512UL * 4096, floorV4Teardown);
        Assert.Equal(X86_64FourLevel.RefcountAreaSize(1UL << 28), floorV4Teardown); // a multiple of 512: both agree
    }

    private static UInt128 Ceil(UInt128 x, UInt128 d) => (x + d - 1) / d;

    private static (Type Type, Reference Geometry) Of(string name)
    {
        var v = Vectors[name];
        return (v.Generated, new Reference(v.PageShift, v.EntrySize, v.Levels, v.VaBits));
    }

    private static T Const<T>(Type type, string name) =>
        (T)(type.GetField(name, BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() ?? throw new InvalidOperationException($"{type.Name} has no constant {name}"));

    private static bool Has(Type type, string name) => type.GetMember(name, BindingFlags.Public | BindingFlags.Static).Length > 0;

    private static Func<ulong, ulong>? Unary(Type type, string name) =>
        type.GetMethod(name, BindingFlags.Public | BindingFlags.Static, [typeof(ulong)])?.CreateDelegate<Func<ulong, ulong>>();

    private static Func<ulong, ulong, ulong>? Binary(Type type, string name) =>
        type.GetMethod(name, BindingFlags.Public | BindingFlags.Static, [typeof(ulong), typeof(ulong)])?.CreateDelegate<Func<ulong, ulong, ulong>>();

    /// <summary>Edges, then random values: uniform, below the VA size, and within a few of a level boundary.</summary>
    private static List<ulong> Inputs(Reference g)
    {
        var values = new List<ulong> { 0, 1, 2, ulong.MaxValue, ulong.MaxValue - 1, 1UL << 63, (1UL << 28) + 1, 1UL << 28, (1UL << 28) - 1, 512, 511, 513 };
        foreach (int shift in g.AllShifts())
        {
            foreach (ulong boundary in new[] { 1UL << shift, 3UL << shift, ~0UL << shift })
            {
                values.AddRange([boundary - 1, boundary, boundary + 1]);
            }
        }

        var random = new Random(20251121);
        var shifts = g.AllShifts().ToArray();
        for (int i = 0; i < RandomInputs; i++)
        {
            ulong r = (ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63);
            values.Add((i % 4) switch
            {
                0 or 1 => r,
                2 => g.VaBits == 64 ? r : r & ((1UL << g.VaBits) - 1),
                _ => (r & ~((1UL << shifts[i % shifts.Length]) - 1)) + (ulong)random.Next(-2, 3),
            });
        }

        return values;
    }

    /// <summary>Pairs of edges, and random pairs: unrelated, close together, end = 0 (the top), around boundaries.</summary>
    private static List<(ulong A, ulong B)> Pairs(Reference g)
    {
        var edges = Inputs(g).Take(12 + (9 * g.AllShifts().Count())).ToArray();
        var pairs = edges.SelectMany(a => edges.Select(b => (a, b))).ToList();
        var random = new Random(20251126);
        var inputs = Inputs(g);
        for (int i = 0; i < RandomInputs; i++)
        {
            ulong a = inputs[random.Next(inputs.Count)];
            pairs.Add((i % 4) switch
            {
                0 => (a, inputs[random.Next(inputs.Count)]),
                1 => (a, a + (ulong)random.NextInt64(1, 1L << Math.Min(62, g.TopShift + 1))),
                2 => (a, 0UL),
                _ => (a, a + (1UL << g.AllShifts().ElementAt(i % g.AllShifts().Count())) + (ulong)random.Next(-1, 2)),
            });
        }

        return pairs;
    }

    /// <summary>The geometry from first principles: each table resolves log2(PAGE_SIZE / entry size) bits.</summary>
    private sealed record Reference(int PageShift, int EntrySize, int Levels, int VaBits)
    {
        public int Bits => PageShift - (EntrySize == 8 ? 3 : 2);

        public int Ptrs => 1 << Bits;

        /// <summary>The shift of real level <paramref name="up"/> above the PTEs (0 = pte, 1 = pmd, ...).</summary>
        public int Shift(int up) => PageShift + (up * Bits);

        public int TopShift => Shift(Levels - 1);

        public IEnumerable<int> AllShifts() => Enumerable.Range(0, Levels).Select(Shift).Append(VaBits == 64 ? 63 : VaBits);
    }
}
