// Every check of a format against its geometry: the generator reports each problem as its diagnostic (PG1016..PG1024),
// the runtime's Geometry as its exception.
using System;
using System.Collections.Generic;
using System.Linq;

namespace PamtGen;

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

internal static partial class EntryFormatRules
{
    public const int FieldBase = 1000;
    public const int KernelChecksBase = 2000;

    /// <summary>The members the generated entry struct has; a field cannot take one of these names.</summary>
    public static readonly string[] ReservedNames =
    [
        "Value", "IsNone", "IsValid", "IsTable", "IsLeaf", "OutputAddress", "TableAddress", "Table", "Block", "Page",
        "NeedsBreakBeforeMake", "Equals", "GetHashCode", "ToString", "Format", "Entry", "GetType", "Pfn", "KernelPage",
        "PxdLeaf", "PxdPresent", "PxdBad",
    ];

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
        CheckValidRule(format.ValidMask, format.ValidValue, format.ValidAny, -1, "ValidMask", bits, problems);
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

        if (!format.IsValid(format.TableBits))
        {
            problems.Add(new(FormatProblemKind.RuleAmbiguous, -1, "TableBits", $"the table entry the model installs (TableBits 0x{format.TableBits:x}) is not valid by the format's rule {ValidRuleText(format.ValidMask, format.ValidValue, format.ValidAny)}"));
        }

        var seen = new bool[GeometryRules.LevelSlots];
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

        if (!seen[(int)PageTableLevel.Pte])
        {
            problems.Add(new(FormatProblemKind.LevelInvalid, -1, "", "no [EntryLeaf(PageTableLevel.Pte, ...)]: the last level holds the pages, so it needs its output-address field"));
        }
        else if (!Fits(format.PageBits, bits))
        {
            problems.Add(new(FormatProblemKind.OutsideEntry, -1, "PageBits", $"PageBits 0x{format.PageBits:x} has bits above the {bits}-bit entry"));
        }
        else
        {
            var pte = leaves.First(l => l.Level == (int)PageTableLevel.Pte);
            ulong address = Mask(Math.Max(0, Math.Min(pte.AddressLow, 63)), Math.Max(0, Math.Min(pte.AddressHigh, 63)));
            if ((format.PageBits & address) != 0)
            {
                problems.Add(new(FormatProblemKind.FieldsOverlap, -1, "PageBits", $"PageBits 0x{format.PageBits:x} overlap a page's address field [{pte.AddressHigh}:{pte.AddressLow}]"));
            }
            else if (!EntryFormatRules.IsValid((pte.ValidValue ?? format.ValidValue) | format.PageBits, pte.ValidMask ?? format.ValidMask, pte.ValidValue ?? format.ValidValue, format.ValidAny))
            {
                problems.Add(new(FormatProblemKind.RuleAmbiguous, -1, "PageBits", $"the page the model maps for itself (PageBits 0x{format.PageBits:x}) is not valid by the format's rule {ValidRuleText(format.ValidMask, format.ValidValue, format.ValidAny)}"));
            }
        }

