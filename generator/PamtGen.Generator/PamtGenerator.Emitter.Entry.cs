using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using PamtGen.Generator.Model;

namespace PamtGen.Generator;

public sealed partial class PamtGenerator
{

    /// <summary>
    /// The slots of a generated per-level-and-kind table: the 10 of <see cref="EntryFormatRules.Slots"/> padded to a power of
    /// two, so that an index masked with <c>&amp; 15</c> is in range and the JIT drops the bounds check.
    /// </summary>
    private const int EmittedSlots = 16;

    /// <summary>
    /// The slots of a generated per-level table: the 5 levels padded to 8, so that an index masked with <c>&amp; 7</c> is in
    /// range; the padding is never valid and never a leaf.
    /// </summary>
    private const int EmittedLevels = 8;

    /// <summary>
    /// The typed entry struct of the geometry's format, as seL4's bitfield generator writes accessors from a bitfield
    /// specification: validity, leaf and table tests per level, the output address, constructors, break-before-make and
    /// a getter and With-er per field. Every per-level number is a constant in a table of 8 (16 by level and kind)
    /// indexed with the level masked to the table's size, so the JIT drops the bounds check and nothing branches.
    /// </summary>
    private static void EmitEntry(CodeWriter w, GeometrySpec s)
    {
        var t = s.Format.Resolve(s.Levels);
        var f = s.Format.Format;
        w.Member($"An entry of this geometry's tables in the {Escape(f.Name ?? "declared")} format, the raw value read and built through it; branch-free. What ptep_get() returns converts to it implicitly, and it back to a Pte for set_pte_at().");
        w.Open($"public readonly struct Entry : global::System.IEquatable<Entry>, {EntryInterface}");
        string Table(string name, IEnumerable<ulong> values) =>
            $"private static global::System.ReadOnlySpan<ulong> {name} => [{string.Join(", ", values.Select(Hex))}];";
        ulong[] Pad(ulong[] values, int size) => values.Concat(Enumerable.Repeat(0UL, size - values.Length)).ToArray();

        ulong[] leafBase = Enumerable.Range(0, GeometryRules.LevelSlots).Select(d => t[d].CanLeaf ? t[d].ValidValue | (t[d].LeafMask == 0 ? 0 : t[d].LeafValue) : 0).ToArray();
        ulong tableLevels = 0;
        for (int d = 0; d < GeometryRules.LevelSlots; d++)
        {
            tableLevels |= t[d].TableOk ? 1UL << d : 0;
        }

        w.Member("Wraps the raw entry <paramref name=\"value\"/>.", "public Entry(ulong value) => Value = value;");
        w.Member("The raw entry.", "public ulong Value { get; }");
        w.Member("The entry ptep_get() read, read through this format.", $"public static implicit operator Entry({PteType} pte) => new Entry(pte.Value);");
        w.Member("The raw entry, to write with set_pte_at().", $"public static implicit operator {PteType}(Entry entry) => new {PteType}(entry.Value);");
        foreach (string kind in new[] { "Pmd", "Pud", "P4d", "Pgd" })
        {
            w.Member($"A {kind.ToLowerInvariant()}_t read through this format.", $"public static implicit operator Entry({RuntimeNamespace}.{kind} entry) => new Entry(entry.Value);");
        }

        w.Member("pte_none(): the entry is zero.", "public bool IsNone => Value == 0;");
        w.Member(
            $"The entry is valid at <paramref name=\"level\"/> (the format's valid bits, per level{(f.ValidAny == 0 ? "" : ", and one of the any-set bits")}).",
            AggressiveInlining,
            $"public bool IsValid({Level} level) => (Value & ValidMasks[(int)level & 7]) == ValidValues[(int)level & 7]{(f.ValidAny == 0 ? "" : $" & (Value & {Hex(f.ValidAny)}) != 0")};");
        w.Member(
            "A valid leaf at <paramref name=\"level\"/> as the hardware reads it: every valid pte, and above it what the format's leaf rule says (false where the level holds no leaves).",
            AggressiveInlining,
            $"public bool IsLeaf({Level} level) => IsValid(level) & LeafRule(level);");
        ulong kernelLevels = 0;
        for (int d = 0; d < GeometryRules.LevelSlots; d++)
        {
            kernelLevels |= t[d].KernelDeclared ? 1UL << d : 0;
        }

        w.Member("pXd_leaf() as the kernel of the format's architecture defines it (its [EntryKernelChecks]; without them a valid leaf): what the page-range walkers refuse with -EINVAL where they need a table.");
        w.Line(AggressiveInlining);
        w.Open($"public bool PxdLeaf({Level} level)");
        w.Line("int i = (int)level & 7;");
        w.Line($"bool declared = (({Hex(kernelLevels)} >> i) & 1) != 0;");
        w.Line("bool rule = ((Value & KernelLeafMasks0[i]) == KernelLeafValues0[i]) | ((Value & KernelLeafMasks1[i]) == KernelLeafValues1[i]) | ((Value & KernelLeafMasks2[i]) == KernelLeafValues2[i]);");
        w.Line("return (declared & rule) | (!declared & IsLeaf(level));");
        w.Close();
        w.Member("pXd_present() as the format's kernel defines it (without [EntryKernelChecks], valid).");
        w.Line(AggressiveInlining);
        w.Open($"public bool PxdPresent({Level} level)");
        w.Line("int i = (int)level & 7;");
        w.Line("return ((Value & KernelPresentMasks0[i]) == KernelPresentValues0[i]) | ((Value & KernelPresentMasks1[i]) == KernelPresentValues1[i]) | ((Value & KernelPresentMasks2[i]) == KernelPresentValues2[i]);");
        w.Close();
        w.Member("pXd_bad() as the format's kernel defines it, for an entry that is not none (without [EntryKernelChecks], anything but a valid table entry); false at the pte level.");
        w.Line(AggressiveInlining);
        w.Open($"public bool PxdBad({Level} level)");
        w.Line("int i = (int)level & 7;");
        w.Line($"bool declared = (({Hex(kernelLevels)} >> i) & 1) != 0;");
        w.Line("return (declared & ((Value & KernelTableMasks[i]) != KernelTableValues[i])) | (!declared & !IsTable(level));");
        w.Close();
        w.Member(
            "A valid entry pointing to a table at <paramref name=\"level\"/> (never at the pte level).",
            AggressiveInlining,
            $"public bool IsTable({Level} level) => IsValid(level) & !LeafRule(level) & ((TableLevels >> ((int)level & 7)) & 1) != 0;");
        w.Member(
            "The address of the table a table entry points to.",
            "public ulong TableAddress => " + Decode("Value", Hex(t.TableAddressMask), Number(f.TableAddressLow), Number(f.TableAddressShift)) + ";");
        w.Member("The output address of a leaf at <paramref name=\"level\"/>, or the table address of a table entry.");
        w.Line(AggressiveInlining);
        w.Open($"public ulong OutputAddress({Level} level)");
        w.Line("int i = (int)level & 7;");
        w.Line("ulong leaf = 0UL - (LeafRule(level) ? 1UL : 0UL);");
        w.Line("return (" + Decode("Value", "LeafAddressMasks[i]", "(int)LeafAddressLows[i]", "(int)LeafAddressShifts[i]") + " & leaf) | (TableAddress & ~leaf);");
        w.Close();
        w.Member(
            "The entry the model installs for a table at <paramref name=\"tableAddress\"/> (pmd_populate_kernel()): TableBits and the address.",
            AggressiveInlining,
            $"public static Entry Table(ulong tableAddress) => new Entry({Hex(f.TableBits)} | ({Encode("tableAddress", Number(f.TableAddressShift), Number(f.TableAddressLow))} & {Hex(t.TableAddressMask)}));");
        w.Member("A leaf at <paramref name=\"level\"/> mapping <paramref name=\"outputAddress\"/> (aligned to the level's size), with no field set; none (0) at a level that holds no leaves. Add fields with the With methods.");
        w.Line(AggressiveInlining);
        w.Open($"public static Entry Block({Level} level, ulong outputAddress)");
        w.Line("int i = (int)level & 7;");
        w.Line("return new Entry(LeafBases[i] | (" + Encode("outputAddress", "(int)LeafAddressShifts[i]", "(int)LeafAddressLows[i]") + " & LeafAddressMasks[i]));");
        w.Close();
        w.Member(
            "A page (a pte leaf) mapping <paramref name=\"outputAddress\"/>, with no field set.",
            AggressiveInlining,
            $"public static Entry Page(ulong outputAddress) => Block({Level}.Pte, outputAddress);");
        w.Member(
            "mk_pte(page, PAGE_KERNEL): a page mapping <paramref name=\"outputAddress\"/> with the bits the model maps its own pages with (PageBits).",
            AggressiveInlining,
            $"public static Entry KernelPage(ulong outputAddress) => new Entry(Page(outputAddress).Value | {Hex(f.PageBits)});");
        EmitBreakBeforeMake(w, t, f);
        EmitFields(w, s.Format.Fields);
        w.Member("Equal raw entries.", "public bool Equals(Entry other) => Value == other.Value;");
        w.Member("Equal raw entries.", "public override bool Equals(object? obj) => obj is Entry other && Equals(other);");
        w.Member("The raw entry's hash.", "public override int GetHashCode() => Value.GetHashCode();");
        w.Member("Equal raw entries.", "public static bool operator ==(Entry left, Entry right) => left.Value == right.Value;");
        w.Member("Different raw entries.", "public static bool operator !=(Entry left, Entry right) => left.Value != right.Value;");
        w.Member("The raw entry in hex.", "public override string ToString() => \"entry 0x\" + Value.ToString(\"x\", global::System.Globalization.CultureInfo.InvariantCulture);");
        w.Member("The leaf rule alone (valid bits not looked at): the leaf match, or any of the any-set bits.");
        w.Line(AggressiveInlining);
        w.Open($"private bool LeafRule({Level} level)");
        w.Line("int i = (int)level & 7;");
        w.Line("return ((Value & LeafMasks[i]) == LeafValues[i]) | ((Value & LeafAnyMasks[i]) != 0);");
        w.Close();
        w.Line();
        w.Line($"private const ulong TableLevels = {Hex(tableLevels)};");
        w.Line();
        w.Line(Table("ValidMasks", Pad(t.Column(l => l.ValidMask), EmittedLevels)));
        w.Line(Table("ValidValues", Pad(t.Column(l => l.ValidValue), EmittedLevels).Select((v, d) => d >= GeometryRules.LevelSlots ? 1UL : v))); // no level past the pte: never valid
        w.Line(Table("LeafMasks", Pad(t.Column(l => l.LeafMask), EmittedLevels)));
        w.Line(Table("LeafValues", Pad(t.Column(l => l.LeafValue), EmittedLevels).Select((v, d) => d >= GeometryRules.LevelSlots ? 1UL : v)));
        w.Line(Table("LeafAnyMasks", Pad(t.Column(l => l.LeafAny), EmittedLevels)));
        w.Line(Table("LeafBases", Pad(leafBase, EmittedLevels)));
        w.Line(Table("LeafAddressMasks", Pad(t.Column(l => l.LeafAddressMask), EmittedLevels)));
        ulong[] Never(ulong[] values) => values.Concat(Enumerable.Repeat(1UL, EmittedLevels - values.Length)).ToArray(); // (v & 0) == 1 never holds
        for (int k = 0; k < BitPatterns.Max; k++)
        {
            w.Line(Table($"KernelLeafMasks{k}", Pad(t.Column(l => l.KernelLeafMasks[k]), EmittedLevels)));
            w.Line(Table($"KernelLeafValues{k}", Never(t.Column(l => l.KernelLeafValues[k]))));
            w.Line(Table($"KernelPresentMasks{k}", Pad(t.Column(l => l.KernelPresentMasks[k]), EmittedLevels)));
            w.Line(Table($"KernelPresentValues{k}", Never(t.Column(l => l.KernelPresentValues[k]))));
        }

        w.Line(Table("KernelTableMasks", Pad(t.Column(l => l.KernelTableMask), EmittedLevels)));
        w.Line(Table("KernelTableValues", Pad(t.Column(l => l.KernelTableValue), EmittedLevels)));
        w.Line($"private static global::System.ReadOnlySpan<byte> LeafAddressLows => [{string.Join(", ", Pad(t.Column(l => (ulong)l.LeafAddressLow), EmittedLevels))}];");
        w.Line($"private static global::System.ReadOnlySpan<byte> LeafAddressShifts => [{string.Join(", ", Pad(t.Column(l => (ulong)l.LeafAddressShift), EmittedLevels))}];");
        w.Close();
    }

