// The entry-format rules, compiled into the runtime and, linked, into the generator, as GeometryRules.cs is: what the
// other rule files share (entry levels, masks, names, root tables).
// It targets netstandard2.0 too, as every rule file the generator links: no API newer than that.
using System.Collections.Generic;
using System.Globalization;

namespace PamtGen;

/// <summary>
/// The entry-format rules, in one class over five files by concern: the declarations as read
/// (EntryFormatDeclarations.cs), the checks of a format against its geometry (EntryFormatChecks.cs), the resolved per-level
/// tables the encoders use (EntryFormatTables.cs), the permission models' fields (EntryPermissions.cs), and here what
/// they share. Levels are the depths whose checks read an entry (the kernel's pXd_none()/pXd_leaf(): on 4 levels the top
/// table's entries are p4d entries, on 3 levels pud entries, on 2 levels pmd entries), and the pte.
/// </summary>
internal static partial class EntryFormatRules
{
    /// <summary>
    /// Whether the default format (x86's, for a geometry that declares none) keeps <paramref name="leaf"/>: only at a level
    /// whose entries the geometry checks, and whose leaves fit the physical address space.
    /// </summary>
    public static bool DefaultKeeps(LeafDecl leaf, FormatDecl format, int pageShift, int entrySize, int levels) =>
        IsEntryLevel(levels, leaf.Level) && GeometryRules.Shifts(pageShift, entrySize, levels)[leaf.Level] < format.PhysicalAddressBits;

    /// <summary>True when <paramref name="field"/> belongs to some entry of the geometry: a table entry at an entry level above the pte, or a leaf at a level with <paramref name="leaves"/>.</summary>
    public static bool FieldApplies(FieldDecl field, IEnumerable<LeafDecl> leaves, int levels)
    {
        for (int depth = 0; depth <= (int)PageTableLevel.Pte; depth++)
        {
            if (!Has(field.Levels, depth) || !IsEntryLevel(levels, depth))
            {
                continue;
            }

            if ((field.Kinds & EntryKinds.Table) != 0 && depth < (int)PageTableLevel.Pte)
            {
                return true;
            }

            foreach (var leaf in leaves)
            {
                if ((field.Kinds & EntryKinds.Leaf) != 0 && leaf.Level == depth)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>True when the entries at <paramref name="depth"/> are read by that level's own checks (or it is the pte).</summary>
    public static bool IsEntryLevel(int levels, int depth) =>
        depth == (int)PageTableLevel.Pte || (depth >= 0 && depth < (int)PageTableLevel.Pte && GeometryRules.ChecksEntry(levels, (PageTableLevel)depth));

    /// <summary>Why <paramref name="concatenated"/> root tables do not fit the geometry, or null when they do.</summary>
    public static string? RootTablesProblem(int pageShift, int entrySize, int levels, int virtualAddressBits, int concatenated)
    {
        if (concatenated is not (1 or 2 or 4 or 8 or 16))
        {
            return $"{concatenated} root tables: a root concatenates 2, 4, 8 or 16 tables, or is one";
        }

        int bits = GeometryRules.BitsPerLevel(pageShift, entrySize);
        int topBits = virtualAddressBits - GeometryRules.TopShift(pageShift, entrySize, levels);
        int wanted = bits + Log2(concatenated);
        return concatenated > 1 && topBits != wanted
            ? $"{concatenated} concatenated root tables of {1 << bits} entries resolve {wanted} bits, but {virtualAddressBits} virtual-address bits leave {topBits} for the top level"
            : null;
    }

    public static ulong Mask(int low, int high) =>
        high - low >= 63 ? ulong.MaxValue : ((1UL << (high - low + 1)) - 1) << low;

    public static string Name(int depth) => depth >= 0 && depth <= (int)PageTableLevel.Pte ? ((PageTableLevel)depth).ToString() : depth.ToString(CultureInfo.InvariantCulture);

    public static int Log2(int value)
    {
        int log = 0;
        while ((1 << log) < value)
        {
            log++;
        }

        return log;
    }
}
