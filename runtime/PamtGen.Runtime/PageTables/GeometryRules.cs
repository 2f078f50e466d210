// One file of geometry rules, compiled into the runtime and, linked, into the generator (as dotnet/runtime
// compiles RegexParser.cs into the Regex source generator): the parser, the generator's model and emitter, and the
// runtime's Geometry take every range, level, folding and shift rule from here, and from nowhere else.
// It targets netstandard2.0 too: no API newer than that.
using System.Collections.Generic;
using System.Globalization;

namespace PamtGen;

/// <summary>Which geometry rule a declaration breaks: one diagnostic in the generator (PG1003 to PG1009, PG1021) each.</summary>
internal enum GeometryProblemKind
{
    PageShift,
    EntrySize,
    PtrsPerTable,
    PmdShift,
    Levels,
    RootTables,
    VirtualAddressBits,
    ElementSize,
}

/// <summary>
/// A broken geometry rule: which, the argument it is about, a sentence saying why (the runtime's exception), and the
/// values the generator's diagnostic message is formatted with.
/// </summary>
internal sealed record GeometryProblem(GeometryProblemKind Kind, string Argument, string Message, string[] Values);

/// <summary>
/// The page-table geometry rules of the kernel (include/asm-generic/pgtable-nop4d.h, -nopud.h, -nopmd.h for the
/// folding): what a geometry may be, and every number that follows from PAGE_SHIFT, the entry size, the levels
/// and the virtual-address bits. A <see cref="PageTableLevel"/>'s value is its walk depth, as <c>walk_page_range()</c>
/// counts them (0 = pgd ... 4 = pte); per-level arrays are indexed by it and have <see cref="LevelSlots"/> slots.
/// </summary>
internal static class GeometryRules
{
    /// <summary>The PAGE_SHIFTs accepted: 1 KiB to 1 MiB pages.</summary>
    public const int MinPageShift = 10, MaxPageShift = 20;

    /// <summary>The levels the kernel supports: pgd and pte, up to CONFIG_PGTABLE_LEVELS = 5 (pgd, p4d, pud, pmd, pte).</summary>
    public const int MinLevels = 2, MaxLevels = 5;

    /// <summary>The entry size when none is declared.</summary>
    public const int DefaultEntrySize = 8;

    /// <summary>The slots of an array with one per level, pgd to pte, folded levels included.</summary>
    public const int LevelSlots = (int)PageTableLevel.Pte + 1;