    private static void EmitBreakBeforeMake(CodeWriter w, FormatTables t, FormatDecl f)
    {
        bool any = f.BreakBeforeMake || t.BbmOnChange.Any(m => m != 0) || t.BbmOnSet.Any(m => m != 0);
        string summary = "True when replacing the valid entry <paramref name=\"old\"/> by the valid <paramref name=\"new\"/> at <paramref name=\"level\"/> must go through an invalid entry and a TLB invalidation (break-before-make)";
        if (!any)
        {
            w.Member(summary + ": never in this format.", $"public static bool NeedsBreakBeforeMake({Level} level, Entry old, Entry @new) => false;");
            return;
        }

        w.Member(summary + (f.BreakBeforeMake ? ": a change of output address or between leaf and table, " : ": ") + "or a change of a field the format marks. False when either entry is invalid.");
        w.Line(AggressiveInlining);
        w.Open($"public static bool NeedsBreakBeforeMake({Level} level, Entry old, Entry @new)");
        w.Line("bool oldLeaf = old.IsLeaf(level);");
        w.Line("int slot = ((((int)level & 7) * 2) + (oldLeaf ? 1 : 0)) & 15;");
        w.Line("bool fields = ((old.Value ^ @new.Value) & BreakOnChange[slot]) != 0 | (~old.Value & @new.Value & BreakOnSet[slot]) != 0;");
        w.Line(f.BreakBeforeMake
            ? "bool shape = (oldLeaf != @new.IsLeaf(level)) | (old.OutputAddress(level) != @new.OutputAddress(level));"
            : "const bool shape = false;");
        w.Line("return old.IsValid(level) & @new.IsValid(level) & (shape | fields);");
        w.Close();
        w.Line();
        w.Line($"private static global::System.ReadOnlySpan<ulong> BreakOnChange => [{string.Join(", ", t.BbmOnChange.Concat(new ulong[EmittedSlots - EntryFormatRules.Slots]).Select(Hex))}];");
        w.Line();
        w.Line($"private static global::System.ReadOnlySpan<ulong> BreakOnSet => [{string.Join(", ", t.BbmOnSet.Concat(new ulong[EmittedSlots - EntryFormatRules.Slots]).Select(Hex))}];");
    }