        CheckReserved(format, bits, tableAddressMask, problems);
        CheckFields(format, leaves, fields, levels, bits, tableAddressMask, problems);
        CheckPermissionFields(format, leaves, fields, levels, problems);
        CheckKernelChecks(format, leaves, checks, levels, bits, tableAddressMask, problems);
        return problems;
    }

    /// <summary>
    /// The declared reserved bits and encoding: inside the entry, off the table address field, the encoding's value inside
    /// its mask; and the entries the model writes itself (a table, a kernel page) must not be reserved.
    /// </summary>
    private static void CheckReserved(FormatDecl format, int bits, ulong tableAddressMask, List<FormatProblem> problems)
    {
        foreach (var (name, value) in new[] { ("ReservedBits", format.ReservedBits), ("TableReservedBits", format.TableReservedBits) })
        {
            if (!Fits(value, bits))
            {
                problems.Add(new(FormatProblemKind.OutsideEntry, -1, name, $"{name} 0x{value:x} has bits above the {bits}-bit entry"));
            }
            else if ((value & tableAddressMask) != 0)
            {
                problems.Add(new(FormatProblemKind.FieldsOverlap, -1, name, $"{name} 0x{value:x} overlap the table address field [{format.TableAddressHigh}:{format.TableAddressLow}]: a table's address would fault"));
            }
        }

        if (!CheckPatterns(format.Encodings, "ReservedEncoding", -1, bits, tableAddressMask, problems))
        {
            return;
        }

        bool encoded(ulong entry) => format.Encodings.Matches(entry);
        if ((format.TableBits & (format.ReservedBits | format.TableReservedBits)) != 0 || encoded(format.TableBits))
        {
            problems.Add(new(FormatProblemKind.RuleAmbiguous, -1, "TableBits", $"the table entry the model installs (TableBits 0x{format.TableBits:x}) has reserved bits or the reserved encoding"));
        }

        if (format.PageBits != 0 && ((format.PageBits & format.ReservedBits) != 0 || encoded(format.PageBits)))
        {
            problems.Add(new(FormatProblemKind.RuleAmbiguous, -1, "PageBits", $"the page the model maps for itself (PageBits 0x{format.PageBits:x}) has reserved bits or the reserved encoding"));
        }
    }

    /// <summary>
    /// [EntryKernelChecks]: an upper level, once; each rule at most <see cref="BitPatterns.Max"/> alternatives of a mask and
    /// a value inside it, within the entry and off the table address; and the entries the model writes must read as the
    /// kernel reads its own: the table entry it installs present, no leaf and not bad, a block it maps a leaf.
    /// </summary>
    private static void CheckKernelChecks(FormatDecl format, IReadOnlyList<LeafDecl> leaves, IReadOnlyList<KernelChecksDecl> checks, int levels, int bits, ulong tableAddressMask, List<FormatProblem> problems)
    {
        var seen = new bool[GeometryRules.LevelSlots];
        for (int i = 0; i < checks.Count; i++)
        {
            var check = checks[i];
            int index = KernelChecksBase + i;
            if (check.Level < 0 || check.Level >= (int)PageTableLevel.Pte)
            {
                problems.Add(new(FormatProblemKind.LevelInvalid, index, "level", check.Level == (int)PageTableLevel.Pte
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
            var present = check.Present.Count == 0 ? ValidPatterns(leaf?.ValidMask ?? format.ValidMask, leaf?.ValidValue ?? format.ValidValue, format.ValidAny) : check.Present;
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

    private static void CheckLeaf(FormatDecl format, LeafDecl leaf, int i, int levelShift, int bits, ulong tableAddressMask, List<FormatProblem> problems)
    {
        ulong validMask = leaf.ValidMask ?? format.ValidMask;
        ulong validValue = leaf.ValidValue ?? format.ValidValue;
        if (leaf.ValidMask is not null)
        {
            CheckValidRule(validMask, validValue, format.ValidAny, i, "ValidMask", bits, problems);
        }

        string where = Name(leaf.Level);
        bool last = leaf.Level == (int)PageTableLevel.Pte;
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
        else if (!last && !IsValid(format.TableBits, validMask, validValue, format.ValidAny))
        {
            problems.Add(new(FormatProblemKind.RuleAmbiguous, i, "ValidMask", $"the table entry the model installs (TableBits 0x{format.TableBits:x}) is not valid at {where}"));
        }

        if (CheckAddressField(leaf.AddressLow, leaf.AddressHigh, leaf.AddressShift, levelShift, $"a {where} leaf", format.PhysicalAddressBits, i, "Address", bits, problems))
        {
            ulong address = Mask(leaf.AddressLow, leaf.AddressHigh);
            ulong typeBits = validMask | format.ValidAny | leaf.LeafMask;
            if ((address & typeBits) != 0)
            {
                problems.Add(new(FormatProblemKind.FieldsOverlap, i, "AddressLow", $"the {where} leaf address field [{leaf.AddressHigh}:{leaf.AddressLow}] overlaps the valid or leaf bits 0x{typeBits:x}"));
            }
        }
    }

    private static void CheckFields(FormatDecl format, IReadOnlyList<LeafDecl> leaves, IReadOnlyList<FieldDecl> fields, int levels, int bits, ulong tableAddressMask, List<FormatProblem> problems)
    {
        var leafAt = new LeafDecl?[GeometryRules.LevelSlots];
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
                problems.Add(new(FormatProblemKind.LevelInvalid, index, "Levels", $"field {field.Name} belongs to no entry of this geometry: its levels are folded, or hold no {(field.Kinds == EntryKinds.Leaf ? "leaves" : "entries of that kind")}"));
                continue;
            }

            for (int depth = 0; depth <= (int)PageTableLevel.Pte; depth++)
            {
                if (!Has(field.Levels, depth) || !IsEntryLevel(levels, depth))
                {
                    continue;
                }

                foreach (var kind in SlotKinds)
                {
                    bool exists = kind == EntryKinds.Table ? depth < (int)PageTableLevel.Pte : leafAt[depth] is not null;
                    if ((field.Kinds & kind) == 0 || !exists)
                    {
                        continue;
                    }

                    string entry = $"a {Name(depth)} {(kind == EntryKinds.Table ? "table entry" : "leaf")}";
                    var leaf = kind == EntryKinds.Leaf ? leafAt[depth] : null;
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
                        if (Has(other.Levels, depth) && (other.Kinds & kind) != 0 && other.Low <= other.High && other.High < bits
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

    private static void CheckValidRule(ulong mask, ulong value, ulong any, int attribute, string argument, int bits, List<FormatProblem> problems)
    {
        if ((any == 0 && (mask == 0 || value == 0)) || (value & ~mask) != 0 || (mask & any) != 0)
        {
            problems.Add(new(FormatProblemKind.RuleAmbiguous, attribute, argument, $"valid rule {ValidRuleText(mask, value, any)}: it must look at some bit, an entry of 0 (none) must be invalid, the value must lie in the mask, and the any-set bits outside it"));
        }
        else if (!Fits(mask | any, bits))
        {
            problems.Add(new(FormatProblemKind.OutsideEntry, attribute, Fits(mask, bits) ? "ValidIfAnySet" : argument, $"the valid rule's bits 0x{mask | any:x} lie above the {bits}-bit entry"));
        }
        else if (ValidPatterns(mask, value, any).Count > BitPatterns.Max)
        {
            problems.Add(new(FormatProblemKind.RuleAmbiguous, attribute, "ValidIfAnySet", $"ValidIfAnySet 0x{any:x} has more than {BitPatterns.Max} bits (pXd_present() tests each as an alternative)"));
        }
    }

    /// <summary>A valid rule as messages write it.</summary>
    private static string ValidRuleText(ulong mask, ulong value, ulong any) =>
        any == 0 ? $"(entry & 0x{mask:x}) == 0x{value:x}" : mask == 0 ? $"(entry & 0x{any:x}) != 0" : $"(entry & 0x{mask:x}) == 0x{value:x} with one of 0x{any:x} set";

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
        depth < 0 || depth > (int)PageTableLevel.Pte
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
}
