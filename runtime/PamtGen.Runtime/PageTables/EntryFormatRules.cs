// One file of entry-format rules, compiled into the runtime and, linked, into the generator, as GeometryRules.cs is:
// how the format attributes' written arguments are read (the generator reads them from symbols, the runtime by
// reflection, both through ReadFormat/ReadLeaf/ReadField), every check of a format against its geometry, and the
// per-level tables the generated entry struct and the runtime's Geometry both encode entries with.
// It targets netstandard2.0 too: no API newer than that.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace PamtGen;

/// <summary>[EntryFormat] as read: the valid rule, the table entry and the physical-address bits.</summary>
internal sealed record FormatDecl(
    string? Name, int PhysicalAddressBits, ulong ValidMask, ulong ValidValue,
    int TableAddressLow, int TableAddressHigh, int TableAddressShift, ulong TableBits, bool BreakBeforeMake, ulong PageBits,
    int Permissions = EntryFormatRules.PermissionsNone);

/// <summary>[EntryLeaf] as read: which level holds leaves, how they are told from tables there, and their output address.</summary>
internal sealed record LeafDecl(
    int Level, ulong? ValidMask, ulong? ValidValue, ulong LeafMask, ulong LeafValue, ulong LeafIfAnySet,
    int AddressLow, int AddressHigh, int AddressShift);

/// <summary>[EntryField] as read: a named bit range, the levels (a bit per depth) and kinds (1 table, 2 leaf) it belongs to.</summary>
internal sealed record FieldDecl(string Name, int Low, int High, int Levels, int Kinds, int BreakBeforeMake, bool HardwareUpdated);

/// <summary>[EntryKernelChecks] as read: the kernel's pXd_leaf(), pXd_present() and pXd_bad() at one upper level.</summary>
internal sealed record KernelChecksDecl(int Level, BitPatterns Leaf, BitPatterns Present, ulong TableMask, ulong TableValue);

/// <summary>
/// Alternatives of a rule on an entry's bits: it matches when <c>(entry &amp; Masks[i]) == Values[i]</c> for some i. Equal by
/// content, so a declaration that holds them stays value-equatable for the generator's pipeline.
/// </summary>
internal sealed record BitPatterns(ulong[] Masks, ulong[] Values)
{
    /// <summary>The most alternatives a rule may have (the generated entry struct tests each without a branch).</summary>
    public const int Max = 3;

    /// <summary>No alternative: nothing matches.</summary>
    public static BitPatterns None { get; } = new([], []);

    public int Count => Masks.Length;

    public bool Matches(ulong entry)
    {
        for (int i = 0; i < Masks.Length; i++)
        {
            if ((entry & Masks[i]) == Values[i])
            {
                return true;
            }
        }

        return false;
    }

    public bool Equals(BitPatterns? other) => other is not null && Masks.SequenceEqual(other.Masks) && Values.SequenceEqual(other.Values);

    public override int GetHashCode() => Masks.Aggregate(Values.Aggregate(17, (h, v) => (h * 31) + v.GetHashCode()), (h, m) => (h * 31) + m.GetHashCode());
}

/// <summary>
/// What is wrong with a format: which rule (the PG1016.. diagnostic), which attribute (-1 the [EntryFormat] or the
/// geometry, 0.. the leaves in order, <see cref="EntryFormatRules.FieldBase"/> + i the fields,
/// <see cref="EntryFormatRules.KernelChecksBase"/> + i the kernel checks), which argument, and why.
/// </summary>
internal sealed record FormatProblem(FormatProblemKind Kind, int Attribute, string Argument, string Message);

internal enum FormatProblemKind
{
    FieldsOverlap,
    OutsideEntry,
    AddressTooNarrow,
    LevelInvalid,
    RuleAmbiguous,
    RootTablesInvalid,
    FormatMissing,
    FieldName,
    PermissionFields,
}

/// <summary>
/// The entry-format rules. Levels are the depths whose checks read an entry (the kernel's pXd_none()/pXd_leaf(): on
/// 4 levels the top table's entries are p4d entries, on 3 levels pud entries, on 2 levels pmd entries), and the pte.
/// </summary>
internal static class EntryFormatRules
{
    public const int KindTable = 1, KindLeaf = 2;
    public const int BbmNone = 0, BbmOnChange = 1, BbmOnSet = 2;
    public const int AllLevels = 31;
    public const int FieldBase = 1000;
    public const int KernelChecksBase = 2000;

    /// <summary>PermissionModel's values: how a translation combines the entries' permission fields.</summary>
    public const int PermissionsNone = 0, PermissionsX86 = 1, PermissionsArm64Stage1 = 2, PermissionsArm64Stage2 = 3;

    /// <summary>
    /// The fields each permission model reads, with their width in bits and the kinds of entry that must have them
    /// (at every level that has such entries); a name with width 0 is optional (32-bit x86 has no NoExecute).
    /// </summary>
    public static readonly (string Name, int Width, int Kinds)[][] PermissionFields =
    [
        [],
        [("Writable", 1, KindTable | KindLeaf), ("User", 1, KindTable | KindLeaf), ("Accessed", 1, KindTable | KindLeaf), ("Dirty", 1, KindLeaf), ("NoExecute", 0, KindTable | KindLeaf)],
        [("AccessPermissions", 2, KindLeaf), ("AccessFlag", 1, KindLeaf), ("DirtyBitModifier", 1, KindLeaf), ("PrivilegedExecuteNever", 1, KindLeaf), ("UnprivilegedExecuteNever", 1, KindLeaf), ("PxnTable", 1, KindTable), ("UxnTable", 1, KindTable), ("ApTable", 2, KindTable)],
        [("S2AccessPermissions", 2, KindLeaf), ("AccessFlag", 1, KindLeaf), ("DirtyBitModifier", 1, KindLeaf), ("ExecuteNever", 1, KindLeaf)],
    ];

