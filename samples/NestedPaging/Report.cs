using System.Globalization;
using System.Text;
using PamtGen;
using PamtGen.MemoryMaps;

namespace NestedPaging;

/// <summary>The workload: guest accesses to its linear map, a hot tenth of the working set taking most of them.</summary>
public static class Workload
{
    /// <summary>Where the guest kernel's linear map of RAM starts.</summary>
    public const ulong LinearBase = 0x1000_0000_0000;

    /// <summary>
    /// <paramref name="count"/> accesses to the first <paramref name="pages"/> pages of the linear map: 80 in 100 to the
    /// first tenth of them, <paramref name="writePercent"/> in 100 writes; the same for the same seed.
    /// </summary>
    public static IReadOnlyList<(ulong Page, ulong Offset, bool Write)> Generate(int seed, int count, ulong pages, int writePercent)
    {
        var random = new Random(seed);
        ulong hot = Math.Max(1, pages / 10);
        var accesses = new (ulong, ulong, bool)[count];
        for (int i = 0; i < count; i++)
        {
            ulong page = random.Next(100) < 80 ? (ulong)random.NextInt64((long)hot) : (ulong)random.NextInt64((long)pages);
            accesses[i] = (page, (ulong)random.Next(512) * 8, random.Next(100) < writePercent);
        }

        return accesses;
    }
}

/// <summary>The TLB and the walks during one phase of the workload.</summary>
public sealed record Phase(long TlbHits, long TlbMisses, long Walks, long EntriesRead)
{
    /// <summary>As the report prints it.</summary>
    public override string ToString() => FormattableString.Invariant(
        $"TLB {TlbHits} hits, {TlbMisses} misses ({100.0 * TlbHits / Math.Max(1, TlbHits + TlbMisses):F1}% hit rate); {Walks} walks, {(Walks == 0 ? 0 : EntriesRead / (double)Walks):F1} entries read per walk");
}

/// <summary>What the report measured.</summary>
public sealed record Figures(
    string Architecture, string Source, ulong GuestRamBytes, int Slots,
    long TablePagesPagesOnly, long TablePagesBlocks, IReadOnlyDictionary<PageTableLevel, int> LeavesBlocks,
    int Stage1Levels, int Stage2Levels, int ColdReadsPages, int ColdReadsBlocks,
    int Accesses, int WritePercent, ulong WorkingSetBytes, int Seed,
    Phase Running, Phase Logging, long WriteFaults, int PagesDirtied, int TablePagesDirtied,
    IReadOnlyDictionary<PageTableLevel, int> Splits, long TablePagesAfter);