    /// <summary>A getter and a With-er per field: level-free where every declaration of the name has one bit range, by level (and the entry's kind) where they differ (x86 PAT).</summary>
    private static void EmitFields(CodeWriter w, EquatableArray<FieldDecl> fields)
    {
        foreach (var group in fields.GroupBy(field => field.Name))
        {
            var declarations = group.ToList();
            var first = declarations[0];
            string name = first.Name;
            if (declarations.All(d => d.Low == first.Low && d.High == first.High))
            {
                ulong mask = EntryFormatRules.Mask(first.Low, first.High);
                string bits = first.Low == first.High ? $"bit {first.Low}" : $"bits [{first.High}:{first.Low}]";
                if (first.Low == first.High)
                {
                    w.Member($"{name} ({bits}).", $"public bool {name} => (Value & {Hex(mask)}) != 0;");
                    w.Member($"This entry with {name} ({bits}) set to <paramref name=\"value\"/>.", AggressiveInlining, $"public Entry With{name}(bool value) => new Entry((Value & ~{Hex(mask)}) | ((value ? 1UL : 0UL) << {first.Low}));");
                }
                else
                {
                    w.Member($"{name} ({bits}).", $"public ulong {name} => (Value & {Hex(mask)}) >> {first.Low};");
                    w.Member($"This entry with {name} ({bits}) set to <paramref name=\"value\"/> (bits beyond the field dropped).", AggressiveInlining, $"public Entry With{name}(ulong value) => new Entry((Value & ~{Hex(mask)}) | ((value << {first.Low}) & {Hex(mask)}));");
                }

                continue;
            }

            // By slot (EntryFormatRules.Slot); a slot without the field has mask 0 (reads 0, writes nothing).
            var masks = new ulong[EmittedSlots];
            var lows = new ulong[EmittedSlots];
            foreach (var d in declarations)
            {
                for (int level = 0; level < GeometryRules.LevelSlots; level++)
                {
                    foreach (var kind in EntryFormatRules.SlotKinds)
                    {
                        if (EntryFormatRules.Has(d.Levels, level) && (d.Kinds & kind) != 0)
                        {
                            masks[EntryFormatRules.Slot(level, kind)] = EntryFormatRules.Mask(d.Low, d.High);
                            lows[EntryFormatRules.Slot(level, kind)] = (ulong)d.Low;
                        }
                    }
                }
            }

            string where = string.Join(", ", declarations.Select(d => $"[{d.High}:{d.Low}]"));
            w.Member($"{name} ({where} by level and kind) of this entry read as a <paramref name=\"level\"/> entry; 0 where the level has no such field.");
            w.Line(AggressiveInlining);
            w.Open($"public ulong {name}({Level} level)");
            w.Line("int slot = ((((int)level & 7) * 2) + (IsLeaf(level) ? 1 : 0)) & 15;");
            w.Line($"return (Value & {name}Masks[slot]) >> (int){name}Lows[slot];");
            w.Close();
            w.Member($"This entry with {name} set to <paramref name=\"value\"/> where a <paramref name=\"level\"/> entry of its kind keeps it; unchanged where there is none.");
            w.Line(AggressiveInlining);
            w.Open($"public Entry With{name}({Level} level, ulong value)");
            w.Line("int slot = ((((int)level & 7) * 2) + (IsLeaf(level) ? 1 : 0)) & 15;");
            w.Line($"return new Entry((Value & ~{name}Masks[slot]) | ((value << (int){name}Lows[slot]) & {name}Masks[slot]));");
            w.Close();
            w.Line();
            w.Line($"private static global::System.ReadOnlySpan<ulong> {name}Masks => [{string.Join(", ", masks.Select(Hex))}];");
            w.Line();
            w.Line($"private static global::System.ReadOnlySpan<byte> {name}Lows => [{string.Join(", ", lows)}];");
        }
    }

    private static string Decode(string value, string mask, string low, string shift) =>
        low == shift ? $"({value} & {mask})" : $"((({value} & {mask}) >> {low}) << {shift})";

    private static string Encode(string address, string shift, string low) =>
        shift == low ? address : $"(({address} >> {shift}) << {low})";

    private static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture) + "UL";

    private static string Escape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
