using System.Collections.Generic;
using System.Linq;
using PamtGen.Generator.Model;

namespace PamtGen.Generator;

public sealed partial class PamtGenerator
{

    /// <summary>The kernel's name of a level, as the generated code spells it (Pgd ... Pte).</summary>
    private static string Name(PageTableLevel level) => level.ToString();

    /// <summary>
    /// The geometry as the runtime sees it, and the address space typed by it: the one description a consumer
    /// writes (the attribute) gives both, and the walkers below take only this geometry's address space, so passing
    /// another geometry's is a compile error, whatever its numbers.
    /// </summary>
    private static void EmitAddressSpace(CodeWriter w, GeometrySpec s)
    {
        string self = s.Type.NameWithTypeParameters;
        w.Member(
            "This geometry as the runtime describes it (its tables, folding and indices); distinct from every other geometry, even one with the same numbers.",
            $"public static readonly {GeometryType} Geometry = new {GeometryType}(PageShift, PtrsPerPte, EntrySize, Levels, VirtualAddressBits, \"{TypeNameOnly(s)}\", {(s.Format.Holder is { } holder ? $"{EntryFormatType}.Of(typeof({holder}))" : "null")}, RootTables);");
        w.Member($"An address space (struct mm_struct) with this geometry's tables; the walkers of <see cref=\"{TypeNameOnly(s)}\"/> take only this type, and its operations run them.");
        w.Open($"public sealed class AddressSpace : {MmType}");
        w.Line("/// <summary>pgd_alloc(): a new address space whose root table comes from <paramref name=\"allocator\"/>; throws when that allocation fails.</summary>");
        w.Open($"public AddressSpace({PageAllocatorType} allocator) : base({self}.Geometry, allocator)");
        w.Close();

        // The virtual walkers of Mm, each forwarded to this geometry's generated one.
        foreach (string forwarder in new[]
        {
            $"public override int ApplyToPageRange<TFn>(ulong addr, ulong size, ref TFn fn) => {self}.ApplyToPageRange(this, addr, size, ref fn);",
            $"public override int ApplyToExistingPageRange<TFn>(ulong addr, ulong size, ref TFn fn) => {self}.ApplyToExistingPageRange(this, addr, size, ref fn);",
            $"public override int ApplyToPageRangeTransactional<TFn, TUndo>(ulong addr, ulong size, ref TFn fn, ref TUndo undo) => {self}.ApplyToPageRangeTransactional(this, addr, size, ref fn, ref undo);",
            $"public override int WalkPageRange<TOps>(ulong start, ulong end, ref TOps ops) => {self}.WalkPageRange(this, start, end, ref ops);",
            $"public override int FreeEmptyTables(ulong addr, ulong size) => {self}.FreeEmptyTables(this, addr, size);",
        })
        {
            w.Line();
            w.Line("/// <inheritdoc/>");
            w.Line(forwarder);
        }

        w.Line();
        w.Line("/// <summary>Maps [<paramref name=\"va\"/>, +<paramref name=\"size\"/>) to [<paramref name=\"pa\"/>, +<paramref name=\"size\"/>) with this format's leaves, <paramref name=\"attributes\"/> being a page's fields.</summary>");
        w.Line($"public int MapRange(ulong va, ulong pa, ulong size, Entry attributes, {MapRangeOptionsType} options = default, {TlbGatherType}? gather = null) => MapRange(va, pa, size, attributes.Value, options, gather);");
        w.Line();
        w.Line($"/// <summary>Maps as <see cref=\"MapRange(ulong, ulong, ulong, Entry, {MapRangeOptionsType}, {TlbGatherType}?)\"/> does; <paramref name=\"refusal\"/> says why when it refuses.</summary>");
        w.Line($"public int MapRange(ulong va, ulong pa, ulong size, Entry attributes, out {RefusalType} refusal, {MapRangeOptionsType} options = default, {TlbGatherType}? gather = null) => MapRange(va, pa, size, attributes.Value, out refusal, options, gather);");
        w.Line();
        w.Line("/// <summary>The single-stage walk, unrolled for this geometry.</summary>");
        w.Open($"protected override {TranslationType} WalkTables(ulong va, {AccessType} access, {OptionsType} options)");
        w.Line($"var memory = new {MemoryType}(Allocator, {AgentType}.WalkerOf(0));");
        w.Line($"return {self}.TranslateWalk(Pgd, va, access, options, ref memory);");
        w.Close();
        w.Line();
        w.Line("/// <summary>The stage-1 walk over tables in guest-physical memory, unrolled for this geometry.</summary>");
        w.Line($"protected override {TranslationType} WalkGuestTables(ulong va, {AccessType} access, {OptionsType} options, ref {GuestTablesType} memory) =>");
        w.Continued($"{self}.TranslateWalk(Pgd, va, access, options, ref memory);");
        w.Close();
    }

