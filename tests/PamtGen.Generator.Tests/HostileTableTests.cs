using System.Text.RegularExpressions;
using Xunit.Abstractions;
using Xunit.Sdk;
using PamtGen.Testing;

namespace PamtGen.Generator.Tests;

/// <summary>
/// Every public operation on tables holding anything: a real population first, then entries overwritten with hostile
/// values (random words, leaf-like and table-like entries at every level, tables pointing at data pages, at the root, at
/// memory that holds no page, at an unaligned address, with stray flag bits), then a random sequence of operations. The
/// only exception allowed is a kernel BUG docs/RUNTIME.md lists under "BUGs that table contents can raise"; anything else
/// (an IndexOutOfRangeException, a pfn_to_page BUG from a walker, a NullReferenceException) fails with the case to
/// reproduce it. Written as a user would write a harness for any geometry: through the address space's instance members,
/// one callback struct, no delegate per geometry. CI runs 400 cases per geometry, scaled by PAMTGEN_FUZZ_CASES (FuzzSize).
/// </summary>
public class HostileTableTests(ITestOutputHelper output)
{
    private static readonly int Cases =
        FuzzSize.Scaled(400);

    public static TheoryData<string> Names => ProbeGeometries.Theory();

    private static readonly Access[] Accesses = [Access.Read, Access.Write, Access.Execute, Access.User | Access.Write];