/// <summary>Builds the VM twice (stage 2 with pages only, then with blocks), runs the workload with dirty logging on the second, and reports.</summary>
public static class NestedReport
{
    /// <summary>Measures everything the report prints; <see cref="ArgumentException"/> for a working set that does not fit.</summary>
    public static Figures Measure(Architecture arch, MemoryMap layout, int accesses, ulong workingSetBytes, int writePercent, int seed)
    {
        var ram = layout.RamRanges.Select(r => (r.Start, r.End)).ToArray();
        var largest = ram.Select(r => (Start: (r.Start + 0xfff) & ~0xfffUL, End: r.End & ~0xfffUL)).MaxBy(r => r.End - r.Start);
        if (workingSetBytes == 0 || workingSetBytes > largest.End - largest.Start || (workingSetBytes & 0xfff) != 0)
        {
            throw new ArgumentException($"the working set must be whole pages inside the largest RAM range ({(largest.End - largest.Start) >> 20} MiB)");
        }

        // Stage 2 with pages only, for the table count and the cold walk with pages in both stages.
        var pagesOnly = new Vm(arch, ram, PageTableLevel.Pte);
        long tablesPagesOnly = pagesOnly.Host.Stats.PageTablePages;
        int coldPages = ColdWalk(pagesOnly, largest.Start);

        var vm = new Vm(arch, ram);
        long tablesBlocks = vm.Host.Stats.PageTablePages;
        var leaves = vm.Stage2Leaves();
        int coldBlocks = ColdWalk(vm, largest.Start);

        // The workload, with a TLB at each stage (stage 2's strict: a missing invalidation is a BUG): its first half as
        // the guest runs, its second half with dirty logging on.
        var tlb = vm.Stage1.TrackTlb();
        vm.Stage2.TrackTlb(strict: true);
        var workload = Workload.Generate(seed, accesses, workingSetBytes >> 12, writePercent);
        var phases = new List<Phase>();
        for (int half = 0; half < 2; half++)
        {
            if (half == 1)
            {
                vm.StartDirtyLogging();
            }

            long hits = tlb.Hits, misses = tlb.Misses, walks = vm.Walks, reads = vm.EntriesRead;
            foreach (var (page, offset, write) in workload.Skip(half * (accesses / 2)).Take(half == 0 ? accesses / 2 : accesses - (accesses / 2)))
            {
                var result = vm.Access(Workload.LinearBase + (page << 12) + offset, write ? Access.Write : Access.Read);
                if (!result.Ok)
                {
                    throw new InvalidOperationException($"the guest's access to page {page} faulted: {result}");
                }
            }

            phases.Add(new Phase(tlb.Hits - hits, tlb.Misses - misses, vm.Walks - walks, vm.EntriesRead - reads));
        }

        return new Figures(
            arch.Name, layout.Source, (ulong)vm.Guest.Slots.Sum(s => (long)s.Size), vm.Guest.Slots.Count,
            tablesPagesOnly, tablesBlocks, leaves, vm.Stage1.Geometry.EntryLevels.Count, vm.Stage2.Geometry.EntryLevels.Count, coldPages, coldBlocks,
            accesses, writePercent, workingSetBytes, seed, phases[0], phases[1], vm.WriteFaults, vm.DirtyPages.Count, vm.DirtyTablePages.Count, vm.Splits,
            vm.Host.Stats.PageTablePages);

        // The guest maps the working set's range once; one read of its first page with nothing cached.
        int ColdWalk(Vm machine, ulong gpa)
        {
            machine.MapLinear(Workload.LinearBase, gpa, workingSetBytes);
            return machine.Stage1.Translate(Workload.LinearBase, Access.Read).EntriesRead;
        }
    }

    /// <summary>The report as text.</summary>
    public static string Text(Figures f)
    {
        var s = new StringBuilder();
        void Line(FormattableString text) => s.Append(text.ToString(CultureInfo.InvariantCulture)).Append('\n');
        string Blocks(IReadOnlyDictionary<PageTableLevel, int> byLevel) =>
            string.Join(", ", byLevel.OrderBy(l => l.Key).Select(l => FormattableString.Invariant($"{l.Value} {l.Key}")));
        Line($"NestedPaging: {f.Architecture}");
        Line($"guest memory: {f.Source}, {f.GuestRamBytes / (double)(1UL << 30):F2} GiB of RAM in {f.Slots} slots");
        Line($"stage-2 table pages: {f.TablePagesPagesOnly} with 4 KiB pages only, {f.TablePagesBlocks} with blocks (leaves: {Blocks(f.LeavesBlocks)})");
        Line($"nested walk with nothing cached: {f.ColdReadsPages} entries read with pages in both stages (n*m + n + m = {f.Stage1Levels}*{f.Stage2Levels} + {f.Stage1Levels} + {f.Stage2Levels}), {f.ColdReadsBlocks} with the stage-2 blocks");
        Line($"workload: {f.Accesses} accesses, {f.WritePercent}% writes, over {f.WorkingSetBytes >> 20} MiB, seed {f.Seed}; the first half running, the second with dirty logging");
        Line($"  running: {f.Running}");
        Line($"  dirty logging: {f.Logging}");
        Line($"  dirty pages: {f.WriteFaults} stage-2 write faults, {f.PagesDirtied} pages dirtied{(f.TablePagesDirtied == 0 ? "" : FormattableString.Invariant($" ({f.TablePagesDirtied} of them guest page tables, which the nested walker writes)"))}, blocks split: {(f.Splits.Count == 0 ? "none" : Blocks(f.Splits))}; stage-2 table pages {f.TablePagesBlocks} -> {f.TablePagesAfter}");
        return s.ToString();
    }
}