    /// <summary>
    /// Every problem of a geometry as declared, in the order the rules depend on each other: the entry size and the page
    /// size first, then what follows from them (the entries per table, PMD_SHIFT, the levels, the root tables, the
    /// virtual-address bits, the refcount size). A value not given (null) is not checked, nor what depends on it. The
    /// generator turns each problem into its diagnostic, <c>Geometry</c> into its exception: the rules live only here.
    /// </summary>
    public static List<GeometryProblem> Check(
        int? pageShift, int? entrySize, int? levels, int? virtualAddressBits, int? rootTables = 1, int? ptrsPerTable = null, int? pmdShift = null, int? elementSize = null)
    {
        var problems = new List<GeometryProblem>();
        if (entrySize is { } e && !EntrySizeValid(e))
        {
            problems.Add(new(GeometryProblemKind.EntrySize, "EntrySize", $"an entry is 4 or 8 bytes, not {e}", [Text(e)]));
        }

        if (pageShift is { } p && !PageShiftValid(p))
        {
            problems.Add(new(GeometryProblemKind.PageShift, "PageShift", $"PAGE_SHIFT {p} is outside {MinPageShift}..{MaxPageShift}", [Text(p)]));
        }

        bool levelsOk = levels is not { } l || LevelsValid(l);
        if (problems.Count > 0 || pageShift is null || entrySize is null)
        {
            if (!levelsOk)
            {
                problems.Add(LevelsProblem(levels!.Value));
            }

            return problems;
        }

        int shift = pageShift.Value, size = entrySize.Value, pageSize = 1 << shift;
        int fill = PtrsPerTable(shift, size);
        if (ptrsPerTable is { } ptrs && ptrs != fill)
        {
            problems.Add(new(GeometryProblemKind.PtrsPerTable, "PtrsPerPte", $"{ptrs} entries per table do not fill a {pageSize}-byte page of {size}-byte entries ({fill} do)", [Text(ptrs), Text(pageSize), Text(fill), Text(size)]));
        }

        int expectedPmdShift = PmdShift(shift, size);
        if (pmdShift is { } pmd && pmd != expectedPmdShift)
        {
            problems.Add(new(GeometryProblemKind.PmdShift, "PmdShift", $"PMD_SHIFT {pmd} is not PAGE_SHIFT {shift} + log2({fill}) = {expectedPmdShift}", [Text(pmd), Text(shift), Text(fill), Text(expectedPmdShift)]));
        }

        if (!levelsOk)
        {
            problems.Add(LevelsProblem(levels!.Value));
        }
        else if (levels is { } n && virtualAddressBits is { } va && rootTables is { } roots
            && EntryFormatRules.RootTablesProblem(shift, size, n, va, roots) is { } rootProblem)
        {
            problems.Add(new(GeometryProblemKind.RootTables, "RootTables", rootProblem, [rootProblem]));
        }
        else if (levels is { } m && virtualAddressBits is { } bits && VirtualAddressProblem(shift, size, m, bits, rootTables ?? 1) is { } vaProblem)
        {
            problems.Add(new(GeometryProblemKind.VirtualAddressBits, "VirtualAddressBits", $"{bits} virtual-address bits: {vaProblem}", [Text(bits), vaProblem]));
        }

        if (elementSize is { } element && (element < 1 || (element & (element - 1)) != 0 || element > pageSize))
        {
            problems.Add(new(GeometryProblemKind.ElementSize, "ElementSize", $"a refcount of {element} bytes: it must be a power of two no larger than the {pageSize}-byte page", [Text(element), Text(pageSize)]));
        }

        return problems;
    }

    private static GeometryProblem LevelsProblem(int levels) =>
        new(GeometryProblemKind.Levels, "Levels", $"{levels} levels: the kernel supports {MinLevels} to {MaxLevels}", [Text(levels)]);

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    public static bool PageShiftValid(int pageShift) => pageShift >= MinPageShift && pageShift <= MaxPageShift;

    public static bool EntrySizeValid(int entrySize) => entrySize is 4 or 8;

    public static bool LevelsValid(int levels) => levels >= MinLevels && levels <= MaxLevels;

    /// <summary>Address bits one table resolves: log2(PAGE_SIZE / entry size).</summary>
    public static int BitsPerLevel(int pageShift, int entrySize) => pageShift - (entrySize == 8 ? 3 : 2);

    /// <summary>PTRS_PER_PTE: the entries of a page of entries (every table below the top has as many).</summary>
    public static int PtrsPerTable(int pageShift, int entrySize) => 1 << BitsPerLevel(pageShift, entrySize);

    /// <summary>PMD_SHIFT: one level above the PTEs (equal to PGDIR_SHIFT when the pmd is folded, as on 2 levels).</summary>
    public static int PmdShift(int pageShift, int entrySize) => pageShift + BitsPerLevel(pageShift, entrySize);

    /// <summary>PGDIR_SHIFT: where the top table's bits start.</summary>
    public static int TopShift(int pageShift, int entrySize, int levels) => pageShift + ((levels - 1) * BitsPerLevel(pageShift, entrySize));

    /// <summary>PTRS_PER_PGD: the entries of the top table the virtual-address bits use.</summary>
    public static int PtrsPerPgd(int pageShift, int entrySize, int levels, int virtualAddressBits) =>
        1 << (virtualAddressBits - TopShift(pageShift, entrySize, levels));

