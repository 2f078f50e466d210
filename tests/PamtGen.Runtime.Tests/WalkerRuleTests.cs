using static PamtGen.Pgtable;

namespace PamtGen.Runtime.Tests;

/// <summary>One test per rule of docs/KERNEL.md section 3, each on the x86-64 4-level, x86-64 5-level and arm64 64K geometries.</summary>
public class WalkerRuleTests
{
    public static TheoryData<string> Geometries => new() { "x86-64 4-level", "x86-64 5-level", "arm64 64K" };

    public static TheoryData<string> GeometriesWithPud => new() { "x86-64 4-level", "x86-64 5-level" };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Apply_calls_fn_for_every_pte_in_ascending_order_and_allocates_missing_tables(string name)
    {
        var m = new Machine(Of(name));
        ulong addr = m.Base + 5 * m.PmdSize - 3 * m.P; // crosses a PMD boundary
        var calls = new List<(ulong Addr, ulong Value)>();
        Assert.Equal(0, ReferenceWalkers.ApplyToPageRange(m.Mm, addr, 6 * m.P, Machine.Recorder(), calls));
        Assert.Equal(Machine.Pages(addr, 6, m.P), calls.Select(c => c.Addr));
        Assert.All(calls, c => Assert.Equal(0UL, c.Value));
        // The root, one table per real level between it and the PTEs, and two PTE tables.
        Assert.Equal(1 + (m.Geometry.Levels - 2) + 2, m.Allocator.Stats.PageTablePages);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Existing_never_allocates_skips_holes_and_calls_fn_only_for_non_none_ptes(string name)
    {
        var m = new Machine(Of(name));
        ulong a = m.Base + 3 * m.PmdSize + 7 * m.P, far = m.Base + 40 * m.PmdSize;
        var mapped = new[] { a, a + 2 * m.P, far }.Select(x => (x, m.Map(x))).ToArray();
        var before = m.Allocator.Stats;
        var calls = new List<(ulong Addr, ulong Value)>();
        ulong size = 2 * m.Geometry.Size(PageTableLevel.Pgd); // a second top-level slot with no tables at all
        Assert.Equal(0, ReferenceWalkers.ApplyToExistingPageRange(m.Mm, m.Base, size, Machine.Recorder(), calls));
        Assert.Equal(mapped.Select(x => (x.Item1, MkPte(x.Item2, PageKernel).Value)), calls);
        Assert.Equal(before, m.Allocator.Stats);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Existing_keeps_calling_fn_after_a_none_pte_in_the_same_table_the_2025_fix(string name)
    {
        var m = new Machine(Of(name));
        ulong a = m.Base + m.PmdSize;
        m.Map(a);
        m.Map(a + 2 * m.P); // a + P stays none: before the fix the walk stopped calling fn there
        m.Map(a + 5 * m.P);
        var calls = new List<(ulong Addr, ulong Value)>();
        Assert.Equal(0, ReferenceWalkers.ApplyToExistingPageRange(m.Mm, a, 8 * m.P, Machine.Recorder(), calls));
        Assert.Equal([a, a + 2 * m.P, a + 5 * m.P], calls.Select(c => c.Addr));
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Empty_wrapping_and_top_reaching_ranges_are_einval_with_no_call_and_no_allocation(string name)
    {
        var m = new Machine(Of(name));
        var before = m.Allocator.Stats;
        var calls = new List<(ulong Addr, ulong Value)>();
        (ulong Addr, ulong Size)[] ranges =
        [
            (m.Base, 0),                       // empty
            (ulong.MaxValue - m.P + 1, 2 * m.P), // wraps past the top
            (0 - m.P, m.P),                    // ends exactly at 2^64: addr + size == 0 < addr
        ];
        foreach (var (addr, size) in ranges)
        {
            Assert.Equal(-Errno.EINVAL, ReferenceWalkers.ApplyToPageRange(m.Mm, addr, size, Machine.Recorder(), calls));
            Assert.Equal(-Errno.EINVAL, ReferenceWalkers.ApplyToExistingPageRange(m.Mm, addr, size, Machine.Recorder(), calls));
            Assert.Equal(-Errno.EINVAL, ReferenceWalkers.WalkPageRange(m.Mm, addr, addr + size, AllOps(calls), calls));
        }

        Assert.Empty(calls);
        Assert.Equal(before, m.Allocator.Stats);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void A_pmd_leaf_is_einval_after_the_ptes_before_it(string name)
    {
        var m = new Machine(Of(name));
        ulong leaf = m.Base + 3 * m.PmdSize, start = leaf - 2 * m.P;
        m.Map(start);
        m.Map(start + m.P);
        Assert.True(m.Mm.SetEntry(PageTableLevel.Pmd, leaf, Block(m, PageTableLevel.Pmd)));
        foreach (bool create in new[] { true, false })
        {
            var calls = new List<(ulong Addr, ulong Value)>();
            int err = create
                ? ReferenceWalkers.ApplyToPageRange(m.Mm, start, 4 * m.P, Machine.Recorder(), calls)
                : ReferenceWalkers.ApplyToExistingPageRange(m.Mm, start, 4 * m.P, Machine.Recorder(), calls);
            Assert.Equal(-Errno.EINVAL, err);
            Assert.Equal([start, start + m.P], calls.Select(c => c.Addr));
        }
    }

    [Theory]
    [MemberData(nameof(GeometriesWithPud))]
    public void A_pud_leaf_is_einval(string name)
    {
        var m = new Machine(Of(name));
        ulong leaf = m.Base + m.Geometry.Size(PageTableLevel.Pud);
        Assert.True(m.Mm.SetEntry(PageTableLevel.Pud, leaf, Block(m, PageTableLevel.Pud)));
        var calls = new List<(ulong Addr, ulong Value)>();
        Assert.Equal(-Errno.EINVAL, ReferenceWalkers.ApplyToPageRange(m.Mm, leaf - m.P, 2 * m.P, Machine.Recorder(), calls));
        Assert.Equal([leaf - m.P], calls.Select(c => c.Addr));
        Assert.Equal(-Errno.EINVAL, ReferenceWalkers.ApplyToExistingPageRange(m.Mm, leaf, m.P, Machine.Recorder(), calls));
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void A_failed_table_allocation_is_enomem_and_keeps_the_progress_before_it(string name)
    {
        var m = new Machine(Of(name));
        ulong addr = m.Base + 5 * m.PmdSize - 3 * m.P;
        // The upper tables and the first PTE table succeed; the second PTE table fails.
        m.Allocator.FaultInjection = FailPageAlloc.After(m.Allocator.Stats.Attempts + (m.Geometry.Levels - 2) + 1);
        var calls = new List<(ulong Addr, ulong Value)>();
        Assert.Equal(-Errno.ENOMEM, ReferenceWalkers.ApplyToPageRange(m.Mm, addr, 6 * m.P, Machine.Recorder(), calls));
        Assert.Equal(Machine.Pages(addr, 3, m.P), calls.Select(c => c.Addr));
        Assert.Equal(1 + (m.Geometry.Levels - 2) + 1, m.Allocator.Stats.PageTablePages);
        Assert.Equal(1, m.Allocator.Stats.Failures);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void The_first_non_zero_return_stops_the_walk_and_is_returned_with_nothing_undone(string name)
    {
        var m = new Machine(Of(name));
        ulong addr = m.Base + m.PmdSize;
        int calls = 0;
        int err = ReferenceWalkers.ApplyToPageRange(m.Mm, addr, 8 * m.P, (PtePointer pte, ulong a, Machine machine) =>
        {
            if (++calls == 3)
            {
                return 7;
            }

            SetPteAt(machine.Mm, a, pte, MkPte(machine.Allocator.AllocPage(Gfp.Zero)!, PageKernel));
            return 0;
        }, m);
        Assert.Equal(7, err);
        Assert.Equal(3, calls);
        Assert.Equal([addr & Mask(m), (addr + m.P) & Mask(m)], m.Mm.Snapshot().Where(e => e.Level == PageTableLevel.Pte).Select(e => e.Address));
        Assert.Equal(2, m.Allocator.Stats.DataPages);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Ranges_in_the_last_top_level_slot_split_correctly_below_the_top_of_the_address_space(string name)
    {
        var m = new Machine(Of(name));
        ulong addr = 0 - 8 * m.P; // the boundary after it wraps to 0: pXd_addr_end's "- 1" keeps end
        var calls = new List<(ulong Addr, ulong Value)>();
        Assert.Equal(0, ReferenceWalkers.ApplyToPageRange(m.Mm, addr, 4 * m.P, Machine.Recorder(), calls));
        Assert.Equal(Machine.Pages(addr, 4, m.P), calls.Select(c => c.Addr));
        var walked = new List<(ulong Addr, ulong Value)>();
        Assert.Equal(0, ReferenceWalkers.WalkPageRange(m.Mm, addr, addr + 4 * m.P, AllOps(walked), walked));
        Assert.Equal(Machine.Pages(addr, 4, m.P), walked.Select(c => c.Addr));
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Walk_calls_pte_entry_for_every_pte_of_present_tables_and_pte_hole_with_the_kernels_depth(string name)
    {
        var m = new Machine(Of(name));
        var g = m.Geometry;
        ulong mappedPmd = m.Base + 5 * m.PmdSize;
        m.Map(mappedPmd + m.P);
        var before = m.Allocator.Stats;
        var entries = new List<ulong>();
        var holes = new List<(ulong Addr, ulong Next, int Depth)>();
        var ops = new MmWalkOps<int>
        {
            PteEntry = (PtePointer pte, ulong addr, ulong next, int _) => { entries.Add(addr); Assert.Equal(addr + m.P, next); return 0; },
            PteHole = (ulong addr, ulong next, int depth, int _) => { holes.Add((addr, next, depth)); return 0; },
        };
        ulong end = m.Base + 2 * g.Size(PageTableLevel.Pgd);
        Assert.Equal(0, ReferenceWalkers.WalkPageRange(m.Mm, m.Base, end, ops, 0));

        Assert.Equal(Machine.Pages(mappedPmd, g.PtrsPerTable, m.P), entries);
        // Every none entry below the top is one hole of its level's size; the empty second top-level
        // slot is a hole at the depth of the level the kernel checks it at (5 - levels: p4d on 4 levels, pud on 3).
        Assert.Equal((g.PtrsPerTable - 1) * (g.Levels - 2) + 1, holes.Count);
        Assert.Equal((m.Base + g.Size(PageTableLevel.Pgd), end, 5 - g.Levels), holes[^1]);
        Assert.All(holes, h => Assert.Equal(g.Size((PageTableLevel)h.Depth), h.Next - h.Addr));
        Assert.Equal(g.PtrsPerTable - 1, holes.Count(h => h.Depth == (int)PageTableLevel.Pmd));
        AssertTiles(m.Base, end, holes.Select(h => (h.Addr, h.Next)).Concat(entries.Select(e => (e, e + m.P))));
        Assert.Equal(before, m.Allocator.Stats); // never allocates
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Walk_passes_non_none_pmds_to_pmd_entry_and_does_not_descend_into_a_leaf(string name)
    {
        var m = new Machine(Of(name));
        ulong table = m.Base + m.PmdSize, leaf = m.Base + 2 * m.PmdSize;
        m.Map(table);
        Assert.True(m.Mm.SetEntry(PageTableLevel.Pmd, leaf, Block(m, PageTableLevel.Pmd)));
        var pmds = new List<(ulong Addr, ulong Next, bool Leaf)>();
        var ptes = new List<ulong>();
        var ops = new MmWalkOps<int>
        {
            PmdEntry = (PmdPointer pmd, ulong addr, ulong next, int _) => { pmds.Add((addr, next, m.Geometry.IsLeafEntry(PageTableLevel.Pmd, Pgtable.PmdpGet(pmd).Value))); return 0; },
            PteEntry = (PtePointer pte, ulong addr, ulong next, int _) => { ptes.Add(addr); return 0; },
        };
        Assert.Equal(0, ReferenceWalkers.WalkPageRange(m.Mm, m.Base, m.Base + 4 * m.PmdSize, ops, 0));
        Assert.Equal([(table, table + m.PmdSize, false), (leaf, leaf + m.PmdSize, true)], pmds);
        Assert.Equal(Machine.Pages(table, m.Geometry.PtrsPerTable, m.P), ptes);
        Assert.Equal(-Errno.EINVAL, ReferenceWalkers.WalkPageRange(m.Mm, m.Base, m.Base, ops, 0));
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Walk_stops_at_the_first_non_zero_return_of_any_callback(string name)
    {
        var m = new Machine(Of(name));
        m.Map(m.Base + m.PmdSize);
        int holes = 0, ptes = 0;
        var ops = new MmWalkOps<int>
        {
            // walk_pgd_range() descends only when a callback below wants it: give it a pte_entry.
            PteEntry = (PtePointer pte, ulong a, ulong n, int _) => ++ptes == 3 ? 9 : 0,
            PteHole = (ulong a, ulong n, int d, int _) => ++holes == 1 ? -Errno.EIO : 0,
        };
        Assert.Equal(-Errno.EIO, ReferenceWalkers.WalkPageRange(m.Mm, m.Base, m.Base + 8 * m.PmdSize, ops, 0));
        Assert.Equal((1, 0), (holes, ptes));
        Assert.Equal(9, ReferenceWalkers.WalkPageRange(m.Mm, m.Base + m.PmdSize, m.Base + 8 * m.PmdSize, ops, 0));
        Assert.Equal((1, 3), (holes, ptes));
    }

    internal static Geometry Of(string name) => name switch
    {
        "x86-64 4-level" => Geometry.X86_64FourLevel,
        "x86-64 5-level" => Geometry.X86_64FiveLevel,
        "arm64 64K" => Geometry.Arm64Granule64K,
        "arm64 16K" => Geometry.Arm64Granule16K,
        "x86 non-PAE" => Geometry.X86NonPae,
        _ => throw new ArgumentException(name),
    };

    internal static void AssertTiles(ulong start, ulong end, IEnumerable<(ulong Start, ulong End)> pieces)
    {
        ulong at = start;
        foreach (var (s, e) in pieces.OrderBy(p => p.Start))
        {
            Assert.Equal(at, s);
            Assert.True(e > s);
            at = e;
        }

        Assert.Equal(end, at);
    }

    /// <summary>A block (huge leaf) at <paramref name="level"/> in the geometry's own format (an arm64 block descriptor on arm64), mapping its fourth aligned block.</summary>
    private static ulong Block(Machine m, PageTableLevel level) => m.Geometry.MakeLeafEntry(level, 4 * m.Geometry.Size(level), 0);

    private static ulong Mask(Machine m) => m.Geometry.VirtualAddressBits == 64 ? ulong.MaxValue : (1UL << m.Geometry.VirtualAddressBits) - 1;

    private static MmWalkOps<List<(ulong Addr, ulong Value)>> AllOps(List<(ulong Addr, ulong Value)> calls) => new()
    {
        PteEntry = (PtePointer pte, ulong addr, ulong next, List<(ulong Addr, ulong Value)> c) => { c.Add((addr, Pgtable.PtepGet(pte).Value)); return 0; },
        PteHole = (ulong addr, ulong next, int depth, List<(ulong Addr, ulong Value)> c) => 0,
    };
}

/// <summary>Regression (found by the 100 000-case differential run): a range that leaves the translated window.</summary>
public class WalkerWindowTests
{
    [Theory]
    [MemberData(nameof(WalkerRuleTests.Geometries), MemberType = typeof(WalkerRuleTests))]
    public void A_range_that_crosses_a_virtual_address_size_boundary_is_einval_not_a_crash(string name)
    {
        var m = new Machine(WalkerRuleTests.Of(name));
        ulong window = 1UL << m.Geometry.VirtualAddressBits; // e.g. the end of the lower half's canonical range
        ulong start = window - (2 * m.P);
        var calls = new List<(ulong Addr, ulong Value)>();
        var before = m.Allocator.Stats;
        Assert.Equal(-Errno.EINVAL, ReferenceWalkers.ApplyToPageRange(m.Mm, start, 4 * m.P, Machine.Recorder(), calls));
        Assert.Equal(-Errno.EINVAL, ReferenceWalkers.ApplyToExistingPageRange(m.Mm, start, 4 * m.P, Machine.Recorder(), calls));
        Assert.Equal(-Errno.EINVAL, ReferenceWalkers.WalkPageRange(m.Mm, start, start + (4 * m.P), new MmWalkOps<int> { PteHole = (a, n, d, _) => 0 }, 0));
        Assert.Empty(calls);
        Assert.Equal(before, m.Allocator.Stats);
        // Up to the boundary is fine.
        Assert.Equal(0, ReferenceWalkers.ApplyToPageRange(m.Mm, start, 2 * m.P, Machine.Recorder(), calls));
        Assert.Equal(2, calls.Count);
    }
}
