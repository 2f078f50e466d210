using System.Linq;
using PamtGen.Generator.Model;

namespace PamtGen.Generator;

public sealed partial class PamtGenerator
{
    private const string TranslationType = "global::PamtGen.Translation";
    private const string AccessType = "global::PamtGen.Access";
    private const string OptionsType = "global::PamtGen.TranslateOptions";
    private const string Rules = "global::PamtGen.CompilerServices.TranslationRules";
    private const string MemoryConstraint = "where TMemory : struct, global::PamtGen.IPageTableMemory";
    private const string Fault = "global::PamtGen.FaultReason";

    /// <summary>
    /// Translate: the MMU's walk unrolled for this geometry and format, one small method per entry level (as the x86
    /// walker's paging64_walk_addr_generic() loop and Arm's AArch64.TranslationTableWalk() step a level at a time), with
    /// every mask, shift and permission rule a constant. The same code walks a single stage and, generic over how the
    /// tables are reached, stage 1 of two with every table read going through stage 2. The runtime's Translator.Walk is
    /// the same walk as a loop over the Geometry; the permission rules are the runtime's TranslationRules, shared.
    /// </summary>
    private static void EmitTranslate(MemberWriter w, GeometrySpec s)
    {
        var t = s.Format.Resolve(s.Levels);
        var masks = TranslationMasks.Of(t);
        PageTableLevel[] levels = s.RealLevels;
        w.Member(
            "Translates <paramref name=\"va\"/> as the MMU does (docs/TRANSLATION.md): through the space's TLB model when it tracks one, then one entry per level with the format's permission rules; two-stage when the space's tables live in guest-physical memory. The output address, leaf level and size and effective permissions, or a fault naming its stage, level and reason.",
            $"public static {TranslationType} Translate(AddressSpace space, ulong va, {AccessType} access, {OptionsType} options = {OptionsType}.None)",
            "{",
            "    // Without a TLB, in the model's own memory: the walk itself, without Mm.Translate's indirections.",
            $"    if ((space.Tlb is null || (options & {OptionsType}.BypassTlb) != 0) && space.Allocator.Guest is null)",
            "    {",
            "        var memory = new global::PamtGen.ModelMemory(space.Allocator, global::PamtGen.Agent.WalkerOf(0));",
            "        return TranslateWalk(space.Pgd, va, access, options, ref memory);",
            "    }",
            "",
            "    return space.Translate(va, access, options);",
            "}");
        w.Member(
            "The walk from the root table at <paramref name=\"root\"/>; an update that loses a race (compare-exchange) walks again.",
            AggressiveInlining,
            $"private static {TranslationType} TranslateWalk<TMemory>(global::PamtGen.Page root, ulong va, {AccessType} access, {OptionsType} options, ref TMemory memory) {MemoryConstraint}",
            "{",
            $"    {TranslationType} result;",
            $"    while (!Translate{Name(EntryLevel(s, 0))}(root, va, access, options, ~0UL, 0UL, ref memory, out result))",
            "    {",
            "    }",
            "",
            "    return result;",
            "}");
        for (int position = 0; position < levels.Length; position++)
        {
            EmitTranslateLevel(w, s, t, masks, levels, position);
        }

        EmitTranslateLeaf(w, masks);
    }

    /// <summary>The level whose checks read the entries of the <paramref name="position"/>-th real table (the top table's: the lowest level folded into it).</summary>
    private static PageTableLevel EntryLevel(GeometrySpec s, int position) => position == 0 ? s.TopCheckLevel : s.RealLevels[position];

