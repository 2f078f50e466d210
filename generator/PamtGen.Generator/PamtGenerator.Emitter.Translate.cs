using System.Linq;
using PamtGen.Generator.Model;

namespace PamtGen.Generator;

public sealed partial class PamtGenerator
{

    /// <summary>
    /// Translate: the MMU's walk unrolled for this geometry and format, one small method per entry level (as the x86
    /// walker's paging64_walk_addr_generic() loop and Arm's AArch64.TranslationTableWalk() step a level at a time), with
    /// every mask, shift and permission rule a constant. The same code walks a single stage and, generic over how the
    /// tables are reached, stage 1 of two with every table read going through stage 2. The runtime's Translator.Walk is
    /// the same walk as a loop over the Geometry; the permission rules are the runtime's TranslationRules, shared.
    /// </summary>
    private static void EmitTranslate(CodeWriter w, GeometrySpec s)
    {
        var t = s.Format.Resolve(s.Levels);
        var masks = TranslationMasks.Of(t);
        PageTableLevel[] levels = s.RealLevels;
        w.Member("Translates <paramref name=\"va\"/> as the MMU does (docs/TRANSLATION.md): through the space's TLB model when it tracks one, then one entry per level with the format's permission rules; two-stage when the space's tables live in guest-physical memory. The output address, leaf level and size and effective permissions, or a fault naming its stage, level and reason.");
        w.Open($"public static {TranslationType} Translate(AddressSpace space, ulong va, {AccessType} access, {OptionsType} options = {OptionsType}.None)");
        w.Line("// Without a TLB, in the model's own memory: the walk itself, without Mm.Translate's indirections.");
        w.Open($"if ((space.Tlb is null || (options & {OptionsType}.BypassTlb) != 0) && space.Allocator.Guest is null)");
        w.Line($"var memory = new {MemoryType}(space.Allocator, {AgentType}.WalkerOf(0));");
        w.Line("return TranslateWalk(space.Pgd, va, access, options, ref memory);");
        w.Close();
        w.Line();
        w.Line("return space.Translate(va, access, options);");
        w.Close();
        w.Member("The walk from the root table at <paramref name=\"root\"/>; an update that loses a race (compare-exchange) walks again.");
        w.Line(AggressiveInlining);
        w.Open($"private static {TranslationType} TranslateWalk<TMemory>({PageType} root, ulong va, {AccessType} access, {OptionsType} options, ref TMemory memory) {MemoryConstraint}");
        w.Line($"{TranslationType} result;");
        w.Open($"while (!Translate{Name(EntryLevel(s, 0))}(root, va, access, options, ~0UL, 0UL, ref memory, out result))");
        w.Close();
        w.Line();
        w.Line("return result;");
        w.Close();
        for (int position = 0; position < levels.Length; position++)
        {
            EmitTranslateLevel(w, s, t, masks, levels, position);
        }

        EmitTranslateLeaf(w, masks);
    }

    /// <summary>The level whose checks read the entries of the <paramref name="position"/>-th real table (the top table's: the lowest level folded into it).</summary>
    private static PageTableLevel EntryLevel(GeometrySpec s, int position) => position == 0 ? s.TopCheckLevel : s.RealLevels[position];