    /// <summary>
    /// The generated page-range walkers: apply_to_page_range(), apply_to_existing_page_range() and
    /// walk_page_range() as one small method per real level, as mm/memory.c and mm/pagewalk.c are written.
    /// Folded levels have no method: their folded helpers (never none, addr_end = end) are applied here, so
    /// the top table's entries are checked with the kernel's name for the level that checks them
    /// (p4d_none() on 4 levels, pud_none() on 3, pmd_none() on 2) and holes there get that depth.
    /// </summary>
    private static void EmitWalkers(CodeWriter w, GeometrySpec s)
    {
        var levels = s.RealLevels;
        string check = Name(s.TopCheckLevel);
        string top = Name(levels[0]);
        const string FnConstraint = $"where TFn : struct, {PteFnInterface}";
        ModelMemoryOverload(w, "apply_to_page_range(): calls <paramref name=\"fn\"/> for every PTE of [<paramref name=\"addr\"/>, <paramref name=\"addr\"/> + <paramref name=\"size\"/>) in ascending order, allocating missing tables (-ENOMEM when that fails). -EINVAL for an empty or wrapping range, one that leaves the 2^VirtualAddressBits window it starts in, or a leaf at an upper level (WARN); a bad upper entry is warned about, cleared and given a table. The first non-zero return stops the walk and is returned, nothing undone.", $"public static int ApplyToPageRange<TFn>(AddressSpace mm, ulong addr, ulong size, ref TFn fn) {FnConstraint}", "ApplyToPageRange(mm, addr, size, ref fn, ref memory)");
        w.Member("apply_to_page_range() with every entry access and table allocation through <paramref name=\"memory\"/>.");
        w.Open($"public static int ApplyToPageRange<TFn, TMemory>(AddressSpace mm, ulong addr, ulong size, ref TFn fn, ref TMemory memory) {FnConstraint} {MemoryConstraint}");
        w.Line("ulong end = addr + size;");
        w.Line($"return {InvalidRange(s, "addr", "end")} ? {Einval} : ApplyTo{top}Range(mm, addr, end, ref fn, ref memory, create: true, journal: null);");
        w.Close();
        ModelMemoryOverload(w, "apply_to_existing_page_range(): like <see cref=\"ApplyToPageRange{TFn}(AddressSpace, ulong, ulong, ref TFn)\"/>, but never allocates: ranges without a table are skipped, a bad upper entry is warned about and skipped, and <paramref name=\"fn\"/> is called only for PTEs that are not none.", $"public static int ApplyToExistingPageRange<TFn>(AddressSpace mm, ulong addr, ulong size, ref TFn fn) {FnConstraint}", "ApplyToExistingPageRange(mm, addr, size, ref fn, ref memory)");
        w.Member("apply_to_existing_page_range() with every entry access through <paramref name=\"memory\"/>.");
        w.Open($"public static int ApplyToExistingPageRange<TFn, TMemory>(AddressSpace mm, ulong addr, ulong size, ref TFn fn, ref TMemory memory) {FnConstraint} {MemoryConstraint}");
        w.Line("ulong end = addr + size;");
        w.Line($"return {InvalidRange(s, "addr", "end")} ? {Einval} : ApplyTo{top}Range(mm, addr, end, ref fn, ref memory, create: false, journal: null);");
        w.Close();
        ModelMemoryOverload(w, "walk_page_range_novma() on a kernel range: PteEntry for every PTE of present tables, PteHole for every range without a table (with the kernel's depth), PudEntry/PmdEntry for entries that are not none, as <typeparamref name=\"TOps\"/> declares them; a bad pgd or p4d entry is cleared and reported as a hole. Never allocates; -EINVAL when <paramref name=\"start\"/> &gt;= <paramref name=\"end\"/>.", $"public static int WalkPageRange<TOps>(AddressSpace mm, ulong start, ulong end, ref TOps ops) where TOps : struct, {WalkOpsInterface}", "WalkPageRange(mm, start, end, ref ops, ref memory)");
        w.Member("walk_page_range_novma() with every entry access through <paramref name=\"memory\"/>.");
        w.Open($"public static int WalkPageRange<TOps, TMemory>(AddressSpace mm, ulong start, ulong end, ref TOps ops, ref TMemory memory) where TOps : struct, {WalkOpsInterface} {MemoryConstraint}");
        w.Line($"return {InvalidRange(s, "start", "end")} ? {Einval} : Walk{top}Range(mm, start, end, ref ops, ref memory);");
        w.Close();

        w.Member("Like <see cref=\"ApplyToPageRange{TFn}(AddressSpace, ulong, ulong, ref TFn)\"/>, but all or nothing: if the walk fails (an error from <paramref name=\"fn\"/> or -ENOMEM), <paramref name=\"undo\"/> is called for every PTE the walk visited, last first, and the tables the walk installed are freed, so the tables and the allocator hold what they held before. On success it is ApplyToPageRange.");
        w.Open($"public static int ApplyToPageRangeTransactional<TFn, TUndo>(AddressSpace mm, ulong addr, ulong size, ref TFn fn, ref TUndo undo) {FnConstraint} where TUndo : struct, {PteFnInterface}");
        w.Line("ulong end = addr + size;");
        w.Open($"if ({InvalidRange(s, "addr", "end")})");
        w.Line($"return {Einval};");
        w.Close();
        w.Line();
        w.Line($"var memory = {MemoryType}.Of(mm);");
        w.Line($"return {Services}.ApplyTransactional<ApplyWalk, TFn, TUndo, {MemoryType}>(mm, addr, end, ref fn, ref undo, ref memory);");
        w.Close();
        w.Member("This geometry's apply walk, for the one transactional procedure.");
        w.Open($"private readonly struct ApplyWalk : {ApplyWalkInterface}");
        w.Line($"public static int Apply<TFn, TMemory>({MmType} mm, ulong addr, ulong end, ref TFn fn, ref TMemory memory, bool create, {JournalType}? journal) {FnConstraint} {MemoryConstraint} =>");
        w.Continued($"ApplyTo{top}Range(mm, addr, end, ref fn, ref memory, create, journal);");
        w.Close();
        w.Member("free_pgd_range() for a kernel range: after [<paramref name=\"addr\"/>, <paramref name=\"addr\"/> + <paramref name=\"size\"/>) has been depopulated, frees bottom-up every page-table page in it whose entries are all none, clearing the parent entry. A table that maps addresses outside the range (at its edges) is kept, and so is the root. Returns the number of table pages freed, or -EINVAL for an invalid range.");
        w.Open($"public static int FreeEmptyTables(AddressSpace mm, ulong addr, ulong size)");
        w.Line("ulong end = addr + size;");
        w.Line($"var memory = {MemoryType}.Of(mm);");
        w.Line($"return {InvalidRange(s, "addr", "end")} ? {Einval} : FreeEmpty{top}Range(mm, addr, end, ref memory);");
        w.Close();

        EmitBlockMapping(w);
        for (int i = 0; i < levels.Length - 1; i++)
        {
            EmitApplyUpper(w, s, levels, i, i == 0 ? check : Name(levels[i]));
        }

        for (int i = 0; i < levels.Length - 1; i++)
        {
            EmitFreeEmpty(w, s, levels, i, i == 0 ? check : Name(levels[i]));
        }

        EmitApplyPte(w, EntryLevel(s, levels.Length - 2));
        for (int i = 0; i < levels.Length - 1; i++)
        {
            EmitWalkUpper(w, s, levels, i);
        }

        EmitWalkPte(w, EntryLevel(s, levels.Length - 2));
    }