    private enum Op
    {
        ApplyReference,
        ApplyExistingReference,
        ApplyGenerated,
        ApplyExistingGenerated,
        ApplyTransactional,
        WalkReference,
        WalkGenerated,
        FreeEmptyTables,
        MapRange,
        MapRangeReplace,
        UnmapRange,
        Split,
        Collapse,
        Snapshot,
        Leaves,
        TryGetEntry,
        VirtToKpte,
        TranslateGenerated,
        TranslateRuntime,
        SetEntry,
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Every_operation_survives_hostile_tables_but_for_the_documented_bugs(string name)
    {
        var documented = DocumentedBugs();
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int warned = 0;
        for (int i = 0; i < Cases; i++)
        {
            var rng = new Random((i * 7919) + name.Length);
            var g = ProbeGeometries.GeometryOf(name);
            var allocator = PageAllocator.Synthetic(1 << 12, g.PageShift);
            var mm = ProbeGeometries.AddressSpaceOf(name, allocator);
            if (rng.Next(3) == 0)
            {
                mm.TrackTlb(strict: false);
            }

            ulong window = Window(g, rng);
            ulong span = 4 * g.Size(g.EntryLevels[^2]); // four pte tables' worth
            var corruptions = Populate(mm, rng, window, span);
            var ops = new List<Op>();
            for (int step = 0; step < 10; step++)
            {
                var op = (Op)rng.Next(Enum.GetValues<Op>().Length);
                ops.Add(op);
                string what = $"{name} case {i}, after {string.Join(" ", corruptions)}: {string.Join(", ", ops)}";
                try
                {
                    int result = Run(op, mm, rng, window, span);
                    string key = $"{op} {(result >= 0 ? "ok" : result.ToString(System.Globalization.CultureInfo.InvariantCulture))}";
                    outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
                }
                catch (KernelBugException e)
                {
                    var match = documented.FirstOrDefault(d => d.IsMatch(e.Message))
                        ?? throw new XunitException($"{what}: a BUG docs/RUNTIME.md does not list for table contents: {e.Message}");
                    string key = $"BUG: {match}";
                    outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
                    break; // the kernel is dead after a BUG
                }
                catch (Exception e) when (e is not XunitException)
                {
                    throw new XunitException($"{what}: threw {e}");
                }
            }

            warned += mm.Warnings.Count > 0 ? 1 : 0;
        }

        output.WriteLine($"{name}: {Cases} cases, {warned} with a WARN; {string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}"))}");
        Assert.True(warned > 0, "some case must meet an entry the kernel warns about");
        Assert.True(outcomes.Keys.Count(k => k.EndsWith(" ok", StringComparison.Ordinal)) >= 15, "most operations must also complete");
    }

    /// <summary>The patterns of the list of BUGs that table contents can raise, read from docs/RUNTIME.md (one description of them).</summary>
    private static Regex[] DocumentedBugs()
    {
        string doc = File.ReadAllText(Path.Combine(TestRepository.Root, "docs", "RUNTIME.md"));
        int start = doc.IndexOf("### BUGs that table contents can raise", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/RUNTIME.md lists the BUGs table contents can raise");
        int end = doc.IndexOf("\n#", start + 10, StringComparison.Ordinal);
        string section = doc[start..(end < 0 ? doc.Length : end)];
        var patterns = Regex.Matches(section, @"^- `([^`]+)`", RegexOptions.Multiline)
            .Select(m => new Regex(Regex.Escape(m.Groups[1].Value).Replace(@"\.\.\.", ".*", StringComparison.Ordinal), RegexOptions.CultureInvariant))
            .ToArray();
        Assert.NotEmpty(patterns);
        return patterns;
    }

    /// <summary>A window aligned to the largest block, inside the geometry's addresses.</summary>
    private static ulong Window(Geometry g, Random rng)
    {
        ulong align = g.Size(g.EntryLevels[0]);
        ulong top = g.VirtualAddressBits >= 64 ? ulong.MaxValue : (1UL << g.VirtualAddressBits) - 1;
        ulong window = (ulong)rng.NextInt64() & top & ~(align - 1);
        return Math.Min(window, (top - (8 * align)) & ~(align - 1));
    }

    /// <summary>Maps pages and a block or two in the window, then overwrites a few entries with hostile values; what it wrote.</summary>
    private static List<string> Populate(Mm mm, Random rng, ulong window, ulong span)
    {
        var g = mm.Geometry;
        var fn = new MapFn(mm, rng.Next());
        mm.ApplyToPageRange(window, span, ref fn);
        foreach (var level in g.EntryLevels.Where(l => l != PageTableLevel.Pte && g.HoldsLeaves(l) && g.Size(l) <= span))
        {
            ulong va = window + (span - g.Size(level));
            mm.MapRange(va & ~(g.Size(level) - 1), g.Size(level) * 3, g.Size(level), 0, new MapRangeOptions(Replace: true));
        }

        return HostileEntries.Corrupt(mm, rng);
    }

    private static ulong Hostile(Mm mm, PageTableLevel level, Random rng) => HostileEntries.Value(mm, level, rng);

    private static int Run(Op op, Mm mm, Random rng, ulong window, ulong span)
    {
        var g = mm.Geometry;
        ulong page = g.PageSize;
        ulong start = window + ((ulong)rng.Next((int)(span / page)) * page);
        ulong size = Math.Min((ulong)rng.Next(1, 3 * g.PtrsPerTable) * page, window + span - start + (4 * page));
        var level = g.EntryLevels[rng.Next(g.EntryLevels.Count)];
        var fn = new MapFn(mm, rng.Next());
        switch (op)
        {
            case Op.ApplyReference:
                return ReferenceWalkers.ApplyToPageRange(mm, start, size, static (PtePointer pte, ulong addr, Mm m) => MapFn.Visit(m, pte, addr, 3), mm);
            case Op.ApplyExistingReference:
                return ReferenceWalkers.ApplyToExistingPageRange(mm, start, size, static (PtePointer pte, ulong addr, Mm m) => MapFn.Visit(m, pte, addr, 3), mm);
            case Op.ApplyGenerated:
                return mm.ApplyToPageRange(start, size, ref fn);
            case Op.ApplyExistingGenerated:
                return mm.ApplyToExistingPageRange(start, size, ref fn);
            case Op.ApplyTransactional:
                var undo = new ClearFn(mm);
                return mm.ApplyToPageRangeTransactional(start, size, ref fn, ref undo);
            case Op.WalkReference:
                return ReferenceWalkers.WalkPageRange(mm, start, start + size, new MmWalkOps<Mm>
                {
                    PteEntry = static (pte, _, _, m) => (int)(Pgtable.PtepGet(pte).Value & 0),
                    PteHole = static (_, _, _, _) => 0,
                    PmdEntry = static (pmd, _, _, _) => (int)(Pgtable.PmdpGet(pmd).Value & 0),
                    PudEntry = static (pud, _, _, _) => (int)(Pgtable.PudpGet(pud).Value & 0),
                }, mm);
            case Op.WalkGenerated:
                var ops = new ReadOps();
                return mm.WalkPageRange(start, start + size, ref ops);
            case Op.FreeEmptyTables:
                return mm.FreeEmptyTables(start, size);
            case Op.MapRange:
            case Op.MapRangeReplace:
                ulong block = g.HoldsLeaves(level) ? g.Size(level) : page;
                ulong va = start & ~(block - 1);
                return mm.MapRange(va, (ulong)rng.Next(1, 64) * block, block * (ulong)rng.Next(1, 3), 0, new MapRangeOptions(Replace: op == Op.MapRangeReplace), new TlbGather());
            case Op.UnmapRange:
                return mm.UnmapRange(start, size, new TlbGather());
            case Op.Split:
                return mm.Split(start, level, new TlbGather());
            case Op.Collapse:
                return mm.Collapse(start, level, new TlbGather());
            case Op.Snapshot:
                return mm.Snapshot().Count;
            case Op.Leaves:
                return mm.Leaves(window, window + span).Count;
            case Op.TryGetEntry:
                return mm.TryGetEntry(level, start, out _, out _) ? 1 : 0;
            case Op.VirtToKpte:
                return mm.VirtToKpte(start) is { } kpte ? (int)(Pgtable.PtepGet(kpte).Value & 1) : 0;
            case Op.TranslateGenerated:
                return mm.Translate(start, Accesses[rng.Next(Accesses.Length)]).IsFault ? 0 : 1;
            case Op.TranslateRuntime:
                return Translator.Translate(mm, start, Accesses[rng.Next(Accesses.Length)]).IsFault ? 0 : 1;
            default:
                return mm.SetEntry(level, start, Hostile(mm, level, rng)) ? 1 : 0;
        }
    }

    /// <summary>A pte_fn_t that maps a fresh page into some none PTEs and clears some present ones (without freeing what they map: it may be anything).</summary>
    private struct MapFn(Mm mm, int seed) : IPteFn
    {
        private int _count;

        public int Invoke(PtePointer pte, ulong addr) => Visit(mm, pte, addr, seed + _count++);

        public static int Visit(Mm mm, PtePointer pte, ulong addr, int roll)
        {
            var entry = Pgtable.PtepGet(pte);
            if (Pgtable.PteNone(entry) && roll % 3 != 0)
            {
                if (mm.Allocator.AllocPage(Gfp.Zero) is not { } page)
                {
                    return -Errno.ENOMEM;
                }

                Pgtable.SetPteAt(mm, addr, pte, new Pte(mm.Geometry.MakeLeafEntry(PageTableLevel.Pte, page.PhysAddr, 0)));
            }
            else if (!Pgtable.PteNone(entry) && roll % 5 == 0)
            {
                Pgtable.PteClear(mm, addr, pte);
            }

            return roll % 97 == 0 ? -Errno.EIO : 0;
        }
    }

    private readonly struct ClearFn(Mm mm) : IPteFn
    {
        public int Invoke(PtePointer pte, ulong addr)
        {
            Pgtable.PteClear(mm, addr, pte);
            return 0;
        }
    }

    private struct ReadOps : IPageWalkOps
    {
        public ulong Seen;

        public static PageWalkCallbacks Callbacks => PageWalkCallbacks.PteEntry | PageWalkCallbacks.PteHole | PageWalkCallbacks.PmdEntry | PageWalkCallbacks.PudEntry;

        public int PteEntry(PtePointer pte, ulong addr, ulong next)
        {
            Seen ^= Pgtable.PtepGet(pte).Value;
            return 0;
        }

        public int PteHole(ulong addr, ulong next, int depth) => 0;

        public int PmdEntry(PmdPointer pmd, ulong addr, ulong next)
        {
            Seen ^= Pgtable.PmdpGet(pmd).Value;
            return 0;
        }

        public int PudEntry(PudPointer pud, ulong addr, ulong next)
        {
            Seen ^= Pgtable.PudpGet(pud).Value;
            return 0;
        }
    }
}

