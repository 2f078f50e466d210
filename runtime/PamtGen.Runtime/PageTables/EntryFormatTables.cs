// A checked format resolved per level and kind: the tables the generated entry struct and the runtime's Geometry both
// encode and decode entries with.
using System.Collections.Generic;
using System.Linq;

namespace PamtGen;

internal static partial class EntryFormatRules
{
    /// <summary>The kinds of valid entry in the order of a level's two slots: its table entries, then its leaves.</summary>
    public static readonly EntryKinds[] SlotKinds = [EntryKinds.Table, EntryKinds.Leaf];

    /// <summary>The slots of a table with one per level and kind (<see cref="Slot"/>).</summary>
    public const int Slots = GeometryRules.LevelSlots * 2;

    /// <summary>The slot of the entries of <paramref name="kind"/> at <paramref name="depth"/>: the table entries, then the leaves, of each level.</summary>
    public static int Slot(int depth, EntryKinds kind) => (depth * 2) + (kind == EntryKinds.Leaf ? 1 : 0);

    /// <summary>True when <paramref name="levels"/> has the level at <paramref name="depth"/>.</summary>
    public static bool Has(EntryLevels levels, int depth) => depth >= 0 && depth < GeometryRules.LevelSlots && ((int)levels & (1 << depth)) != 0;

    /// <summary>The per-level encoding of a format that passed <see cref="Check"/>, for the runtime and the emitter.</summary>
    public static FormatTables Resolve(FormatDecl format, IReadOnlyList<LeafDecl> leaves, IReadOnlyList<FieldDecl> fields, IReadOnlyList<KernelChecksDecl> checks, int levels)
    {
        var t = new FormatTables(format, levels);
        for (int depth = 0; depth <= (int)PageTableLevel.Pte; depth++)
        {
            t.ValidMask[depth] = format.ValidMask;
            t.ValidValue[depth] = format.ValidValue;
            t.LeafMask[depth] = 0;
            t.LeafValue[depth] = 1; // (v & 0) == 1 never holds: no leaf at this level
            t.TableOk[depth] = depth < (int)PageTableLevel.Pte;
        }

        foreach (var leaf in leaves)
        {
            int d = leaf.Level;
            t.ValidMask[d] = leaf.ValidMask ?? format.ValidMask;
            t.ValidValue[d] = leaf.ValidValue ?? format.ValidValue;
            t.LeafMask[d] = leaf.LeafMask;
            t.LeafValue[d] = leaf.Level == (int)PageTableLevel.Pte ? 0 : leaf.LeafIfAnySet != 0 && leaf.LeafMask == 0 ? 1UL : leaf.LeafValue;
            t.LeafAny[d] = leaf.LeafIfAnySet;
            t.LeafAddressMask[d] = Mask(leaf.AddressLow, leaf.AddressHigh);
            t.LeafAddressLow[d] = leaf.AddressLow;
            t.LeafAddressShift[d] = leaf.AddressShift;
            t.CanLeaf[d] = true;
        }

        foreach (var name in fields.Select(f => f.Name).Distinct())
        {
            t.FieldSlots.Add(new FieldSlots(name, fields.Any(f => f.Name == name && f.HardwareUpdated)));
        }

        foreach (var field in fields)
        {
            ulong mask = Mask(field.Low, field.High);
            var slots = t.FieldSlots.First(s => s.Name == field.Name);
            for (int depth = 0; depth <= (int)PageTableLevel.Pte; depth++)
            {
                if (!Has(field.Levels, depth))
                {
                    continue;
                }

                foreach (var kind in SlotKinds)
                {
                    if ((field.Kinds & kind) != 0)
                    {
                        int slot = Slot(depth, kind);
                        slots.Masks[slot] = mask;
                        slots.Lows[slot] = field.Low;
                        if (field.BreakBeforeMake == BreakBeforeMakeRule.OnChange)
                        {
                            t.BbmOnChange[slot] |= mask;
                        }
                        else if (field.BreakBeforeMake == BreakBeforeMakeRule.OnSet)
                        {
                            t.BbmOnSet[slot] |= mask;
                        }
                    }
                }
            }
        }

        if (format.Permissions == PermissionModel.X86)
        {
            ResolveReservedBits(t, leaves);
        }

        ResolveKernelChecks(t, checks);

        // A level whose entries are checked by a level folded into it (the pgd on 4 levels: p4d_none() reads its entries)
        // takes that level's rules, so a lookup by either depth reads the same entry the same way.
        for (int depth = (int)PageTableLevel.Pte - 1; depth >= 0; depth--)
        {
            if (!IsEntryLevel(levels, depth))
            {
                t.CopyLevel(depth + 1, depth);
            }
        }

        return t;
    }