    /// <summary>The model names, by value, for messages.</summary>
    public static readonly string[] PermissionModelNames = ["None", "X86", "Arm64Stage1", "Arm64Stage2"];

    /// <summary>The members the generated entry struct has; a field cannot take one of these names.</summary>
    public static readonly string[] ReservedNames =
    [
        "Value", "IsNone", "IsValid", "IsTable", "IsLeaf", "OutputAddress", "TableAddress", "Table", "Block", "Page",
        "NeedsBreakBeforeMake", "Equals", "GetHashCode", "ToString", "Format", "Entry", "GetType", "Pfn", "KernelPage",
        "PxdLeaf", "PxdPresent", "PxdBad",
    ];

    /// <summary>Reads [EntryFormat]'s written named arguments; null after a problem when a required one is missing.</summary>
    public static FormatDecl? ReadFormat(Func<string, object?> named, List<FormatProblem> problems)
    {
        int? pa = Int(named("PhysicalAddressBits"));
        int? low = Int(named("TableAddressLow"));
        int? high = Int(named("TableAddressHigh"));
        Require(pa, -1, "PhysicalAddressBits", problems);
        Require(low, -1, "TableAddressLow", problems);
        Require(high, -1, "TableAddressHigh", problems);
        ulong validMask = ULong(named("ValidMask")) ?? 1;
        ulong validValue = ULong(named("ValidValue")) ?? validMask;
        if (pa is null || low is null || high is null)
        {
            return null;
        }

        return new FormatDecl(
            named("Name") as string, pa.Value, validMask, validValue, low.Value, high.Value, Int(named("TableAddressShift")) ?? low.Value,
            ULong(named("TableBits")) ?? validValue, named("BreakBeforeMake") is true, ULong(named("PageBits")) ?? 0,
            Int(named("Permissions")) ?? PermissionsNone);
    }

    /// <summary>Reads one [EntryLeaf] (its level is the constructor argument).</summary>
    public static LeafDecl? ReadLeaf(int index, int level, Func<string, object?> named, List<FormatProblem> problems)
    {
        int? low = Int(named("AddressLow"));
        int? high = Int(named("AddressHigh"));
        Require(low, index, "AddressLow", problems);
        Require(high, index, "AddressHigh", problems);
        if (low is null || high is null)
        {
            return null;
        }

        ulong? validMask = ULong(named("ValidMask"));
        ulong leafMask = ULong(named("LeafMask")) ?? 0;
        return new LeafDecl(
            level, validMask, ULong(named("ValidValue")) ?? validMask, leafMask, ULong(named("LeafValue")) ?? leafMask,
            ULong(named("LeafIfAnySet")) ?? 0, low.Value, high.Value, Int(named("AddressShift")) ?? low.Value);
    }

    /// <summary>Reads one [EntryKernelChecks] (its level is the constructor argument); arrays come as object arrays of their elements.</summary>
    public static KernelChecksDecl ReadKernelChecks(int level, Func<string, object?> named) =>
        new(level, Patterns(named("LeafMasks"), named("LeafValues")), Patterns(named("PresentMasks"), named("PresentValues")),
            ULong(named("TableMask")) ?? 0, ULong(named("TableValue")) ?? 0);

    /// <summary>Masks and their values (each value defaulting to its mask); a value without a mask is kept for the check to report.</summary>
    private static BitPatterns Patterns(object? masks, object? values)
    {
        ulong[] m = ULongs(masks), v = ULongs(values);
        var resolved = new ulong[Math.Max(m.Length, v.Length)];
        for (int i = 0; i < resolved.Length; i++)
        {
            resolved[i] = i < v.Length ? v[i] : m[i];
        }

        return new BitPatterns(m.Length >= v.Length ? m : m.Concat(new ulong[v.Length - m.Length]).ToArray(), resolved);
    }

    private static ulong[] ULongs(object? value) => value switch
    {
        null => [],
        ulong[] array => array,
        object?[] array => array.Select(v => ULong(v) ?? 0).ToArray(),
        _ => [ULong(value) ?? 0],
    };

    /// <summary>Reads one [EntryField] (name, low and high bit are constructor arguments; high defaults to low).</summary>
    public static FieldDecl ReadField(string name, int low, int high, Func<string, object?> named) =>
        new(name, low, high, Int(named("Levels")) ?? AllLevels, Int(named("Kinds")) ?? (KindTable | KindLeaf), Int(named("BreakBeforeMake")) ?? BbmNone,
            named("HardwareUpdated") is true);