/// <summary>Entries no well-behaved kernel writes, for the tests that put them in tables.</summary>
internal static class HostileEntries
{
    /// <summary>An entry no well-behaved kernel writes at <paramref name="level"/>.</summary>
    public static ulong Value(Mm mm, PageTableLevel level, Random rng)
    {
        var g = mm.Geometry;
        ulong mask = g.EntrySize == 4 ? uint.MaxValue : ulong.MaxValue;
        ulong data = mm.Allocator.AllocPage(Gfp.Zero)?.PhysAddr ?? 0;
        ulong tableFlags = g.MakeTableEntry(0);
        ulong value = rng.Next(10) switch
        {
            0 => (ulong)rng.NextInt64(),
            1 => ((ulong)rng.NextInt64() & ~0xfffUL) | tableFlags, // a table entry anywhere, mostly memory that does not exist
            2 => g.MakeTableEntry(data), // a data page as a table
            3 => g.MakeTableEntry(mm.Pgd.PhysAddr), // the root below itself
            4 => g.MakeTableEntry(mm.Pgd.PhysAddr + (ulong)g.PageSize), // inside a concatenated root, or the page after the root
            5 => g.MakeTableEntry(data) + 8, // unaligned
            6 => g.MakeTableEntry(data) | (1UL << rng.Next(0, 12)) | (rng.Next(2) == 0 ? 0 : 1UL << rng.Next(52, 64)), // stray flags
            7 => g.MakeLeafEntry(PageTableLevel.Pte, data, 0), // a page entry at an upper level
            8 => g.HoldsLeaves(level) ? g.MakeLeafEntry(level, data & ~(g.Size(level) - 1), 0) | (1UL << rng.Next(0, 12)) : tableFlags | 0x80,
            _ => tableFlags | 0x80 | 0x400, // x86 PS (a leaf at pmd/pud, bad above); arm64 a table with stray low bits
        };
        return value & mask;
    }

    /// <summary>Overwrites 1 to 5 entries the tables hold (or slots next to them) with hostile values; what it wrote.</summary>
    public static List<string> Corrupt(Mm mm, Random rng)
    {
        var g = mm.Geometry;
        var written = new List<string>();
        var entries = mm.Snapshot();
        for (int k = rng.Next(1, 6); k > 0 && entries.Count > 0; k--)
        {
            var target = entries[rng.Next(entries.Count)];
            ulong va = target.Address + (rng.Next(2) == 0 ? 0 : (ulong)rng.Next(4) * g.Size(target.Level));
            ulong value = Value(mm, target.Level, rng);
            if (mm.SetEntry(target.Level, va, value))
            {
                written.Add($"{target.Level}@0x{va:x}=0x{value:x}");
            }
        }

        return written;
    }
}