    /// <summary>
    /// The kernel's checks per depth: declared ones as their alternatives; elsewhere the hardware's view (no alternatives:
    /// Geometry and the entry struct use the valid, leaf and table rules), pXd_present() the level's valid rule. The pte
    /// counts as declared with no leaf and a table rule nothing fails: there is no pte_leaf() or pte_bad().
    /// </summary>
    private static void ResolveKernelChecks(FormatTables t, IReadOnlyList<KernelChecksDecl> checks)
    {
        for (int depth = 0; depth <= (int)PageTableLevel.Pte; depth++)
        {
            var check = depth < (int)PageTableLevel.Pte ? checks.FirstOrDefault(c => c.Level == depth) : new KernelChecksDecl(depth, BitPatterns.None, BitPatterns.None, 0, 0);
            var present = check is null || check.Present.Count == 0 ? new BitPatterns([t.ValidMask[depth]], [t.ValidValue[depth]]) : check.Present;
            t.KernelDeclared[depth] = check is not null;
            for (int k = 0; k < BitPatterns.Max; k++)
            {
                bool leaf = check is not null && k < check.Leaf.Count;
                t.KernelLeafMask[k][depth] = leaf ? check!.Leaf.Masks[k] : 0;
                t.KernelLeafValue[k][depth] = leaf ? check!.Leaf.Values[k] : 1; // (v & 0) == 1 never holds
                t.KernelPresentMask[k][depth] = k < present.Count ? present.Masks[k] : 0;
                t.KernelPresentValue[k][depth] = k < present.Count ? present.Values[k] : 1;
            }

            t.KernelTableMask[depth] = check?.TableMask ?? 0;
            t.KernelTableValue[depth] = check?.TableValue ?? 0;
        }
    }

    /// <summary>
    /// x86's reserved bits (SDM 4.5, tables 4-15 to 4-20), derived from the format: in a block, the bits a page's address
    /// field has that the block's has not and no field uses (bits [20:13] of a 2 MiB page); in a table entry at a level
    /// without leaves, the leaf rule's bits (PS in a PML4E); in every address field, the bits at or above
    /// PhysicalAddressBits (MAXPHYADDR).
    /// </summary>
    private static void ResolveReservedBits(FormatTables t, IReadOnlyList<LeafDecl> leaves)
    {
        var pte = leaves.FirstOrDefault(l => l.Level == (int)PageTableLevel.Pte);
        if (pte is null)
        {
            return;
        }

        ulong pageAddress = Mask(pte.AddressLow, pte.AddressHigh);
        ulong leafRules = leaves.Aggregate(0UL, (bits, l) => bits | l.LeafMask | l.LeafIfAnySet);
        ulong aboveMaxPhys = t.Format.PhysicalAddressBits >= 64 ? 0 : ~0UL << t.Format.PhysicalAddressBits;
        for (int depth = 0; depth <= (int)PageTableLevel.Pte; depth++)
        {
            ulong used(int slot) => t.FieldSlots.Aggregate(0UL, (bits, f) => bits | f.Masks[slot]);
            if (depth < (int)PageTableLevel.Pte)
            {
                ulong tableHigh = (t.TableAddressMask >> t.Format.TableAddressLow << t.Format.TableAddressShift) & aboveMaxPhys;
                int tableSlot = Slot(depth, EntryKinds.Table);
                t.Reserved[tableSlot] = ((tableHigh >> t.Format.TableAddressShift) << t.Format.TableAddressLow) | (t.CanLeaf[depth] ? 0 : leafRules & ~used(tableSlot));
            }

            if (t.CanLeaf[depth])
            {
                int slot = Slot(depth, EntryKinds.Leaf);
                ulong leafAddress = t.LeafAddressMask[depth];
                ulong leafHigh = ((leafAddress >> t.LeafAddressLow[depth]) << t.LeafAddressShift[depth]) & aboveMaxPhys;
                t.Reserved[slot] = (pageAddress & ~leafAddress & ~used(slot) & ~t.LeafMask[depth]) | ((leafHigh >> t.LeafAddressShift[depth]) << t.LeafAddressLow[depth]);
            }
        }
    }

    /// <summary>The bits of the field <paramref name="name"/> wherever it lies (a permission field lies at one place in every entry that has it), 0 when the format has none.</summary>
    public static ulong FieldMask(FormatTables t, string name) =>
        t.FieldSlots.FirstOrDefault(f => f.Name == name) is { } field ? field.Masks.Aggregate(0UL, (bits, m) => bits | m) : 0;
}

/// <summary>A format resolved per level (by depth, folded levels carrying their table's rules), and per level and kind for break-before-make.</summary>
internal sealed class FormatTables(FormatDecl format, int levels)
{
    public FormatDecl Format { get; } = format;

    public int Levels { get; } = levels;

    public ulong[] ValidMask { get; } = new ulong[GeometryRules.LevelSlots];

    public ulong[] ValidValue { get; } = new ulong[GeometryRules.LevelSlots];

    public ulong[] LeafMask { get; } = new ulong[GeometryRules.LevelSlots];

    public ulong[] LeafValue { get; } = new ulong[GeometryRules.LevelSlots];

    public ulong[] LeafAny { get; } = new ulong[GeometryRules.LevelSlots];

    public ulong[] LeafAddressMask { get; } = new ulong[GeometryRules.LevelSlots];

    public int[] LeafAddressLow { get; } = new int[GeometryRules.LevelSlots];

    public int[] LeafAddressShift { get; } = new int[GeometryRules.LevelSlots];