    /// <summary>An entry point on the model's own memory: the overload that makes a <c>ModelMemory</c> of the space and calls <paramref name="call"/> with it.</summary>
    private static void ModelMemoryOverload(CodeWriter w, string summary, string signature, string call)
    {
        w.Member(summary);
        w.Open(signature);
        w.Line($"var memory = {MemoryType}.Of(mm);");
        w.Line($"return {call};");
        w.Close();
    }

    /// <summary>
    /// Range mapping with blocks, typed by this geometry's address space and entry struct: the runtime's BlockMapping does
    /// the work from the geometry's format, all or nothing. Each takes a TLB gather for the ranges it leaves to invalidate
    /// (without one, it invalidates them itself before returning).
    /// </summary>
    private static void EmitBlockMapping(CodeWriter w)
    {
        const string Mapping = $"{BlockMappingType}";
        w.Member(
            "Maps [<paramref name=\"va\"/>, +<paramref name=\"size\"/>) to [<paramref name=\"pa\"/>, +<paramref name=\"size\"/>) with the largest leaves the alignment and the format allow (kvm_pgtable_stage2_map()), <paramref name=\"attributes\"/> being a page's field bits (an <c>Entry.Page(0).With...()</c>); all or nothing. 0, -EINVAL (misaligned or out of range), -EEXIST (already mapped, unless <paramref name=\"options\"/> replace) or -ENOMEM.",
            $"public static int MapRange(AddressSpace mm, ulong va, ulong pa, ulong size, Entry attributes, {MapRangeOptionsType} options = default, {TlbGatherType}? gather = null) => {Mapping}.MapRange(mm, va, pa, size, attributes.Value, options, gather);");
        w.Member(
            "Unmaps [<paramref name=\"va\"/>, +<paramref name=\"size\"/>) (kvm_pgtable_stage2_unmap()): splits blocks the range covers in part, clears leaves, frees the tables it empties; all or nothing. 0, -EINVAL or -ENOMEM.",
            $"public static int UnmapRange(AddressSpace mm, ulong va, ulong size, {TlbGatherType}? gather = null) => {Mapping}.UnmapRange(mm, va, size, gather);");
        w.Member(
            "Splits the block at <paramref name=\"level\"/> mapping <paramref name=\"va\"/> into a table of leaves with the same translations and fields (kvm_pgtable_stage2_split()). 0, -EINVAL (no block there) or -ENOMEM.",
            $"public static int Split(AddressSpace mm, ulong va, {Level} level, {TlbGatherType}? gather = null) => {Mapping}.Split(mm, va, level, gather);");
        w.Member(
            "Collapses the table under the entry at <paramref name=\"level\"/> mapping <paramref name=\"va\"/> into one block, when its leaves map one aligned contiguous range with the same fields (accessed and dirty merged); the table is freed. 0 or -EINVAL.",
            $"public static int Collapse(AddressSpace mm, ulong va, {Level} level, {TlbGatherType}? gather = null) => {Mapping}.Collapse(mm, va, level, gather);");
    }