    private static void EmitTranslateLevel(CodeWriter w, GeometrySpec s, FormatTables t, TranslationMasks masks, PageTableLevel[] levels, int position)
    {
        var entryLevel = EntryLevel(s, position);
        int depth = (int)entryLevel; // the index of the level's rules in the format's tables
        string name = Name(entryLevel);
        string level = $"{Level}.{name}";
        int reads = position + 1;
        bool last = position == levels.Length - 1;
        ulong reservedLeaf = t.Reserved[EntryFormatRules.Slot(depth, EntryKinds.Leaf)], reservedTable = t.Reserved[EntryFormatRules.Slot(depth, EntryKinds.Table)];
        string what = last
            ? "the pte: every valid entry is a page"
            : position == 0 ? $"the top table's entry, read as the {name.ToLowerInvariant()} level (the levels between are folded)" : $"a {name.ToLowerInvariant()} entry";
        w.Member($"One level of the walk: {what}. False when an update lost a race.");

        // A fault of this level when the condition holds: the result, and the walk is done.
        void FaultIf(string condition, string result)
        {
            w.Open($"if ({condition})");
            w.Line($"result = {result};");
            w.Line("return true;");
            w.Close();
            w.Line();
        }

        string FaultOf(string reason) => $"{Rules}.Fault({Fault}.{reason}, {level}, access, va, {reads} + memory.ExtraReads)";
        w.Open($"private static bool Translate{name}<TMemory>({PageType} table, ulong va, {AccessType} access, {OptionsType} options, ulong and, ulong or, ref TMemory memory, out {TranslationType} result) {MemoryConstraint}");
        w.Line($"int index = (int){Name(levels[position])}Index(va);");
        w.Line($"ulong e = memory.Read(table, index, {Once});");
        FaultIf("TMemory.CanFault && memory.Faulted", $"{Rules}.Stage2Fault(ref memory, access, {position})"); // this level's entry was not read
        string notPresent = $"(e & {Hex(t[depth].ValidMask)}) != {Hex(t[depth].ValidValue)}";
        FaultIf(t[depth].ValidAny == 0 ? notPresent : t[depth].ValidMask == 0 ? $"(e & {Hex(t[depth].ValidAny)}) == 0" : $"{notPresent} || (e & {Hex(t[depth].ValidAny)}) == 0", FaultOf("NotPresent"));
        var encodings = t.ReservedEncodings;
        if (encodings.Count != 0)
        {
            // a reserved encoding: RISC-V W without R; EPT W without R or a reserved memory type (a misconfiguration)
            FaultIf(string.Join(" || ", Enumerable.Range(0, encodings.Count).Select(i => $"(e & {Hex(encodings.Masks[i])}) == {Hex(encodings.Values[i])}")), FaultOf("ReservedBits"));
        }

        if (t[depth].CanLeaf)
        {
            w.Open(last ? "// every valid pte is a page" : t[depth].LeafAny != 0 ? $"if ((e & {Hex(t[depth].LeafAny)}) != 0)" : $"if ((e & {Hex(t[depth].LeafMask)}) == {Hex(t[depth].LeafValue)})");
            if (reservedLeaf != 0)
            {
                FaultIf($"(e & {Hex(reservedLeaf)}) != 0", FaultOf("ReservedBits"));
            }

            w.Line($"return TranslateLeaf({level}, {Hex(1UL << GeometryRules.Shifts(s.PageShift, s.EntrySize, s.Levels)[depth])}, {Decode("e", t[depth].LeafAddressMask, t[depth].LeafAddressLow, t[depth].LeafAddressShift)}, table, index, e, and, or, va, access, options, {reads}, ref memory, out result);");
            w.Close();
        }

        if (!last)
        {
            w.Line();
            if (reservedTable != 0)
            {
                FaultIf($"(e & {Hex(reservedTable)}) != 0", FaultOf("ReservedBits"));
            }

            string next = Name(EntryLevel(s, position + 1));
            w.Line($"{PageType}? child = memory.TableAt({Decode("e", t.TableAddressMask, t.Format.TableAddressLow, t.Format.TableAddressShift)});");
            FaultIf("child is null", $"{Rules}.Fault({Fault}.NotPresent, {Level}.{next}, access, va, {reads + 1} + memory.ExtraReads)"); // no table there: it reads as zeros
            w.Open($"if (!Translate{next}(child, va, access, options, and & e, or | e, ref memory, out result))");
            w.Line("return false;");
            w.Close();
            w.Line();
            if (masks.Accessed != 0)
            {
                w.Line("// x86 sets A in every table entry the walk used (after the leaf's own update).");
                w.Open($"if (result.Ok && (options & {OptionsType}.UpdateAccessedDirty) != 0 && (e & {Hex(masks.Accessed)}) == 0)");
                w.Line($"int stopped = {Rules}.UpdateEntry(ref memory, table, index, e, e | {Hex(masks.Accessed)});");
                w.Open("if (stopped == 2)");
                w.Line($"result = {Rules}.Stage2Fault(ref memory, access, {reads});");
                w.Close();
                w.Line();
                w.Line("return stopped != 1;");
                w.Close();
                w.Line();
            }

            w.Line("return true;");
        }

        w.Close();
    }

    /// <summary>A walk value as the generated leaf step names it: <c>and</c>, <c>or</c> of the tables, <c>effective</c> the leaf.</summary>
    private static string WalkExpression(WalkValue value) => value switch
    {
        WalkValue.TablesAndLeaf => "and & effective",
        WalkValue.TablesOrLeaf => "or | effective",
        WalkValue.TablesOr => "or",
        WalkValue.Options => "(ulong)options",
        _ => "effective",
    };