    private static void EmitTranslateLevel(MemberWriter w, GeometrySpec s, FormatTables t, TranslationMasks masks, PageTableLevel[] levels, int position)
    {
        var entryLevel = EntryLevel(s, position);
        int depth = (int)entryLevel; // the index of the level's rules in the format's tables
        string name = Name(entryLevel);
        string level = $"{Level}.{name}";
        int reads = position + 1;
        bool last = position == levels.Length - 1;
        ulong reservedLeaf = t.Reserved[EntryFormatRules.Slot(depth, EntryKinds.Leaf)], reservedTable = t.Reserved[EntryFormatRules.Slot(depth, EntryKinds.Table)];
        var code = new CodeLines();

        // A fault of this level when the condition holds: the result, and the walk is done.
        void FaultIf(string condition, string result)
        {
            code.Open($"if ({condition})");
            code.Line($"result = {result};");
            code.Line("return true;");
            code.Close();
            code.Line();
        }

        string FaultOf(string reason) => $"{Rules}.Fault({Fault}.{reason}, {level}, access, va, {reads} + memory.ExtraReads)";
        code.Open($"private static bool Translate{name}<TMemory>(global::PamtGen.Page table, ulong va, {AccessType} access, {OptionsType} options, ulong and, ulong or, ref TMemory memory, out {TranslationType} result) {MemoryConstraint}");
        code.Line($"int index = (int){Name(levels[position])}Index(va);");
        code.Line($"ulong e = memory.Read(table, index, {Once});");
        FaultIf("TMemory.CanFault && memory.Faulted", $"{Rules}.Stage2Fault(ref memory, access, {position})"); // this level's entry was not read
        FaultIf($"(e & {Hex(t.ValidMask[depth])}) != {Hex(t.ValidValue[depth])}", FaultOf("NotPresent"));
        if (t.CanLeaf[depth])
        {
            code.Open(last ? "// every valid pte is a page" : t.LeafAny[depth] != 0 ? $"if ((e & {Hex(t.LeafAny[depth])}) != 0)" : $"if ((e & {Hex(t.LeafMask[depth])}) == {Hex(t.LeafValue[depth])})");
            if (reservedLeaf != 0)
            {
                FaultIf($"(e & {Hex(reservedLeaf)}) != 0", FaultOf("ReservedBits"));
            }

            code.Line($"return TranslateLeaf({level}, {Hex(1UL << GeometryRules.Shifts(s.PageShift, s.EntrySize, s.Levels)[depth])}, {Decode("e", t.LeafAddressMask[depth], t.LeafAddressLow[depth], t.LeafAddressShift[depth])}, table, index, e, and, or, va, access, options, {reads}, ref memory, out result);");
            code.Close();
        }

        if (!last)
        {
            code.Line();
            if (reservedTable != 0)
            {
                FaultIf($"(e & {Hex(reservedTable)}) != 0", FaultOf("ReservedBits"));
            }

            string next = Name(EntryLevel(s, position + 1));
            code.Line($"global::PamtGen.Page? child = memory.TableAt({Decode("e", t.TableAddressMask, t.Format.TableAddressLow, t.Format.TableAddressShift)});");
            FaultIf("child is null", $"{Rules}.Fault({Fault}.NotPresent, {Level}.{next}, access, va, {reads + 1} + memory.ExtraReads)"); // no table there: it reads as zeros
            code.Open($"if (!Translate{next}(child, va, access, options, and & e, or | e, ref memory, out result))");
            code.Line("return false;");
            code.Close();
            code.Line();
            if (masks.Accessed != 0)
            {
                code.Line("// x86 sets A in every table entry the walk used (after the leaf's own update).");
                code.Open($"if (result.Ok && (options & {OptionsType}.UpdateAccessedDirty) != 0 && (e & {Hex(masks.Accessed)}) == 0)");
                code.Line($"int stopped = {Rules}.UpdateEntry(ref memory, table, index, e, e | {Hex(masks.Accessed)});");
                code.Open("if (stopped == 2)");
                code.Line($"result = {Rules}.Stage2Fault(ref memory, access, {reads});");
                code.Close();
                code.Line();
                code.Line("return stopped != 1;");
                code.Close();
                code.Line();
            }

            code.Line("return true;");
        }

        code.Close();
        string what = last
            ? "the pte: every valid entry is a page"
            : position == 0 ? $"the top table's entry, read as the {name.ToLowerInvariant()} level (the levels between are folded)" : $"a {name.ToLowerInvariant()} entry";
        w.Member($"One level of the walk: {what}. False when an update lost a race.", code.ToArray());
    }

    /// <summary>An address field of <paramref name="value"/> as an address: masked, moved from its low bit to the bit it holds.</summary>
    private static string Decode(string value, ulong mask, int low, int shift) =>
        low == shift ? $"({value} & {Hex(mask)})" : low > shift ? $"(({value} & {Hex(mask)}) >> {low - shift})" : $"(({value} & {Hex(mask)}) << {shift - low})";

