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
            t[depth].ValidMask = format.ValidMask;
            t[depth].ValidValue = format.ValidValue;
            t[depth].ValidAny = format.ValidAny;
            t[depth].LeafMask = 0;
            t[depth].TableOk = depth < (int)PageTableLevel.Pte;
        }

        foreach (var leaf in leaves)
        {
            int d = leaf.Level;
            t[d].ValidMask = leaf.ValidMask ?? format.ValidMask;
            t[d].ValidValue = leaf.ValidValue ?? format.ValidValue;
            t[d].LeafMask = leaf.LeafMask;
            t[d].LeafValue = leaf.Level == (int)PageTableLevel.Pte ? 0 : leaf.LeafIfAnySet != 0 && leaf.LeafMask == 0 ? 1UL : leaf.LeafValue;
            t[d].LeafAny = leaf.LeafIfAnySet;
            t[d].LeafAddressMask = Mask(leaf.AddressLow, leaf.AddressHigh);
            t[d].LeafAddressLow = leaf.AddressLow;
            t[d].LeafAddressShift = leaf.AddressShift;
            t[d].CanLeaf = true;
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

        if (format.Permissions is PermissionModel.X86 or PermissionModel.RiscV or PermissionModel.IntelEpt)
        {
            ResolveReservedBits(t, leaves);
        }

        for (int depth = 0; depth <= (int)PageTableLevel.Pte; depth++)
        {
            t.Reserved[Slot(depth, EntryKinds.Leaf)] |= t[depth].CanLeaf ? format.ReservedBits : 0;
            t.Reserved[Slot(depth, EntryKinds.Table)] |= depth < (int)PageTableLevel.Pte ? format.ReservedBits | format.TableReservedBits : 0;
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
            var present = check is null || check.Present.Count == 0 ? ValidPatterns(t[depth]) : check.Present;
            t[depth].KernelDeclared = check is not null;
            for (int k = 0; k < BitPatterns.Max; k++)
            {
                bool leaf = check is not null && k < check.Leaf.Count;
                t[depth].KernelLeafMasks[k] = leaf ? check!.Leaf.Masks[k] : 0;
                t[depth].KernelLeafValues[k] = leaf ? check!.Leaf.Values[k] : 1; // (v & 0) == 1 never holds
                t[depth].KernelPresentMasks[k] = k < present.Count ? present.Masks[k] : 0;
                t[depth].KernelPresentValues[k] = k < present.Count ? present.Values[k] : 1;
            }

            t[depth].KernelTableMask = check?.TableMask ?? 0;
            t[depth].KernelTableValue = check?.TableValue ?? 0;
        }
    }

    /// <summary>
    /// A level's valid rule as alternatives, as pXd_present() tests it: the mask rule, or with an any-set rule one
    /// alternative per bit (EPT: R, W or X).
    /// </summary>
    public static BitPatterns ValidPatterns(LevelRules level) => ValidPatterns(level.ValidMask, level.ValidValue, level.ValidAny);

    /// <inheritdoc cref="ValidPatterns(LevelRules)"/>
    public static BitPatterns ValidPatterns(ulong mask, ulong value, ulong any)
    {
        if (any == 0)
        {
            return new BitPatterns([mask], [value]);
        }

        var bits = Enumerable.Range(0, 64).Where(b => (any >> b & 1) != 0).Select(b => 1UL << b).ToArray();
        return new BitPatterns(bits.Select(b => mask | b).ToArray(), bits.Select(b => value | b).ToArray());
    }

    /// <summary>
    /// The reserved bits of x86 (SDM 4.5, tables 4-15 to 4-20) and RISC-V (a misaligned superpage's low PPN bits),
    /// derived from the format: in a block, the bits a page's address
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
                t.Reserved[tableSlot] = ((tableHigh >> t.Format.TableAddressShift) << t.Format.TableAddressLow) | (t[depth].CanLeaf ? 0 : leafRules & ~used(tableSlot));
            }

            if (t[depth].CanLeaf)
            {
                int slot = Slot(depth, EntryKinds.Leaf);
                ulong leafAddress = t[depth].LeafAddressMask;
                ulong leafHigh = ((leafAddress >> t[depth].LeafAddressLow) << t[depth].LeafAddressShift) & aboveMaxPhys;
                t.Reserved[slot] = (pageAddress & ~leafAddress & ~used(slot) & ~t[depth].LeafMask) | ((leafHigh >> t[depth].LeafAddressShift) << t[depth].LeafAddressLow);
            }
        }
    }

    /// <summary>The bits of the field <paramref name="name"/> wherever it lies (a permission field lies at one place in every entry that has it), 0 when the format has none.</summary>
    public static ulong FieldMask(FormatTables t, string name) =>
        t.FieldSlots.FirstOrDefault(f => f.Name == name) is { } field ? field.Masks.Aggregate(0UL, (bits, m) => bits | m) : 0;
}

/// <summary>
/// A format resolved per level (one <see cref="LevelRules"/> by depth, folded levels carrying their table's rules), and
/// per level and kind (by slot, <see cref="EntryFormatRules.Slot"/>) for break-before-make, reserved bits and fields.
/// </summary>
internal sealed class FormatTables
{
    private readonly LevelRules[] _levels;

