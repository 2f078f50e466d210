using CsCheck;
using static PamtGen.Pgtable;

namespace PamtGen.Runtime.Tests;

/// <summary>
/// Properties of the reference walkers over random ranges and random prior populations, in a window
/// of three page tables that straddles an upper-level boundary.
/// </summary>
public class WalkerPropertyTests
{
    private const int Iterations = 150;

    public static TheoryData<string> Geometries => new() { "x86-64 4-level", "x86-64 5-level", "arm64 16K", "arm64 64K" };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Apply_visits_every_page_of_the_range_exactly_once_in_ascending_order(string name) =>
        Cases(name).Sample((populated, start, pages) =>
        {
            var (m, window) = Prepare(name, populated);
            ulong addr = window + (ulong)start * m.P;
            var calls = new List<(ulong Addr, ulong Value)>();
            Assert.Equal(0, ReferenceWalkers.ApplyToPageRange(m.Mm, addr, (ulong)pages * m.P, Machine.Recorder(), calls));
            Assert.Equal(Machine.Pages(addr, pages, m.P), calls.Select(c => c.Addr));
        }, iter: Iterations);

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Existing_visits_exactly_the_non_none_ptes_of_the_range(string name) =>
        Cases(name).Sample((populated, start, pages) =>
        {
            var (m, window) = Prepare(name, populated);
            ulong addr = window + (ulong)start * m.P;
            var before = m.Allocator.Stats;
            var calls = new List<(ulong Addr, ulong Value)>();
            Assert.Equal(0, ReferenceWalkers.ApplyToExistingPageRange(m.Mm, addr, (ulong)pages * m.P, Machine.Recorder(), calls));
            var expected = populated.Distinct().Where(p => p >= start && p < start + pages).Order().Select(p => window + (ulong)p * m.P);
            Assert.Equal(expected, calls.Select(c => c.Addr));
            Assert.All(calls, c => Assert.False(PteNone(new Pte(c.Value))));
            Assert.Equal(before, m.Allocator.Stats);
        }, iter: Iterations);

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Walk_pte_entries_and_holes_tile_the_range_exactly(string name) =>
        Cases(name).Sample((populated, start, pages) =>
        {
            var (m, window) = Prepare(name, populated);
            ulong addr = window + (ulong)start * m.P, end = addr + (ulong)pages * m.P;
            var pieces = new List<(ulong Start, ulong End)>();
            var ops = new MmWalkOps<List<(ulong Start, ulong End)>>
            {
                PteEntry = (PtePointer pte, ulong a, ulong next, List<(ulong Start, ulong End)> p) => { p.Add((a, next)); return 0; },
                PteHole = (ulong a, ulong next, int depth, List<(ulong Start, ulong End)> p) => { p.Add((a, next)); return 0; },
            };
            Assert.Equal(0, ReferenceWalkers.WalkPageRange(m.Mm, addr, end, ops, pieces));
            WalkerRuleTests.AssertTiles(addr, end, pieces);
        }, iter: Iterations);

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Populate_then_depopulate_of_the_whole_window_balances_the_allocator(string name) =>
        Cases(name).Sample((populated, start, pages) =>
        {
            var (m, window) = Prepare(name, populated);
            ulong windowSize = 3UL * (ulong)m.Geometry.PtrsPerTable * m.P;
            Assert.Equal(0, ReferenceWalkers.ApplyToPageRange(m.Mm, window + (ulong)start * m.P, (ulong)pages * m.P, KernelCallbacks.PopulateIfNone, m.Mm));
            Assert.Equal(0, ReferenceWalkers.ApplyToExistingPageRange(m.Mm, window, windowSize, KernelCallbacks.Depopulate, m.Mm));
            Assert.Equal(0, m.Allocator.Stats.DataPages);
            Assert.DoesNotContain(m.Mm.Snapshot(), e => e.Level == PageTableLevel.Pte);
        }, iter: Iterations);

    /// <summary>Random prior populations (page offsets in the window), a range start and a length, all within the window.</summary>
    private static Gen<(int[] Populated, int Start, int Pages)> Cases(string name)
    {
        int windowPages = 3 * WalkerRuleTests.Of(name).PtrsPerTable;
        return Gen.Int[0, windowPages - 1].Array[0, 24]
            .SelectMany(populated => Gen.Int[0, windowPages - 1]
                .SelectMany(start => Gen.Int[1, windowPages - start].Select(pages => (populated, start, pages))));
    }

    /// <summary>A machine whose window starts one page table before a boundary of the level above the PMD.</summary>
    private static (Machine Machine, ulong Window) Prepare(string name, int[] populated)
    {
        var m = new Machine(WalkerRuleTests.Of(name));
        var g = m.Geometry;
        // The level above the PMD: the pud, or the pgd where the pud is folded (then its size is the pgd's).
        ulong window = m.Base + g.Size(PageTableLevel.Pud) - m.PmdSize;
        foreach (int page in populated.Distinct())
        {
            m.Map(window + (ulong)page * m.P);
        }

        return (m, window);
    }
}