    /// <summary>
    /// Every problem of a format on a geometry (given as the rules of <see cref="GeometryRules"/> see it), in
    /// declaration order.
    /// </summary>
    public static List<FormatProblem> Check(
        FormatDecl format, IReadOnlyList<LeafDecl> leaves, IReadOnlyList<FieldDecl> fields, IReadOnlyList<KernelChecksDecl> checks,
        int pageShift, int entrySize, int levels)
    {
        var problems = new List<FormatProblem>();
        int bits = entrySize * 8;
        int[] shifts = GeometryRules.Shifts(pageShift, entrySize, levels);
        CheckValidRule(format.ValidMask, format.ValidValue, -1, "ValidMask", bits, problems);
        if (format.PhysicalAddressBits <= pageShift || format.PhysicalAddressBits > 64)
        {
            problems.Add(new(FormatProblemKind.AddressTooNarrow, -1, "PhysicalAddressBits", $"{format.PhysicalAddressBits} physical-address bits: a page of 2^{pageShift} bytes needs more than {pageShift}, and an address has at most 64"));
        }

        bool tableFieldOk = CheckAddressField(format.TableAddressLow, format.TableAddressHigh, format.TableAddressShift, pageShift, "a table (page-aligned)", format.PhysicalAddressBits, -1, "TableAddress", bits, problems);
        ulong tableAddressMask = tableFieldOk ? Mask(format.TableAddressLow, format.TableAddressHigh) : 0;
        if (!Fits(format.TableBits, bits))
        {
            problems.Add(new(FormatProblemKind.OutsideEntry, -1, "TableBits", $"TableBits 0x{format.TableBits:x} has bits above the {bits}-bit entry"));
        }
        else if ((format.TableBits & tableAddressMask) != 0)
        {
            problems.Add(new(FormatProblemKind.FieldsOverlap, -1, "TableBits", $"TableBits 0x{format.TableBits:x} overlap the table address field [{format.TableAddressHigh}:{format.TableAddressLow}]"));
        }

        if ((format.TableBits & format.ValidMask) != format.ValidValue)
        {
            problems.Add(new(FormatProblemKind.RuleAmbiguous, -1, "TableBits", $"the table entry the model installs (TableBits 0x{format.TableBits:x}) is not valid by the format's rule (entry & 0x{format.ValidMask:x}) == 0x{format.ValidValue:x}"));
        }

        var seen = new bool[GeometryRules.Pte + 1];
        for (int i = 0; i < leaves.Count; i++)
        {
            var leaf = leaves[i];
            if (!IsEntryLevel(levels, leaf.Level))
            {
                problems.Add(new(FormatProblemKind.LevelInvalid, i, "level", LevelProblem(levels, leaf.Level)));
                continue;
            }

            if (seen[leaf.Level])
            {
                problems.Add(new(FormatProblemKind.LevelInvalid, i, "level", $"{Name(leaf.Level)} has two [EntryLeaf] declarations"));
                continue;
            }

            seen[leaf.Level] = true;
            CheckLeaf(format, leaf, i, shifts[leaf.Level], bits, tableAddressMask, problems);
        }

        if (!seen[GeometryRules.Pte])
        {
            problems.Add(new(FormatProblemKind.LevelInvalid, -1, "", "no [EntryLeaf(PageTableLevel.Pte, ...)]: the last level holds the pages, so it needs its output-address field"));
        }
        else if (!Fits(format.PageBits, bits))
        {
            problems.Add(new(FormatProblemKind.OutsideEntry, -1, "PageBits", $"PageBits 0x{format.PageBits:x} has bits above the {bits}-bit entry"));
        }
        else
        {
            var pte = leaves.First(l => l.Level == GeometryRules.Pte);
            ulong address = Mask(Math.Max(0, Math.Min(pte.AddressLow, 63)), Math.Max(0, Math.Min(pte.AddressHigh, 63)));
            if ((format.PageBits & address) != 0)
            {
                problems.Add(new(FormatProblemKind.FieldsOverlap, -1, "PageBits", $"PageBits 0x{format.PageBits:x} overlap a page's address field [{pte.AddressHigh}:{pte.AddressLow}]"));
            }
        }

        CheckFields(format, leaves, fields, levels, bits, tableAddressMask, problems);
        CheckPermissionFields(format, leaves, fields, levels, problems);
        CheckKernelChecks(format, leaves, checks, levels, bits, tableAddressMask, problems);
        return problems;
    }

    /// <summary>
    /// [EntryKernelChecks]: an upper level, once; each rule at most <see cref="BitPatterns.Max"/> alternatives of a mask and
    /// a value inside it, within the entry and off the table address; and the entries the model writes must read as the
    /// kernel reads its own: the table entry it installs present, no leaf and not bad, a block it maps a leaf.
    /// </summary>
    private static void CheckKernelChecks(FormatDecl format, IReadOnlyList<LeafDecl> leaves, IReadOnlyList<KernelChecksDecl> checks, int levels, int bits, ulong tableAddressMask, List<FormatProblem> problems)
    {
        var seen = new bool[GeometryRules.Pte + 1];
        for (int i = 0; i < checks.Count; i++)
        {
            var check = checks[i];
            int index = KernelChecksBase + i;
            if (check.Level < 0 || check.Level >= GeometryRules.Pte)
            {
                problems.Add(new(FormatProblemKind.LevelInvalid, index, "level", check.Level == GeometryRules.Pte
                    ? "the pte level has no pXd_leaf()/pXd_bad(): kernel checks are for the levels above it"
                    : $"{check.Level} is not a page-table level"));
                continue;
            }

            if (seen[check.Level])
            {
                problems.Add(new(FormatProblemKind.LevelInvalid, index, "level", $"{Name(check.Level)} has two [EntryKernelChecks] declarations"));
                continue;
            }

            seen[check.Level] = true;
            bool ok = CheckPatterns(check.Leaf, "Leaf", index, bits, tableAddressMask, problems) & CheckPatterns(check.Present, "Present", index, bits, tableAddressMask, problems)
                & CheckPatterns(new BitPatterns([check.TableMask], [check.TableValue]), "Table", index, bits, tableAddressMask, problems);
            if (!ok || !IsEntryLevel(levels, check.Level))
            {
                continue; // at a level this geometry folds, the checks are not read
            }

            string where = Name(check.Level);
            ulong table = format.TableBits;
            var leaf = leaves.FirstOrDefault(l => l.Level == check.Level);
            var present = check.Present.Count == 0 ? new BitPatterns([leaf?.ValidMask ?? format.ValidMask], [leaf?.ValidValue ?? format.ValidValue]) : check.Present;
            if (check.Leaf.Matches(table) || !present.Matches(table) || (table & check.TableMask) != check.TableValue)
            {
                problems.Add(new(FormatProblemKind.RuleAmbiguous, index, "TableMask", $"the table entry the model installs (TableBits 0x{table:x}) is not a present, good table entry by the kernel's {where.ToLowerInvariant()} checks"));
            }

            ulong block = leaf is null ? 0 : (leaf.ValidValue ?? format.ValidValue) | (leaf.LeafMask == 0 ? leaf.LeafIfAnySet & (0 - leaf.LeafIfAnySet) : leaf.LeafValue);
            if (leaf is not null && !check.Leaf.Matches(block))
            {
                problems.Add(new(FormatProblemKind.RuleAmbiguous, index, "LeafMasks", $"a block the model maps at {where} (0x{block:x} beside its address) is no leaf by the kernel's {where.ToLowerInvariant()}_leaf()"));
            }
        }
    }