    public bool[] CanLeaf { get; } = new bool[GeometryRules.LevelSlots];

    public bool[] TableOk { get; } = new bool[GeometryRules.LevelSlots];

    /// <summary>True where [EntryKernelChecks] says how the kernel reads the level (and at the pte, which has no such helpers).</summary>
    public bool[] KernelDeclared { get; } = new bool[GeometryRules.LevelSlots];

    /// <summary>pXd_leaf()'s alternatives, [alternative][depth]; mask 0 and value 1 where there is none.</summary>
    public ulong[][] KernelLeafMask { get; } = [new ulong[GeometryRules.LevelSlots], new ulong[GeometryRules.LevelSlots], new ulong[GeometryRules.LevelSlots]];

    public ulong[][] KernelLeafValue { get; } = [new ulong[GeometryRules.LevelSlots], new ulong[GeometryRules.LevelSlots], new ulong[GeometryRules.LevelSlots]];

    /// <summary>pXd_present()'s alternatives, [alternative][depth]: the declared ones, or the level's valid rule.</summary>
    public ulong[][] KernelPresentMask { get; } = [new ulong[GeometryRules.LevelSlots], new ulong[GeometryRules.LevelSlots], new ulong[GeometryRules.LevelSlots]];

    public ulong[][] KernelPresentValue { get; } = [new ulong[GeometryRules.LevelSlots], new ulong[GeometryRules.LevelSlots], new ulong[GeometryRules.LevelSlots]];

    /// <summary>pXd_bad() is false exactly when (entry &amp; mask) == value, by depth (where declared).</summary>
    public ulong[] KernelTableMask { get; } = new ulong[GeometryRules.LevelSlots];

    public ulong[] KernelTableValue { get; } = new ulong[GeometryRules.LevelSlots];

    /// <summary>By slot (<see cref="EntryFormatRules.Slot"/>): the bits whose change needs break-before-make.</summary>
    public ulong[] BbmOnChange { get; } = new ulong[EntryFormatRules.Slots];

    /// <summary>By slot (<see cref="EntryFormatRules.Slot"/>): the bits whose setting (0 to 1) needs break-before-make.</summary>
    public ulong[] BbmOnSet { get; } = new ulong[EntryFormatRules.Slots];

    /// <summary>By slot (<see cref="EntryFormatRules.Slot"/>): the reserved bits, set in a valid entry a fault (x86 RSVD); 0 for formats without the x86 permission model.</summary>
    public ulong[] Reserved { get; } = new ulong[EntryFormatRules.Slots];

    public ulong TableAddressMask => EntryFormatRules.Mask(Format.TableAddressLow, Format.TableAddressHigh);

    /// <summary>Each field name with where it lies per level and kind: how attributes move between levels (x86 PAT: bit 7 of a PTE, bit 12 of a block).</summary>
    public List<FieldSlots> FieldSlots { get; } = [];

    public void CopyLevel(int from, int to)
    {
        ValidMask[to] = ValidMask[from];
        ValidValue[to] = ValidValue[from];
        LeafMask[to] = LeafMask[from];
        LeafValue[to] = LeafValue[from];
        LeafAny[to] = LeafAny[from];
        LeafAddressMask[to] = LeafAddressMask[from];
        LeafAddressLow[to] = LeafAddressLow[from];
        LeafAddressShift[to] = LeafAddressShift[from];
        CanLeaf[to] = CanLeaf[from];
        TableOk[to] = TableOk[from];
        KernelDeclared[to] = KernelDeclared[from];
        KernelTableMask[to] = KernelTableMask[from];
        KernelTableValue[to] = KernelTableValue[from];
        for (int k = 0; k < BitPatterns.Max; k++)
        {
            KernelLeafMask[k][to] = KernelLeafMask[k][from];
            KernelLeafValue[k][to] = KernelLeafValue[k][from];
            KernelPresentMask[k][to] = KernelPresentMask[k][from];
            KernelPresentValue[k][to] = KernelPresentValue[k][from];
        }

        foreach (var kind in EntryFormatRules.SlotKinds)
        {
            int source = EntryFormatRules.Slot(from, kind), target = EntryFormatRules.Slot(to, kind);
            BbmOnChange[target] = BbmOnChange[source];
            BbmOnSet[target] = BbmOnSet[source];
            Reserved[target] = Reserved[source];
            foreach (var field in FieldSlots)
            {
                field.Masks[target] = field.Masks[source];
                field.Lows[target] = field.Lows[source];
            }
        }
    }
}

/// <summary>One field name: its mask and low bit per slot (<see cref="EntryFormatRules.Slot"/>); mask 0 where the entry has no such field.</summary>
internal sealed class FieldSlots(string name, bool hardwareUpdated)
{
    public string Name { get; } = name;

    /// <summary>Set by the hardware walker (accessed, dirty): pages a block replaces may differ in it, and collapsing merges it.</summary>
    public bool HardwareUpdated { get; } = hardwareUpdated;

    public ulong[] Masks { get; } = new ulong[EntryFormatRules.Slots];

    public int[] Lows { get; } = new int[EntryFormatRules.Slots];
}