    /// <summary>
    /// apply_to_pgd_range() (the loop of __apply_to_page_range()) and apply_to_p4d/pud/pmd_range(), as the kernel writes
    /// them: none is skipped unless creating, pXd_leaf() is WARN and -EINVAL, pXd_bad() is WARN and skipped, or cleared
    /// when creating (the child then allocates a table there), with the format architecture's helpers.
    /// </summary>
    private static void EmitApplyUpper(CodeWriter w, GeometrySpec s, PageTableLevel[] levels, int position, string checkName)
    {
        string name = Name(levels[position]);
        string child = Name(levels[position + 1]);
        string level = $"{Level}.{checkName}";
        w.Member($"apply_to_{name.ToLowerInvariant()}_range(): {(position == 0 ? TopTableNote(s, checkName) : $"one pass over a {name.ToLowerInvariant()} table, allocating it first when <paramref name=\"create\"/>.")}");
        w.Open($"private static int ApplyTo{name}Range<TFn, TMemory>({UpperParameters(position)}, ref TFn fn, ref TMemory memory, bool create, {JournalType}? journal) where TFn : struct, {PteFnInterface} {MemoryConstraint}");
        EmitTableOffset(w, position, name, create: true, position == 0 ? PageTableLevel.Pgd : EntryLevel(s, position - 1));
        w.Open($"for (int index = (int){name}Index(addr); ; index++)");
        w.Line($"ulong next = {name}AddrEnd(addr, end);");
        w.Line($"ulong entry = memory.Read(table, index, {Once});");
        w.Line("bool descend = entry != 0 || create; // pXd_none() && !create: continue");
        w.Open($"if (entry != 0 && new Entry(entry).PxdLeaf({level}))");
        w.Line($"return {Services}.LeafWhereTableExpected(mm, {level}, addr, entry); // WARN_ON_ONCE(pXd_leaf()): -EINVAL");
        w.Close();
        w.Line();
        w.Open($"if (entry != 0 && new Entry(entry).PxdBad({level}))");
        w.Line($"descend = {Services}.BadEntry(mm, {level}, table, index, addr, entry, create, ref memory, journal); // WARN_ON_ONCE(pXd_bad()): pXd_clear_bad() when creating");
        w.Close();
        w.Line();
        w.Open("if (descend)");
        w.Line($"int err = ApplyTo{child}Range(mm, table, index, addr, next, ref fn, ref memory, create, journal);");
        w.ReturnIfError();
        w.Close();
        w.NextEntryOrReturn("0");
    }

    /// <summary>free_pgd_range(), free_pud_range(), ...: one pass over a table, children first, into the tables the kernel's walkers follow.</summary>
    private static void EmitFreeEmpty(CodeWriter w, GeometrySpec s, PageTableLevel[] levels, int position, string checkName)
    {
        string name = Name(levels[position]);
        string child = Name(levels[position + 1]);
        string level = $"{Level}.{checkName}";
        w.Member($"free_{name.ToLowerInvariant()}_range(): the empty tables under one pass over a {name.ToLowerInvariant()} table, and those tables themselves.");
        w.Open($"private static int FreeEmpty{name}Range<TMemory>({UpperParameters(position)}, ref TMemory memory) {MemoryConstraint}");
        if (position == 0)
        {
            w.Line($"{PageType} table = mm.Pgd; // pgd_offset_k()");
        }
        else
        {
            w.Line($"{PageType} table = {Services}.TableOf(mm, {Level}.{Name(EntryLevel(s, position - 1))}, addr, memory.Read(parent, parentIndex, {Once}), ref memory); // {name.ToLowerInvariant()}_offset()");
        }

        w.Line("int freed = 0;");
        w.Open($"for (int index = (int){name}Index(addr); ; index++)");
        w.Line($"ulong next = {name}AddrEnd(addr, end);");
        w.Line($"ulong entry = memory.Read(table, index, {Once});");
        w.Open($"if (entry != 0 && !new Entry(entry).PxdLeaf({level}) && !new Entry(entry).PxdBad({level}))");
        if (child != "Pte")
        {
            w.Line($"freed += FreeEmpty{child}Range(mm, table, index, addr, next, ref memory);");
        }

        w.Line($"// The table below maps {name}Size bytes: free it only when the range covers all of them.");
        w.Open($"if (next - addr == {name}Size && {Services}.FreeTableIfEmpty(mm, {level}, table, index, addr, ref memory))");
        w.Line("freed++;");
        w.Close();
        w.Close();
        w.NextEntryOrReturn("freed");
    }

    /// <summary>
    /// apply_to_pte_range(): [addr, end) lies in one table, so the loop runs over that slice of it, with <c>create</c>
    /// tested once rather than per PTE; each PTE reaches the callback as a pointer through the walk's memory.
    /// </summary>
    private static void EmitApplyPte(CodeWriter w, PageTableLevel parentLevel)
    {
        w.Member("apply_to_pte_range(): the callback for every PTE of one table's part of the range (when <paramref name=\"create\"/>), or for those that are not none.");
        string parent = Name(parentLevel).ToLowerInvariant();
        string level = $"{Level}.{Name(parentLevel)}";
        w.Line(NoInlining + " // the PTE loop in a frame of its own: inlined into the pmd loop, its locals spill to the stack");
        w.Open($"private static int ApplyToPteRange<TFn, TMemory>({MmType} mm, {PageType} {parent}, int {parent}Index, ulong addr, ulong end, ref TFn fn, ref TMemory memory, bool create, {JournalType}? journal) where TFn : struct, {PteFnInterface} {MemoryConstraint}");
        w.Line($"ulong {parent}Entry = create ? 0 : memory.Read({parent}, {parent}Index, {Once});");
        w.Open($"if (create && !{Services}.PopulateIfNone(mm, {level}, {parent}, {parent}Index, addr, ref memory, journal, out {parent}Entry))");
        w.Line($"return {Enomem}; // pte_alloc_kernel() failed");
        w.Close();
        w.Line();
        w.Line($"{PageType} table = {Services}.TableOf(mm, {level}, addr, {parent}Entry, ref memory); // pte_offset_kernel()");
        w.Line($"object pointers = {Services}.PointerTable(table, ref memory); // the table as the entry pointers name it");
        w.Line("int first = (int)PteIndex(addr), last = first + (int)((end - addr) >> PageShift);");
        w.Line("TFn callback = fn; // a local copy the JIT can keep in registers; written back on every way out");
        w.Open("if (create)");
        w.Open("for (int index = first; index < last; index++, addr += PageSize) // an index of each loop's own: one shared by both loops stays on the stack");
        w.Line($"int err = callback.Invoke({Services}.PtePointer(pointers, index), addr);");
        w.Open("if (err != 0)");
        w.Line("fn = callback;");
        w.Line("return err;");
        w.Close();
        w.Close();
        w.Close();
        w.Open("else");
        w.Open("for (int index = first; index < last; index++, addr += PageSize) // an index of each loop's own: one shared by both loops stays on the stack");
        w.Open($"if (memory.Read(table, index, {Once}) != 0) // !pte_none(ptep_get(pte))");
        w.Line($"int err = callback.Invoke({Services}.PtePointer(pointers, index), addr);");
        w.Open("if (err != 0)");
        w.Line("fn = callback;");
        w.Line("return err;");
        w.Close();
        w.Close();
        w.Close();
        w.Close();
        w.Line();
        w.Line("fn = callback;");
        w.Line("return 0;");
        w.Close();
    }

    /// <summary>
    /// walk_pgd_range() and walk_p4d/pud/pmd_range() as walk_page_range_novma() runs them: a none entry is a hole, and so is
    /// a bad pgd or p4d entry, which pXd_none_or_clear_bad() clears; a pud or pmd entry goes to its callback, is read again,
    /// and is descended into when it is present and not a leaf.
    /// </summary>
    private static void EmitWalkUpper(CodeWriter w, GeometrySpec s, PageTableLevel[] levels, int position)
    {
        string name = Name(levels[position]);
        string child = Name(levels[position + 1]);
        var check = position == 0 ? s.TopCheckLevel : levels[position];
        string checkName = Name(check);
        w.Member($"walk_{name.ToLowerInvariant()}_range(): {(position == 0 ? TopTableNote(s, checkName) : $"one pass over a present {name.ToLowerInvariant()} table.")}");
        w.Open($"private static int Walk{name}Range<TOps, TMemory>({UpperParameters(position)}, ref TOps ops, ref TMemory memory) where TOps : struct, {WalkOpsInterface} {MemoryConstraint}");
        w.Line($"{Callbacks} callbacks = TOps.Callbacks;");
        EmitTableOffset(w, position, name, create: false, position == 0 ? PageTableLevel.Pgd : EntryLevel(s, position - 1));
        w.Line($"object pointers = {Services}.PointerTable(table, ref memory); // the table as the entry pointers name it");
        w.Open($"for (int index = (int){name}Index(addr); ; index++)");
        w.Line($"ulong next = {name}AddrEnd(addr, end);");
        int opened = 0;

        // The folded levels above the one that checks the top table's entries: never none, so pud_entry is
        // called for every slot (on 2 levels), and each descends only when a callback below it exists.
        for (var folded = levels[position]; folded < check; folded++)
        {
            if (folded == PageTableLevel.Pud)
            {
                EmitEntryCallback(w, "Pud");
            }

            w.Open($"if ((callbacks & ({WantedBelow(folded)})) != 0)");
            opened++;
        }

        string level = $"{Level}.{checkName}";
        w.Line($"ulong entry = memory.Read(table, index, {Once});");
        if (check < PageTableLevel.Pud)
        {
            w.Open($"if (entry != 0 && new Entry(entry).PxdBad({level}))");
            w.Line($"{Services}.ClearBad(mm, {level}, table, index, addr, entry, ref memory); // pXd_none_or_clear_bad()");
            w.Line("entry = 0;");
            w.Close();
            w.Line();
        }

        w.Open("if (entry == 0) // pXd_none()");
        w.Open($"if ((callbacks & {Callbacks}.PteHole) != 0)");
        w.Line($"int err = ops.PteHole(addr, next, {(int)check});");
        w.ReturnIfError();
        w.Close();
        w.Close();
        w.Open("else");
        if (check is PageTableLevel.Pud or PageTableLevel.Pmd)
        {
            EmitEntryCallback(w, checkName);
            w.Line($"entry = memory.Read(table, index, {Once}); // re-read: the entry callback may have changed it");
        }

        string present = check is PageTableLevel.Pud or PageTableLevel.Pmd ? $" && new Entry(entry).PxdPresent({level}) && !new Entry(entry).PxdLeaf({level})" : "";
        w.Open($"if ((callbacks & ({WantedBelow(check)})) != 0{present})");
        w.Line($"int err = Walk{child}Range(mm, table, index, addr, next, ref ops, ref memory);");
        w.ReturnIfError();
        w.Close();
        w.Close();
        for (; opened > 0; opened--)
        {
            w.Close();
        }

        w.NextEntryOrReturn("0");
    }

    /// <summary>walk_pte_range(): pte_entry for every PTE of the table in the range, over that slice of the table.</summary>
    private static void EmitWalkPte(CodeWriter w, PageTableLevel parentLevel)
    {
        w.Member("walk_pte_range(): pte_entry for every PTE of one present table's part of the range.");
        string parent = Name(parentLevel).ToLowerInvariant();
        w.Open($"private static int WalkPteRange<TOps, TMemory>({MmType} mm, {PageType} {parent}, int {parent}Index, ulong addr, ulong end, ref TOps ops, ref TMemory memory) where TOps : struct, {WalkOpsInterface} {MemoryConstraint}");
        w.Line($"{PageType} table = {Services}.TableOf(mm, {Level}.{Name(parentLevel)}, addr, memory.Read({parent}, {parent}Index, {Once}), ref memory); // pte_offset_kernel()");
        w.Line($"object pointers = {Services}.PointerTable(table, ref memory); // the table as the entry pointers name it");
        w.Line("TOps callbacks = ops; // a local copy the JIT can keep in registers; written back on every way out");
        w.Open("for (int index = (int)PteIndex(addr), last = index + (int)((end - addr) >> PageShift); index < last; index++, addr += PageSize)");
        w.Line($"int err = callbacks.PteEntry({Services}.PtePointer(pointers, index), addr, addr + PageSize);");
        w.Open("if (err != 0)");
        w.Line("ops = callbacks;");
        w.Line("return err;");
        w.Close();
        w.Close();
        w.Line();
        w.Line("ops = callbacks;");
        w.Line("return 0;");
        w.Close();
    }

    private static void EmitEntryCallback(CodeWriter w, string level)
    {
        w.Open($"if ((callbacks & {Callbacks}.{level}Entry) != 0)");
        w.Line($"int err = ops.{level}Entry({Services}.{level}Pointer(pointers, index), addr, next);");
        w.ReturnIfError();
        w.Close();
        w.Line();
    }

    /// <summary>pgd_offset() for the top table; pXd_alloc() (when creating) and pXd_offset() below it, the parent entry read through the memory.</summary>
    private static void EmitTableOffset(CodeWriter w, int position, string name, bool create, PageTableLevel parentCheck)
    {
        if (position == 0)
        {
            w.Line($"{PageType} table = mm.Pgd; // pgd_offset_k()");
            return;
        }

        string level = $"{Level}.{Name(parentCheck)}";
        w.Line(create ? $"ulong parentEntry = create ? 0 : memory.Read(parent, parentIndex, {Once});" : $"ulong parentEntry = memory.Read(parent, parentIndex, {Once});");
        if (create)
        {
            w.Open($"if (create && !{Services}.PopulateIfNone(mm, {level}, parent, parentIndex, addr, ref memory, journal, out parentEntry))");
            w.Line($"return {Enomem}; // {name.ToLowerInvariant()}_alloc() failed");
            w.Close();
            w.Line();
        }

        w.Line($"{PageType} table = {Services}.TableOf(mm, {level}, addr, parentEntry, ref memory); // {name.ToLowerInvariant()}_offset()");
    }

    /// <summary>
    /// The kernel's WARN_ON(addr &gt;= end) (empty or wrapping), and a range that leaves the 2^VA window it starts
    /// in, which the kernel does not check and which would run past the end of the top table.
    /// </summary>
    private static string InvalidRange(GeometrySpec s, string start, string end) =>
        s.VirtualAddressBits == 64
            ? $"{start} >= {end}"
            : $"{start} >= {end} || ({start} >> VirtualAddressBits) != (({end} - 1) >> VirtualAddressBits)";

    private static string UpperParameters(int position) =>
        position == 0
            ? $"{MmType} mm, ulong addr, ulong end"
            : $"{MmType} mm, {PageType} parent, int parentIndex, ulong addr, ulong end";

    /// <summary>The callbacks below <paramref name="level"/> that make the kernel descend past it.</summary>
    private static string WantedBelow(PageTableLevel level) => level switch
    {
        PageTableLevel.Pmd => $"{Callbacks}.PteEntry",
        PageTableLevel.Pud => $"{Callbacks}.PmdEntry | {Callbacks}.PteEntry",
        _ => $"{Callbacks}.PudEntry | {Callbacks}.PmdEntry | {Callbacks}.PteEntry",
    };

    private static string TopTableNote(GeometrySpec s, string checkName) =>
        s.Levels == 5
            ? "one pass over the top table."
            : $"one pass over the top table; with {s.Levels} levels the levels between it and the next table are folded, so its entries are checked as {checkName.ToLowerInvariant()}_none()/{checkName.ToLowerInvariant()}_leaf() check them.";

    private static string TypeNameOnly(GeometrySpec s)
    {
        string name = s.Type.NameWithTypeParameters;
        int generic = name.IndexOf('<');
        return generic < 0 ? name : name.Substring(0, generic);
    }
}