    public FormatTables(FormatDecl format, int levels)
    {
        Format = format;
        Levels = levels;
        _levels = Enumerable.Range(0, GeometryRules.LevelSlots).Select(_ => new LevelRules()).ToArray();
    }

    public FormatDecl Format { get; }

    public int Levels { get; }

    /// <summary>The rules of the level at <paramref name="depth"/>.</summary>
    public LevelRules this[int depth] => _levels[depth];

    /// <summary>One rule of every level, pgd first: a column of the per-level tables the entry struct is generated with.</summary>
    public T[] Column<T>(System.Func<LevelRules, T> rule) => _levels.Select(rule).ToArray();

    /// <summary>By slot (<see cref="EntryFormatRules.Slot"/>): the bits whose change needs break-before-make.</summary>
    public ulong[] BbmOnChange { get; } = new ulong[EntryFormatRules.Slots];

    /// <summary>By slot (<see cref="EntryFormatRules.Slot"/>): the bits whose setting (0 to 1) needs break-before-make.</summary>
    public ulong[] BbmOnSet { get; } = new ulong[EntryFormatRules.Slots];

    /// <summary>
    /// By slot (<see cref="EntryFormatRules.Slot"/>): the reserved bits, set in a valid entry a fault (x86 RSVD; RISC-V's
    /// reserved bits and misaligned superpages): derived from the layout for the x86 and RISC-V permission models, plus the
    /// format's declared <c>ReservedBits</c> and <c>TableReservedBits</c>.
    /// </summary>
    public ulong[] Reserved { get; } = new ulong[EntryFormatRules.Slots];

    /// <summary>A valid entry matching one of these is reserved (RISC-V W without R; EPT W without R, memory types 2, 3, 7).</summary>
    public BitPatterns ReservedEncodings => Format.Encodings;

    public ulong TableAddressMask => EntryFormatRules.Mask(Format.TableAddressLow, Format.TableAddressHigh);

    /// <summary>Each field name with where it lies per level and kind: how attributes move between levels (x86 PAT: bit 7 of a PTE, bit 12 of a block).</summary>
    public List<FieldSlots> FieldSlots { get; } = [];

    /// <summary>Gives the level at <paramref name="to"/> the rules of the one at <paramref name="from"/> (a folded level its checker's).</summary>
    public void CopyLevel(int from, int to)
    {
        _levels[to] = _levels[from].Copy();
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

/// <summary>
/// One level's rules: how an entry there is valid, a leaf or a table, where a leaf's address lies, and the kernel's
/// checks. Fields, set once by <see cref="EntryFormatRules.Resolve"/> and read on every entry decode.
/// </summary>
internal sealed class LevelRules
{
    public ulong ValidMask;

    public ulong ValidValue;

    /// <summary>With the mask rule, one of these bits must be set (EPT R, W, X); 0: no such rule.</summary>
    public ulong ValidAny;

    /// <summary>The entry is valid by this level's rule.</summary>
    public bool IsValid(ulong entry) => EntryFormatRules.IsValid(entry, ValidMask, ValidValue, ValidAny);

    /// <summary>The leaf rule: a leaf when (entry &amp; LeafMask) == LeafValue, or any of <see cref="LeafAny"/> is set; mask 0 and value 1 where the level holds none.</summary>
    public ulong LeafMask;

    public ulong LeafValue = 1; // (v & 0) == 1 never holds: no leaf at this level

    public ulong LeafAny;

    public ulong LeafAddressMask;

    public int LeafAddressLow;

    public int LeafAddressShift;

    public bool CanLeaf;

    public bool TableOk;

    /// <summary>True where [EntryKernelChecks] says how the kernel reads the level (and at the pte, which has no such helpers).</summary>
    public bool KernelDeclared;

    /// <summary>pXd_leaf()'s alternatives; mask 0 and value 1 where there is none.</summary>
    public ulong[] KernelLeafMasks = new ulong[BitPatterns.Max];

    public ulong[] KernelLeafValues = new ulong[BitPatterns.Max];

    /// <summary>pXd_present()'s alternatives: the declared ones, or the level's valid rule.</summary>
    public ulong[] KernelPresentMasks = new ulong[BitPatterns.Max];

    public ulong[] KernelPresentValues = new ulong[BitPatterns.Max];

    /// <summary>pXd_bad() is false exactly when (entry &amp; mask) == value (where declared).</summary>
    public ulong KernelTableMask;

    public ulong KernelTableValue;

    public LevelRules Copy()
    {
        var copy = (LevelRules)MemberwiseClone();
        copy.KernelLeafMasks = (ulong[])KernelLeafMasks.Clone();
        copy.KernelLeafValues = (ulong[])KernelLeafValues.Clone();
        copy.KernelPresentMasks = (ulong[])KernelPresentMasks.Clone();
        copy.KernelPresentValues = (ulong[])KernelPresentValues.Clone();
        return copy;
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