    /// <summary>
    /// Why <paramref name="virtualAddressBits"/> cannot be translated by the levels, or null when they can: the top
    /// level must resolve at least one bit, and no more than a table's worth.
    /// </summary>
    public static string? VirtualAddressProblem(int pageShift, int entrySize, int levels, int virtualAddressBits, int rootTables = 1)
    {
        // A root of 2^k concatenated tables (arm64 stage 2) resolves k more bits at the top.
        int bits = BitsPerLevel(pageShift, entrySize) + (rootTables is 2 or 4 or 8 or 16 ? EntryFormatRules.Log2(rootTables) : 0);
        int topShift = TopShift(pageShift, entrySize, levels);
        if (virtualAddressBits > 64)
        {
            return "an address has 64 bits";
        }

        if (virtualAddressBits <= topShift)
        {
            return $"the top of {levels} levels starts at bit {topShift} and would resolve no bit; use fewer levels";
        }

        return virtualAddressBits > topShift + bits
            ? $"{levels} levels of {BitsPerLevel(pageShift, entrySize)} bits over {pageShift}-bit pages{(rootTables > 1 ? $" with {rootTables} root tables" : "")} translate only {topShift + bits} bits; use more levels"
            : null;
    }

    /// <summary>True when <paramref name="level"/> is folded: 4 levels fold the p4d, 3 also the pud, 2 also the pmd.</summary>
    public static bool IsFolded(int levels, PageTableLevel level) => level switch
    {
        PageTableLevel.P4d => levels < 5,
        PageTableLevel.Pud => levels < 4,
        PageTableLevel.Pmd => levels < 3,
        _ => false,
    };

    /// <summary>The levels that have tables of their own, top first (pgd ... pte).</summary>
    public static PageTableLevel[] RealLevels(int levels)
    {
        var real = new PageTableLevel[levels];
        int i = 0;
        for (var level = PageTableLevel.Pgd; level <= PageTableLevel.Pte; level++)
        {
            if (!IsFolded(levels, level))
            {
                real[i++] = level;
            }
        }

        return real;
    }

    /// <summary>
    /// The level whose <c>pXd_none()</c>/<c>pXd_leaf()</c> check the top table's entries: the lowest level folded into
    /// the pgd (p4d on 4 levels, pud on 3, pmd on 2), the pgd itself on 5. Its depth is the one <c>pte_hole</c> gets
    /// for a hole in the top table.
    /// </summary>
    public static PageTableLevel TopCheckLevel(int levels) => (PageTableLevel)(MaxLevels - levels);

    /// <summary>True when <c>pXd_none</c>/<c>pXd_leaf</c> look at the entry at <paramref name="level"/>; false when the level below is folded into it.</summary>
    public static bool ChecksEntry(int levels, PageTableLevel level) => level < PageTableLevel.Pte && !IsFolded(levels, level + 1);

    /// <summary>
    /// The shift of each level (PGDIR_SHIFT, P4D_SHIFT, PUD_SHIFT, PMD_SHIFT, PAGE_SHIFT), indexed by level: real levels
    /// from the pte up add a level's bits each; a folded level takes the shift of the level it is folded into.
    /// </summary>
    public static int[] Shifts(int pageShift, int entrySize, int levels)
    {
        int bits = BitsPerLevel(pageShift, entrySize);
        var shifts = new int[LevelSlots];
        shifts[(int)PageTableLevel.Pte] = pageShift;
        int shift = pageShift;
        for (var level = PageTableLevel.Pmd; level >= PageTableLevel.P4d; level--)
        {
            if (!IsFolded(levels, level))
            {
                shift += bits;
                shifts[(int)level] = shift;
            }
        }

        shifts[(int)PageTableLevel.Pgd] = TopShift(pageShift, entrySize, levels);
        for (var level = PageTableLevel.P4d; level <= PageTableLevel.Pmd; level++)
        {
            if (IsFolded(levels, level))
            {
                shifts[(int)level] = shifts[(int)level - 1];
            }
        }

        return shifts;
    }

    /// <summary>The entries of each level's table (PTRS_PER_PGD ... PTRS_PER_PTE), indexed by level; 1 for a folded level.</summary>
    public static int[] PtrsPerLevel(int pageShift, int entrySize, int levels, int virtualAddressBits)
    {
        var ptrs = new int[LevelSlots];
        for (var level = PageTableLevel.P4d; level <= PageTableLevel.Pte; level++)
        {
            ptrs[(int)level] = IsFolded(levels, level) ? 1 : PtrsPerTable(pageShift, entrySize);
        }

        ptrs[(int)PageTableLevel.Pgd] = PtrsPerPgd(pageShift, entrySize, levels, virtualAddressBits);
        return ptrs;
    }
}