    /// <summary>One rule's alternatives: at most <see cref="BitPatterns.Max"/>, each value inside its mask, within the entry, off the table address.</summary>
    private static bool CheckPatterns(BitPatterns patterns, string rule, int index, int bits, ulong tableAddressMask, List<FormatProblem> problems)
    {
        string masks = rule == "Table" ? "TableMask" : rule + "Masks", values = rule == "Table" ? "TableValue" : rule + "Values";
        if (patterns.Count > BitPatterns.Max)
        {
            problems.Add(new(FormatProblemKind.RuleAmbiguous, index, masks, $"{masks} has {patterns.Count} alternatives; at most {BitPatterns.Max}"));
            return false;
        }

        for (int i = 0; i < patterns.Count; i++)
        {
            ulong mask = patterns.Masks[i], value = patterns.Values[i];
            if ((value & ~mask) != 0)
            {
                problems.Add(new(FormatProblemKind.RuleAmbiguous, index, values, $"{values}[{i}] 0x{value:x} has bits outside its mask 0x{mask:x}, so no entry matches it"));
                return false;
            }

            if (!Fits(mask, bits))
            {
                problems.Add(new(FormatProblemKind.OutsideEntry, index, masks, $"{masks}[{i}] 0x{mask:x} has bits above the {bits}-bit entry"));
                return false;
            }

            if ((mask & tableAddressMask) != 0)
            {
                problems.Add(new(FormatProblemKind.RuleAmbiguous, index, masks, $"{masks}[{i}] 0x{mask:x} lies in the table address field, so a table's address would decide the check"));
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// A permission model needs the fields it reads, as wide as it reads them, in every entry of the kinds it reads them
    /// from (a table field in every table entry, a leaf field in every leaf).
    /// </summary>
    private static void CheckPermissionFields(FormatDecl format, IReadOnlyList<LeafDecl> leaves, IReadOnlyList<FieldDecl> fields, int levels, List<FormatProblem> problems)
    {
        if (format.Permissions < 0 || format.Permissions >= PermissionFields.Length)
        {
            problems.Add(new(FormatProblemKind.PermissionFields, -1, "Permissions", $"Permissions {format.Permissions} is not a PermissionModel"));
            return;
        }

        string model = PermissionModelNames[format.Permissions];
        foreach (var (name, width, kinds) in PermissionFields[format.Permissions])
        {
            var declared = fields.Where(f => f.Name == name).ToList();
            if (declared.Count == 0)
            {
                if (width > 0)
                {
                    problems.Add(new(FormatProblemKind.PermissionFields, -1, "Permissions", $"Permissions = PermissionModel.{model} reads the field {name}, which the format does not declare"));
                }

                continue;
            }

            int needed = width == 0 ? 1 : width;
            if (declared.Any(f => f.High - f.Low + 1 != needed))
            {
                problems.Add(new(FormatProblemKind.PermissionFields, -1, "Permissions", $"Permissions = PermissionModel.{model} reads {name} as {needed} bit(s), but it is declared [{declared[0].High}:{declared[0].Low}]"));
                continue;
            }

            for (int depth = 0; depth <= GeometryRules.Pte; depth++)
            {
                bool table = depth < GeometryRules.Pte && IsEntryLevel(levels, depth) && (kinds & KindTable) != 0;
                bool leaf = leaves.Any(l => l.Level == depth) && (kinds & KindLeaf) != 0;
                foreach (var (kind, has) in new[] { (KindTable, table), (KindLeaf, leaf) })
                {
                    if (has && !declared.Any(f => (f.Levels & (1 << depth)) != 0 && (f.Kinds & kind) != 0))
                    {
                        problems.Add(new(FormatProblemKind.PermissionFields, -1, "Permissions", $"Permissions = PermissionModel.{model} reads {name} in every {Name(depth)} {(kind == KindTable ? "table entry" : "leaf")}, but the field is not declared there"));
                    }
                }
            }
        }
    }

    /// <summary>The per-level encoding of a format that passed <see cref="Check"/>, for the runtime and the emitter.</summary>
    public static FormatTables Resolve(FormatDecl format, IReadOnlyList<LeafDecl> leaves, IReadOnlyList<FieldDecl> fields, IReadOnlyList<KernelChecksDecl> checks, int levels)
    {
        var t = new FormatTables(format, levels);
        for (int depth = 0; depth <= GeometryRules.Pte; depth++)
        {
            t.ValidMask[depth] = format.ValidMask;
            t.ValidValue[depth] = format.ValidValue;
            t.LeafMask[depth] = 0;
            t.LeafValue[depth] = 1; // (v & 0) == 1 never holds: no leaf at this level
            t.TableOk[depth] = depth < GeometryRules.Pte;
        }

        foreach (var leaf in leaves)
        {
            int d = leaf.Level;
            t.ValidMask[d] = leaf.ValidMask ?? format.ValidMask;
            t.ValidValue[d] = leaf.ValidValue ?? format.ValidValue;
            t.LeafMask[d] = leaf.LeafMask;
            t.LeafValue[d] = leaf.Level == GeometryRules.Pte ? 0 : leaf.LeafIfAnySet != 0 && leaf.LeafMask == 0 ? 1UL : leaf.LeafValue;
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
            for (int depth = 0; depth <= GeometryRules.Pte; depth++)
            {
                if ((field.Levels & (1 << depth)) == 0)
                {
                    continue;
                }

                for (int kind = KindTable; kind <= KindLeaf; kind++)
                {
                    if ((field.Kinds & kind) != 0)
                    {
                        int slot = (depth * 2) + (kind - 1);
                        slots.Masks[slot] = mask;
                        slots.Lows[slot] = field.Low;
                        if (field.BreakBeforeMake == BbmOnChange)
                        {
                            t.BbmOnChange[slot] |= mask;
                        }
                        else if (field.BreakBeforeMake == BbmOnSet)
                        {
                            t.BbmOnSet[slot] |= mask;
                        }
                    }
                }
            }
        }

        if (format.Permissions == PermissionsX86)
        {
            ResolveReservedBits(t, leaves);
        }

        ResolveKernelChecks(t, checks);

        // A level whose entries are checked by a level folded into it (the pgd on 4 levels: p4d_none() reads its entries)
        // takes that level's rules, so a lookup by either depth reads the same entry the same way.
        for (int depth = GeometryRules.Pte - 1; depth >= 0; depth--)
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
        for (int depth = 0; depth <= GeometryRules.Pte; depth++)
        {
            var check = depth < GeometryRules.Pte ? checks.FirstOrDefault(c => c.Level == depth) : new KernelChecksDecl(depth, BitPatterns.None, BitPatterns.None, 0, 0);
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
        var pte = leaves.FirstOrDefault(l => l.Level == GeometryRules.Pte);
        if (pte is null)
        {
            return;
        }

        ulong pageAddress = Mask(pte.AddressLow, pte.AddressHigh);
        ulong leafRules = leaves.Aggregate(0UL, (bits, l) => bits | l.LeafMask | l.LeafIfAnySet);
        ulong aboveMaxPhys = t.Format.PhysicalAddressBits >= 64 ? 0 : ~0UL << t.Format.PhysicalAddressBits;
        for (int depth = 0; depth <= GeometryRules.Pte; depth++)
        {
            ulong used(int slot) => t.FieldSlots.Aggregate(0UL, (bits, f) => bits | f.Masks[slot]);
            if (depth < GeometryRules.Pte)
            {
                ulong tableHigh = (t.TableAddressMask >> t.Format.TableAddressLow << t.Format.TableAddressShift) & aboveMaxPhys;
                t.Reserved[depth * 2] = ((tableHigh >> t.Format.TableAddressShift) << t.Format.TableAddressLow) | (t.CanLeaf[depth] ? 0 : leafRules & ~used(depth * 2));
            }

            if (t.CanLeaf[depth])
            {
                int slot = (depth * 2) + 1;
                ulong leafAddress = t.LeafAddressMask[depth];
                ulong leafHigh = ((leafAddress >> t.LeafAddressLow[depth]) << t.LeafAddressShift[depth]) & aboveMaxPhys;
                t.Reserved[slot] = (pageAddress & ~leafAddress & ~used(slot) & ~t.LeafMask[depth]) | ((leafHigh >> t.LeafAddressShift[depth]) << t.LeafAddressLow[depth]);
            }
        }
    }

    /// <summary>The bits of the field <paramref name="name"/> wherever it lies (a permission field lies at one place in every entry that has it), 0 when the format has none.</summary>
    public static ulong FieldMask(FormatTables t, string name) =>
        t.FieldSlots.FirstOrDefault(f => f.Name == name) is { } field ? field.Masks.Aggregate(0UL, (bits, m) => bits | m) : 0;

    /// <summary>
    /// Whether the default format (x86's, for a geometry that declares none) keeps <paramref name="leaf"/>: only at a level
    /// whose entries the geometry checks, and whose leaves fit the physical address space.
    /// </summary>
    public static bool DefaultKeeps(LeafDecl leaf, FormatDecl format, int pageShift, int entrySize, int levels) =>
        IsEntryLevel(levels, leaf.Level) && GeometryRules.Shifts(pageShift, entrySize, levels)[leaf.Level] < format.PhysicalAddressBits;

    /// <summary>True when <paramref name="field"/> belongs to some entry of the geometry: a table entry at an entry level above the pte, or a leaf at a level with <paramref name="leaves"/>.</summary>
    public static bool FieldApplies(FieldDecl field, IEnumerable<LeafDecl> leaves, int levels)
    {
        for (int depth = 0; depth <= GeometryRules.Pte; depth++)
        {
            if ((field.Levels & (1 << depth)) == 0 || !IsEntryLevel(levels, depth))
            {
                continue;
            }

            if ((field.Kinds & KindTable) != 0 && depth < GeometryRules.Pte)
            {
                return true;
            }

            foreach (var leaf in leaves)
            {
                if ((field.Kinds & KindLeaf) != 0 && leaf.Level == depth)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>True when the entries at <paramref name="depth"/> are read by that level's own checks (or it is the pte).</summary>
    public static bool IsEntryLevel(int levels, int depth) =>
        depth == GeometryRules.Pte || (depth >= 0 && depth < GeometryRules.Pte && GeometryRules.ChecksEntry(levels, depth));

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

    public static string Name(int depth) => depth >= 0 && depth <= GeometryRules.Pte ? GeometryRules.LevelNames[depth] : depth.ToString(CultureInfo.InvariantCulture);

    public static int Log2(int value)
    {
        int log = 0;
        while ((1 << log) < value)
        {
            log++;
        }

        return log;
    }

    private static void CheckLeaf(FormatDecl format, LeafDecl leaf, int i, int levelShift, int bits, ulong tableAddressMask, List<FormatProblem> problems)
    {
        ulong validMask = leaf.ValidMask ?? format.ValidMask;
        ulong validValue = leaf.ValidValue ?? format.ValidValue;
        if (leaf.ValidMask is not null)
        {
            CheckValidRule(validMask, validValue, i, "ValidMask", bits, problems);
        }

        string where = Name(leaf.Level);
        bool last = leaf.Level == GeometryRules.Pte;
        if (levelShift >= format.PhysicalAddressBits)
        {
            problems.Add(new(FormatProblemKind.LevelInvalid, i, "level", $"a {where} leaf maps 2^{levelShift} bytes, more than the 2^{format.PhysicalAddressBits}-byte physical address space"));
        }

        ulong ruleBits = leaf.LeafMask | leaf.LeafIfAnySet;
        if (last && ruleBits != 0)
        {
            problems.Add(new(FormatProblemKind.RuleAmbiguous, i, leaf.LeafMask != 0 ? "LeafMask" : "LeafIfAnySet", "at the last level every valid entry is a page; a leaf rule there has nothing to tell apart"));
        }
        else if (!last && ruleBits == 0)
        {
            problems.Add(new(FormatProblemKind.RuleAmbiguous, i, "level", $"no LeafMask or LeafIfAnySet: nothing tells a {where} leaf from a table"));
        }
        else if (!last && leaf.LeafMask != 0 && leaf.LeafIfAnySet != 0)
        {
            problems.Add(new(FormatProblemKind.RuleAmbiguous, i, "LeafIfAnySet", "give LeafMask/LeafValue or LeafIfAnySet, not both"));
        }
        else if (!last && (leaf.LeafValue & ~leaf.LeafMask) != 0)
        {
            problems.Add(new(FormatProblemKind.RuleAmbiguous, i, "LeafValue", $"LeafValue 0x{leaf.LeafValue:x} has bits outside LeafMask 0x{leaf.LeafMask:x}, so no entry is a leaf"));
        }
        else if (!last && !Fits(ruleBits, bits))
        {
            problems.Add(new(FormatProblemKind.OutsideEntry, i, leaf.LeafMask != 0 ? "LeafMask" : "LeafIfAnySet", $"the leaf rule 0x{ruleBits:x} has bits above the {bits}-bit entry"));
        }
        else if (!last && (ruleBits & tableAddressMask) != 0)
        {
            problems.Add(new(FormatProblemKind.RuleAmbiguous, i, leaf.LeafMask != 0 ? "LeafMask" : "LeafIfAnySet", $"the leaf rule 0x{ruleBits:x} lies in the table address field, so a table's address would decide whether it is a leaf"));
        }
        else if (!last && (leaf.LeafMask != 0 ? (format.TableBits & leaf.LeafMask) == leaf.LeafValue : (format.TableBits & leaf.LeafIfAnySet) != 0))
        {
            problems.Add(new(FormatProblemKind.RuleAmbiguous, i, leaf.LeafMask != 0 ? "LeafValue" : "LeafIfAnySet", $"the table entry the model installs (TableBits 0x{format.TableBits:x}) is a leaf by this rule"));
        }
        else if (!last && (format.TableBits & validMask) != validValue)
        {
            problems.Add(new(FormatProblemKind.RuleAmbiguous, i, "ValidMask", $"the table entry the model installs (TableBits 0x{format.TableBits:x}) is not valid at {where}"));
        }

        if (CheckAddressField(leaf.AddressLow, leaf.AddressHigh, leaf.AddressShift, levelShift, $"a {where} leaf", format.PhysicalAddressBits, i, "Address", bits, problems))
        {
            ulong address = Mask(leaf.AddressLow, leaf.AddressHigh);
            ulong typeBits = validMask | leaf.LeafMask;
            if ((address & typeBits) != 0)
            {
                problems.Add(new(FormatProblemKind.FieldsOverlap, i, "AddressLow", $"the {where} leaf address field [{leaf.AddressHigh}:{leaf.AddressLow}] overlaps the valid or leaf bits 0x{typeBits:x}"));
            }
        }
    }

    private static void CheckFields(FormatDecl format, IReadOnlyList<LeafDecl> leaves, IReadOnlyList<FieldDecl> fields, int levels, int bits, ulong tableAddressMask, List<FormatProblem> problems)
    {
        var leafAt = new LeafDecl?[GeometryRules.Pte + 1];
        foreach (var leaf in leaves)
        {
            if (IsEntryLevel(levels, leaf.Level) && leafAt[leaf.Level] is null)
            {
                leafAt[leaf.Level] = leaf;
            }
        }

        for (int i = 0; i < fields.Count; i++)
        {
            var field = fields[i];
            int index = FieldBase + i;
            if (!IsIdentifier(field.Name) || Array.IndexOf(ReservedNames, field.Name) >= 0)
            {
                problems.Add(new(FormatProblemKind.FieldName, index, "name", $"'{field.Name}' cannot name a field: it must be an identifier that the entry struct does not already use ({string.Join(", ", ReservedNames)})"));
                continue;
            }

            if (field.Low < 0 || field.High < field.Low || field.High >= bits)
            {
                problems.Add(new(FormatProblemKind.OutsideEntry, index, "high", $"field {field.Name} [{field.High}:{field.Low}] is not a bit range of the {bits}-bit entry"));
                continue;
            }

            ulong mask = Mask(field.Low, field.High);
            if (!FieldApplies(field, leaves, levels))
            {
                problems.Add(new(FormatProblemKind.LevelInvalid, index, "Levels", $"field {field.Name} belongs to no entry of this geometry: its levels are folded, or hold no {(field.Kinds == KindLeaf ? "leaves" : "entries of that kind")}"));
                continue;
            }

            for (int depth = 0; depth <= GeometryRules.Pte; depth++)
            {
                if ((field.Levels & (1 << depth)) == 0 || !IsEntryLevel(levels, depth))
                {
                    continue;
                }

                for (int kind = KindTable; kind <= KindLeaf; kind++)
                {
                    bool exists = kind == KindTable ? depth < GeometryRules.Pte : leafAt[depth] is not null;
                    if ((field.Kinds & kind) == 0 || !exists)
                    {
                        continue;
                    }

                    string entry = $"a {Name(depth)} {(kind == KindTable ? "table entry" : "leaf")}";
                    var leaf = kind == KindLeaf ? leafAt[depth] : null;
                    ulong address = leaf is null ? tableAddressMask : Mask(leaf.AddressLow, leaf.AddressHigh);
                    ulong typeBits = (leaf?.ValidMask ?? leafAt[depth]?.ValidMask ?? format.ValidMask) | (leafAt[depth]?.LeafMask ?? 0);
                    if ((mask & address) != 0)
                    {
                        problems.Add(new(FormatProblemKind.FieldsOverlap, index, "low", $"field {field.Name} [{field.High}:{field.Low}] overlaps the output-address field of {entry}"));
                        goto next;
                    }

                    if ((mask & typeBits) != 0)
                    {
                        problems.Add(new(FormatProblemKind.FieldsOverlap, index, "low", $"field {field.Name} [{field.High}:{field.Low}] overlaps the valid or leaf bits 0x{typeBits:x} of {entry}"));
                        goto next;
                    }

                    for (int j = 0; j < i; j++)
                    {
                        var other = fields[j];
                        if ((other.Levels & (1 << depth)) != 0 && (other.Kinds & kind) != 0 && other.Low <= other.High && other.High < bits
                            && (Mask(other.Low, other.High) & mask) != 0)
                        {
                            problems.Add(new(FormatProblemKind.FieldsOverlap, index, "low", $"field {field.Name} [{field.High}:{field.Low}] overlaps field {other.Name} [{other.High}:{other.Low}] in {entry}"));
                            goto next;
                        }
                    }
                }
            }

        next:;
        }
    }

    private static void CheckValidRule(ulong mask, ulong value, int attribute, string argument, int bits, List<FormatProblem> problems)
    {
        if (mask == 0 || value == 0 || (value & ~mask) != 0)
        {
            problems.Add(new(FormatProblemKind.RuleAmbiguous, attribute, argument, $"valid rule (entry & 0x{mask:x}) == 0x{value:x}: it must look at some bit, an entry of 0 (none) must be invalid, and the value must lie in the mask"));
        }
        else if (!Fits(mask, bits))
        {
            problems.Add(new(FormatProblemKind.OutsideEntry, attribute, argument, $"ValidMask 0x{mask:x} has bits above the {bits}-bit entry"));
        }
    }

    /// <summary>Checks an output-address field; true when it is a bit range of the entry (so its mask may be used).</summary>
    private static bool CheckAddressField(int low, int high, int shift, int alignment, string what, int physicalAddressBits, int attribute, string argument, int bits, List<FormatProblem> problems)
    {
        if (low < 0 || high < low || high >= bits)
        {
            problems.Add(new(FormatProblemKind.OutsideEntry, attribute, argument + "High", $"the address field of {what} [{high}:{low}] is not a bit range of the {bits}-bit entry"));
            return false;
        }

        if (shift < 0 || shift > 63)
        {
            problems.Add(new(FormatProblemKind.AddressTooNarrow, attribute, argument + "Shift", $"the address field of {what} holds address bit {shift} at its low end; an address bit is 0 to 63"));
        }
        else if (shift > alignment)
        {
            problems.Add(new(FormatProblemKind.AddressTooNarrow, attribute, argument + "Shift", $"the address field of {what} starts at address bit {shift}, but {what} is aligned only to 2^{alignment} bytes"));
        }
        else if (shift + (high - low + 1) < physicalAddressBits)
        {
            problems.Add(new(FormatProblemKind.AddressTooNarrow, attribute, argument + "High", $"the address field of {what} [{high}:{low}] holds address bits {shift} to {shift + high - low}, not all {physicalAddressBits} physical-address bits"));
        }

        return true;
    }

    private static void Require(object? value, int attribute, string argument, List<FormatProblem> problems)
    {
        if (value is null)
        {
            problems.Add(new(FormatProblemKind.FormatMissing, attribute, argument, $"'{argument}' is required"));
        }
    }

    private static string LevelProblem(int levels, int depth) =>
        depth < 0 || depth > GeometryRules.Pte
            ? $"{depth} is not a page-table level"
            : $"{levels} levels fold {Name(depth)} into the table above it, whose entries are checked as {Name(TopOrSame(levels, depth))} entries";

    private static int TopOrSame(int levels, int depth)
    {
        while (!IsEntryLevel(levels, depth))
        {
            depth++;
        }

        return depth;
    }

    private static bool Fits(ulong value, int bits) => bits >= 64 || value >> bits == 0;

    private static bool IsIdentifier(string name)
    {
        if (string.IsNullOrEmpty(name) || !(char.IsLetter(name[0]) || name[0] == '_'))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!(char.IsLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }

    private static int? Int(object? value) => value switch
    {
        int i => i,
        null => null,
        _ => unchecked((int)Convert.ToInt64(value, CultureInfo.InvariantCulture)),
    };

    private static ulong? ULong(object? value) => value switch
    {
        ulong u => u,
        long l => unchecked((ulong)l),
        int i => unchecked((ulong)i),
        uint u => u,
        null => null,
        _ => Convert.ToUInt64(value, CultureInfo.InvariantCulture),
    };
}

/// <summary>A format resolved per level (by depth, folded levels carrying their table's rules), and per level and kind for break-before-make.</summary>
internal sealed class FormatTables(FormatDecl format, int levels)
{
    public FormatDecl Format { get; } = format;

    public int Levels { get; } = levels;

    public ulong[] ValidMask { get; } = new ulong[5];

    public ulong[] ValidValue { get; } = new ulong[5];

    public ulong[] LeafMask { get; } = new ulong[5];

    public ulong[] LeafValue { get; } = new ulong[5];

    public ulong[] LeafAny { get; } = new ulong[5];

    public ulong[] LeafAddressMask { get; } = new ulong[5];

    public int[] LeafAddressLow { get; } = new int[5];

    public int[] LeafAddressShift { get; } = new int[5];

    public bool[] CanLeaf { get; } = new bool[5];

    public bool[] TableOk { get; } = new bool[5];

    /// <summary>True where [EntryKernelChecks] says how the kernel reads the level (and at the pte, which has no such helpers).</summary>
    public bool[] KernelDeclared { get; } = new bool[5];

    /// <summary>pXd_leaf()'s alternatives, [alternative][depth]; mask 0 and value 1 where there is none.</summary>
    public ulong[][] KernelLeafMask { get; } = [new ulong[5], new ulong[5], new ulong[5]];

    public ulong[][] KernelLeafValue { get; } = [new ulong[5], new ulong[5], new ulong[5]];

    /// <summary>pXd_present()'s alternatives, [alternative][depth]: the declared ones, or the level's valid rule.</summary>
    public ulong[][] KernelPresentMask { get; } = [new ulong[5], new ulong[5], new ulong[5]];

    public ulong[][] KernelPresentValue { get; } = [new ulong[5], new ulong[5], new ulong[5]];

    /// <summary>pXd_bad() is false exactly when (entry &amp; mask) == value, by depth (where declared).</summary>
    public ulong[] KernelTableMask { get; } = new ulong[5];

    public ulong[] KernelTableValue { get; } = new ulong[5];

    /// <summary>By depth * 2 + (0 table, 1 leaf): the bits whose change needs break-before-make.</summary>
    public ulong[] BbmOnChange { get; } = new ulong[10];

    /// <summary>By depth * 2 + (0 table, 1 leaf): the bits whose setting (0 to 1) needs break-before-make.</summary>
    public ulong[] BbmOnSet { get; } = new ulong[10];

    /// <summary>By depth * 2 + (0 table, 1 leaf): the reserved bits, set in a valid entry a fault (x86 RSVD); 0 for formats without the x86 permission model.</summary>
    public ulong[] Reserved { get; } = new ulong[10];

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

        BbmOnChange[to * 2] = BbmOnChange[from * 2];
        BbmOnChange[(to * 2) + 1] = BbmOnChange[(from * 2) + 1];
        BbmOnSet[to * 2] = BbmOnSet[from * 2];
        BbmOnSet[(to * 2) + 1] = BbmOnSet[(from * 2) + 1];
        Reserved[to * 2] = Reserved[from * 2];
        Reserved[(to * 2) + 1] = Reserved[(from * 2) + 1];
        foreach (var field in FieldSlots)
        {
            for (int kind = 0; kind < 2; kind++)
            {
                field.Masks[(to * 2) + kind] = field.Masks[(from * 2) + kind];
                field.Lows[(to * 2) + kind] = field.Lows[(from * 2) + kind];
            }
        }
    }
}

/// <summary>One field name: its mask and low bit per slot (depth * 2 + (0 table, 1 leaf)); mask 0 where the entry has no such field.</summary>
internal sealed class FieldSlots(string name, bool hardwareUpdated)
{
    public string Name { get; } = name;

    /// <summary>Set by the hardware walker (accessed, dirty): pages a block replaces may differ in it, and collapsing merges it.</summary>
    public bool HardwareUpdated { get; } = hardwareUpdated;

    public ulong[] Masks { get; } = new ulong[10];

    public int[] Lows { get; } = new int[10];
}

/// <summary>
/// The fields a permission model reads, found by name once per format: what the runtime's translation and the generated
/// one both combine. A field the model does not read is 0 (also when the format declares it), so one update rule serves
/// every model: the walker sets <see cref="SetOnAccess"/>, on a write <see cref="Dirty"/>, and a write it grants through a
/// DirtyBitModifier leaf clears <see cref="DirtyClears"/> and sets <see cref="DirtySets"/>.
/// </summary>
internal sealed record TranslationMasks(
    int Model, ulong Writable, ulong User, ulong NoExecute, ulong Accessed, ulong Dirty,
    ulong AccessPermissions, ulong AccessFlag, ulong DirtyBitModifier, ulong PrivilegedExecuteNever, ulong UnprivilegedExecuteNever,
    ulong PxnTable, ulong UxnTable, ulong ApTable, ulong S2AccessPermissions, ulong ExecuteNever)
{
    /// <summary>What the walker sets in the leaf of every allowed access: x86 Accessed, arm64 AccessFlag (FEAT_HAFDBS).</summary>
    public ulong SetOnAccess => Accessed | AccessFlag;

    /// <summary>Stage 1's AP[2] (read-only), which a write granted through DirtyBitModifier clears.</summary>
    public ulong DirtyClears => AccessPermissions & ~LowBit(AccessPermissions);

    /// <summary>Stage 2's S2AP[1] (write), which a write granted through DirtyBitModifier sets.</summary>
    public ulong DirtySets => S2AccessPermissions & ~LowBit(S2AccessPermissions);

    public static TranslationMasks Of(FormatTables t)
    {
        var read = EntryFormatRules.PermissionFields[t.Format.Permissions];
        ulong m(string name) => read.Any(f => f.Name == name) ? EntryFormatRules.FieldMask(t, name) : 0;
        return new TranslationMasks(
            t.Format.Permissions, m("Writable"), m("User"), m("NoExecute"), m("Accessed"), m("Dirty"),
            m("AccessPermissions"), m("AccessFlag"), m("DirtyBitModifier"), m("PrivilegedExecuteNever"), m("UnprivilegedExecuteNever"),
            m("PxnTable"), m("UxnTable"), m("ApTable"), m("S2AccessPermissions"), m("ExecuteNever"));
    }

    private static ulong LowBit(ulong mask) => mask & (0 - mask);
}