    /// <summary>An address field of <paramref name="value"/> as an address: masked, moved from its low bit to the bit it holds.</summary>
    private static string Decode(string value, ulong mask, int low, int shift) =>
        low == shift ? $"({value} & {Hex(mask)})" : low > shift ? $"(({value} & {Hex(mask)}) >> {low - shift})" : $"(({value} & {Hex(mask)}) << {shift - low})";

    private static void EmitTranslateLeaf(CodeWriter w, TranslationMasks m)
    {
        w.Member("The end of the walk at a leaf: the access flag (arm64), the permissions of every entry used combined by the format's model, the leaf's update by compare-exchange. False when the update lost a race.");
        w.Line(AggressiveInlining);
        w.Open($"private static bool TranslateLeaf<TMemory>({Level} level, ulong size, ulong output, {PageType} table, int index, ulong e, ulong and, ulong or, ulong va, {AccessType} access, {OptionsType} options, int reads, ref TMemory memory, out {TranslationType} result) {MemoryConstraint}");
        w.Line($"bool update = (options & {OptionsType}.UpdateAccessedDirty) != 0;");
        void AccessedDirtyChecks()
        {
            if (m.AccessFlag != 0)
            {
                w.Open($"if ((e & {Hex(m.AccessFlag)}) == 0 && !update)");
                w.Line($"result = {Rules}.Fault({Fault}.AccessFlag, level, access, va, reads + memory.ExtraReads); // arm64 without FEAT_HAFDBS, RISC-V Svade");
                w.Line("return true;");
                w.Close();
                w.Line();
            }

            if (m.DirtyFaults != 0)
            {
                w.Open($"if ((e & {Hex(m.DirtyFaults)}) == 0 && !update && (access & {AccessType}.Write) != 0)");
                w.Line($"result = {Rules}.Fault({Fault}.DirtyFlag, level, access, va, reads + memory.ExtraReads); // RISC-V Svade");
                w.Line("return true;");
                w.Close();
                w.Line();
            }
        }

        if (!m.AccessFlagAfterPermissions)
        {
            AccessedDirtyChecks();
        }

        // FEAT_HAFDBS: a write to a clean DirtyBitModifier leaf makes it writable (stage 1 clears AP[2], stage 2 sets S2AP[1]).
        w.Line(m.DirtyBitModifier == 0
            ? "ulong effective = e;"
            : $"ulong effective = update && (access & {AccessType}.Write) != 0 && (e & {Hex(m.DirtyBitModifier)}) != 0 ? (e & ~{Hex(m.DirtyClears)}) | {Hex(m.DirtySets)} : e;");
        // The model's call (PermissionCall, the one dispatch the runtime binds too), its masks written as constants.
        string permissions = m.Permission is { } call
            ? $"{Rules}.{call.Function}({string.Join(", ", call.Walk.Select(WalkExpression).Concat(call.Masks.Select(Hex)))})"
            : $"{PermissionsType}.All";
        string updated = $"effective | {Hex(m.SetOnAccess)}" + (m.Dirty == 0 ? "" : $" | ((access & {AccessType}.Write) != 0 ? {Hex(m.Dirty)} : 0UL)");
        string dirty = m.Dirty == 0 ? "true" : $"(leaf & {Hex(m.Dirty)}) != 0";
        w.Line($"{PermissionsType} permissions = {permissions};");
        w.Line($"{Fault} reason = {Rules}.Check(permissions, access);");
        w.Open($"if (reason != {Fault}.None)");
        w.Line($"result = {Rules}.Fault(reason, level, access, va, reads + memory.ExtraReads, permissions);");
        w.Line("return true;");
        w.Close();
        w.Line();
        if (m.AccessFlagAfterPermissions)
        {
            AccessedDirtyChecks();
        }

        w.Line($"ulong leaf = update ? {updated} : e;");
        w.Open("if (leaf != e)");
        w.Line($"int stopped = {Rules}.UpdateLeaf(ref memory, table, index, e, leaf, output + (va & (size - 1)), access, permissions);");
        w.Open("if (stopped != 0)");
        w.Line($"result = stopped == 2 ? {Rules}.Stage2Fault(ref memory, access, reads) : default;");
        w.Line("return stopped == 2;");
        w.Close();
        w.Close();
        w.Line();
        w.Line($"result = new {TranslationType}({Fault}.None, {TranslationStageType}.Stage1, level, output + (va & (size - 1)), size, permissions, {dirty}, access, reads + memory.ExtraReads, va);");
        w.Line("return true;");
        w.Close();
    }
}
