// One file of geometry rules, compiled into the runtime and, linked, into the generator (as dotnet/runtime
// compiles RegexParser.cs into the Regex source generator): the parser, the generator's model and emitter, and the
// runtime's Geometry take every range, level, folding and shift rule from here, and from nowhere else.
// It targets netstandard2.0 too: no API newer than that.
namespace PamtGen;

/// <summary>
/// The page-table geometry rules of the kernel (include/asm-generic/pgtable-nop4d.h, -nopud.h, -nopmd.h for the
/// folding): what a geometry may be, and every number that follows from PAGE_SHIFT, the entry size, the levels
/// and the virtual-address bits. Levels are walk depths, as <c>walk_page_range()</c> counts them: 0 = pgd,
/// 1 = p4d, 2 = pud, 3 = pmd, 4 = pte.
/// </summary>
internal static class GeometryRules
{
    /// <summary>The smallest PAGE_SHIFT accepted (1 KiB pages).</summary>
    public const int MinPageShift = 10;

    /// <summary>The largest PAGE_SHIFT accepted (1 MiB pages).</summary>
    public const int MaxPageShift = 20;

    /// <summary>The fewest levels the kernel supports (pgd and pte).</summary>
    public const int MinLevels = 2;

    /// <summary>The most levels the kernel supports (CONFIG_PGTABLE_LEVELS = 5: pgd, p4d, pud, pmd, pte).</summary>
    public const int MaxLevels = 5;

    /// <summary>The entry size when none is declared.</summary>
    public const int DefaultEntrySize = 8;

    public const int Pgd = 0, P4d = 1, Pud = 2, Pmd = 3, Pte = 4;

    /// <summary>The kernel's level names, by depth.</summary>
    public static readonly string[] LevelNames = ["Pgd", "P4d", "Pud", "Pmd", "Pte"];

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

    /// <summary>True when the level at <paramref name="depth"/> is folded: 4 levels fold the p4d, 3 also the pud, 2 also the pmd.</summary>
    public static bool IsFolded(int levels, int depth) => depth switch
    {
        P4d => levels < 5,
        Pud => levels < 4,
        Pmd => levels < 3,
        _ => false,
    };

    /// <summary>The depths of the levels that have tables of their own, top first (pgd ... pte).</summary>
    public static int[] RealLevels(int levels)
    {
        var real = new int[levels];
        for (int depth = Pgd, i = 0; depth <= Pte; depth++)
        {
            if (!IsFolded(levels, depth))
            {
                real[i++] = depth;
            }
        }

        return real;
    }

    /// <summary>
    /// The level whose <c>pXd_none()</c>/<c>pXd_leaf()</c> check the top table's entries: the lowest level folded into
    /// the pgd (p4d on 4 levels, pud on 3, pmd on 2), the pgd itself on 5. Its depth is the one <c>pte_hole</c> gets
    /// for a hole in the top table.
    /// </summary>
    public static int TopCheckDepth(int levels) => MaxLevels - levels;

    /// <summary>True when <c>pXd_none</c>/<c>pXd_leaf</c> look at the entry at <paramref name="depth"/>; false when the level below is folded into it.</summary>
    public static bool ChecksEntry(int levels, int depth) => depth < Pte && !IsFolded(levels, depth + 1);

    /// <summary>
    /// The shift of each level (PGDIR_SHIFT, P4D_SHIFT, PUD_SHIFT, PMD_SHIFT, PAGE_SHIFT), by depth: real levels from
    /// the pte up add a level's bits each; a folded level takes the shift of the level it is folded into.
    /// </summary>
    public static int[] Shifts(int pageShift, int entrySize, int levels)
    {
        int bits = BitsPerLevel(pageShift, entrySize);
        var shifts = new int[Pte + 1];
        shifts[Pte] = pageShift;
        int shift = pageShift;
        for (int depth = Pmd; depth >= P4d; depth--)
        {
            if (!IsFolded(levels, depth))
            {
                shift += bits;
                shifts[depth] = shift;
            }
        }

        shifts[Pgd] = TopShift(pageShift, entrySize, levels);
        for (int depth = P4d; depth <= Pmd; depth++)
        {
            if (IsFolded(levels, depth))
            {
                shifts[depth] = shifts[depth - 1];
            }
        }

        return shifts;
    }

    /// <summary>The entries of each level's table (PTRS_PER_PGD ... PTRS_PER_PTE), by depth; 1 for a folded level.</summary>
    public static int[] PtrsPerLevel(int pageShift, int entrySize, int levels, int virtualAddressBits)
    {
        var ptrs = new int[Pte + 1];
        for (int depth = P4d; depth <= Pte; depth++)
        {
            ptrs[depth] = IsFolded(levels, depth) ? 1 : PtrsPerTable(pageShift, entrySize);
        }

        ptrs[Pgd] = PtrsPerPgd(pageShift, entrySize, levels, virtualAddressBits);
        return ptrs;
    }
}