    private static void EmitTranslateLeaf(MemberWriter w, TranslationMasks m)
    {
        var code = new CodeLines();
        code.Open($"private static bool TranslateLeaf<TMemory>({Level} level, ulong size, ulong output, global::PamtGen.Page table, int index, ulong e, ulong and, ulong or, ulong va, {AccessType} access, {OptionsType} options, int reads, ref TMemory memory, out {TranslationType} result) {MemoryConstraint}");
        code.Line($"bool update = (options & {OptionsType}.UpdateAccessedDirty) != 0;");
        if (m.AccessFlag != 0)
        {
            code.Open($"if ((e & {Hex(m.AccessFlag)}) == 0 && !update)");
            code.Line($"result = {Rules}.Fault({Fault}.AccessFlag, level, access, va, reads + memory.ExtraReads); // arm64 without FEAT_HAFDBS");
            code.Line("return true;");
            code.Close();
            code.Line();
        }

        // FEAT_HAFDBS: a write to a clean DirtyBitModifier leaf makes it writable (stage 1 clears AP[2], stage 2 sets S2AP[1]).
        code.Line(m.DirtyBitModifier == 0
            ? "ulong effective = e;"
            : $"ulong effective = update && (access & {AccessType}.Write) != 0 && (e & {Hex(m.DirtyBitModifier)}) != 0 ? (e & ~{Hex(m.DirtyClears)}) | {Hex(m.DirtySets)} : e;");
        string permissions = m.Model switch
        {
            PermissionModel.X86 => $"{Rules}.X86(and & effective, or | effective, {Hex(m.Writable)}, {Hex(m.User)}, {Hex(m.NoExecute)})",
            PermissionModel.Arm64Stage1 => $"{Rules}.Arm64Stage1(or, effective, {Hex(m.AccessPermissions)}, {Hex(m.PrivilegedExecuteNever)}, {Hex(m.UnprivilegedExecuteNever)}, {Hex(m.ApTable)}, {Hex(m.PxnTable)}, {Hex(m.UxnTable)})",
            PermissionModel.Arm64Stage2 => $"{Rules}.Arm64Stage2(effective, {Hex(m.S2AccessPermissions)}, {Hex(m.ExecuteNever)})",
            _ => "global::PamtGen.Permissions.All",
        };
        string updated = $"effective | {Hex(m.SetOnAccess)}" + (m.Dirty == 0 ? "" : $" | ((access & {AccessType}.Write) != 0 ? {Hex(m.Dirty)} : 0UL)");
        string dirty = m.Dirty == 0 ? "true" : $"(leaf & {Hex(m.Dirty)}) != 0";
        code.Line($"global::PamtGen.Permissions permissions = {permissions};");
        code.Line($"{Fault} reason = {Rules}.Check(permissions, access);");
        code.Open($"if (reason != {Fault}.None)");
        code.Line($"result = {Rules}.Fault(reason, level, access, va, reads + memory.ExtraReads);");
        code.Line("return true;");
        code.Close();
        code.Line();
        code.Line($"ulong leaf = update ? {updated} : e;");
        code.Open("if (leaf != e)");
        code.Line($"int stopped = {Rules}.UpdateEntry(ref memory, table, index, e, leaf);");
        code.Open("if (stopped != 0)");
        code.Line($"result = stopped == 2 ? {Rules}.Stage2Fault(ref memory, access, reads) : default;");
        code.Line("return stopped == 2;");
        code.Close();
        code.Close();
        code.Line();
        code.Line($"result = new {TranslationType}({Fault}.None, global::PamtGen.TranslationStage.Stage1, level, output + (va & (size - 1)), size, permissions, {dirty}, access, reads + memory.ExtraReads, va);");
        code.Line("return true;");
        code.Close();
        w.Member(
            "The end of the walk at a leaf: the access flag (arm64), the permissions of every entry used combined by the format's model, the leaf's update by compare-exchange. False when the update lost a race.",
            new[] { AggressiveInlining }.Concat(code.ToArray()).ToArray());
    }
}
