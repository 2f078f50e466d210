// The format attributes as read: the generator reads their written arguments from symbols, the runtime by reflection,
// both through these readers, into the same declarations.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace PamtGen;

/// <summary>[EntryFormat] as read: the valid rule, the table entry and the physical-address bits.</summary>
internal sealed record FormatDecl(
    string? Name, int PhysicalAddressBits, ulong ValidMask, ulong ValidValue,
    int TableAddressLow, int TableAddressHigh, int TableAddressShift, ulong TableBits, bool BreakBeforeMake, ulong PageBits,
    PermissionModel Permissions = PermissionModel.None, ulong ReservedBits = 0, ulong TableReservedBits = 0,
    BitPatterns? ReservedEncodings = null, ulong ValidAny = 0)
{
    /// <summary>The reserved encodings (alternatives); none by default.</summary>
    public BitPatterns Encodings => ReservedEncodings ?? BitPatterns.None;

    /// <summary>The format's own valid rule (a level's [EntryLeaf] may change the mask part): the mask rule and, with <see cref="ValidAny"/>, one of its bits.</summary>
    public bool IsValid(ulong entry) => EntryFormatRules.IsValid(entry, ValidMask, ValidValue, ValidAny);
}

/// <summary>[EntryLeaf] as read: which level holds leaves, how they are told from tables there, and their output address.</summary>
internal sealed record LeafDecl(
    int Level, ulong? ValidMask, ulong? ValidValue, ulong LeafMask, ulong LeafValue, ulong LeafIfAnySet,
    int AddressLow, int AddressHigh, int AddressShift);

/// <summary>[EntryField] as read: a named bit range, the levels and kinds of entry it belongs to, and its break-before-make rule.</summary>
internal sealed record FieldDecl(string Name, int Low, int High, EntryLevels Levels, EntryKinds Kinds, BreakBeforeMakeRule BreakBeforeMake, bool HardwareUpdated);

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

internal static partial class EntryFormatRules
{
    /// <summary>Reads [EntryFormat]'s written named arguments; null after a problem when a required one is missing.</summary>
    public static FormatDecl? ReadFormat(Func<string, object?> named, List<FormatProblem> problems)
    {
        int? pa = Int(named("PhysicalAddressBits"));
        int? low = Int(named("TableAddressLow"));
        int? high = Int(named("TableAddressHigh"));
        Require(pa, -1, "PhysicalAddressBits", problems);
        Require(low, -1, "TableAddressLow", problems);
        Require(high, -1, "TableAddressHigh", problems);
        ulong validAny = ULong(named("ValidIfAnySet")) ?? 0;
        ulong validMask = ULong(named("ValidMask")) ?? (validAny != 0 ? 0UL : 1UL);
        ulong validValue = ULong(named("ValidValue")) ?? validMask;
        if (pa is null || low is null || high is null)
        {
            return null;
        }

        return new FormatDecl(
            named("Name") as string, pa.Value, validMask, validValue, low.Value, high.Value, Int(named("TableAddressShift")) ?? low.Value,
            ULong(named("TableBits")) ?? validValue, named("BreakBeforeMake") is true, ULong(named("PageBits")) ?? 0,
            (PermissionModel)(Int(named("Permissions")) ?? (int)PermissionModel.None), ULong(named("ReservedBits")) ?? 0, ULong(named("TableReservedBits")) ?? 0,
            Patterns(named("ReservedEncodingMasks"), named("ReservedEncodingValues")), validAny);
    }

    /// <summary>
    /// A valid rule: <c>(entry &amp; mask) == value</c> and, when <paramref name="any"/> is not 0, one of its bits set (an EPT
    /// entry is present when R, W or X is).
    /// </summary>
    public static bool IsValid(ulong entry, ulong mask, ulong value, ulong any) => (entry & mask) == value && (any == 0 || (entry & any) != 0);

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
        new(name, low, high, (EntryLevels)(Int(named("Levels")) ?? (int)EntryLevels.All), (EntryKinds)(Int(named("Kinds")) ?? (int)(EntryKinds.Table | EntryKinds.Leaf)), (BreakBeforeMakeRule)(Int(named("BreakBeforeMake")) ?? (int)BreakBeforeMakeRule.None),
            named("HardwareUpdated") is true);

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
