using System.Runtime.CompilerServices;
using PamtGen.CompilerServices;

namespace PamtGen;

/// <summary>How <see cref="BlockMapping.MapRange(Mm, ulong, ulong, ulong, ulong, MapRangeOptions, TlbGather?)"/> chooses leaves and treats what is already mapped.</summary>
/// <param name="Replace">Replace mappings in the range, in place, instead of failing with -EEXIST: leaves are rewritten, tables that stay are kept, a block the range covers in part is split first.</param>
/// <param name="LargestLeaf">The highest level a leaf may be at: <see cref="PageTableLevel.Pte"/> maps pages only, <see cref="PageTableLevel.Pmd"/> caps blocks at PMD_SIZE; the default allows every block the format has.</param>
public readonly record struct MapRangeOptions(bool Replace = false, PageTableLevel LargestLeaf = PageTableLevel.Pgd)
{
    /// <summary>Pages only, no blocks.</summary>
    public static MapRangeOptions PagesOnly => new(LargestLeaf: PageTableLevel.Pte);
}

/// <summary>
/// Range mapping with blocks, for any geometry and entry format, all or nothing: the operations of a stage-2 manager
/// (KVM's kvm_pgtable_stage2_map()/_unmap()/_split(), aarch64-paging's map_range(), the x86 direct map), each a visitor
/// of the one walk (<see cref="PageTableWalk"/>) with the hardware's view of the tables. Each operation holds the mm's
/// page-table lock (as KVM's map holds its mmu_lock), first walks the range without writing to decide every refusal that
/// can be decided (-EINVAL for a bad entry or an impossible split, -EEXIST for an overlap), then writes through the one
/// journal (<see cref="Journal"/>): on -ENOMEM it puts back every entry it wrote and frees every table it allocated, so the
/// tables and the set of allocated pages are exactly as before the call; tables it empties or replaces are freed only
/// when it succeeds. A refusal says why (<see cref="Refusal"/>). Attributes are leaf field bits as a page (pte) has them;
/// each leaf gets them moved to where its level keeps them (x86's PAT: bit 7 of a PTE, bit 12 of a block). Table
/// entries are the format's TableBits.
/// </summary>
public static class BlockMapping
{
    /// <summary>
    /// Maps [<paramref name="va"/>, +<paramref name="size"/>) to [<paramref name="pa"/>, +<paramref name="size"/>) with the
    /// largest leaf each step allows (aligned va and pa, the level's whole span in the range, a level whose format holds
    /// leaves, no higher than <see cref="MapRangeOptions.LargestLeaf"/>). The physical range need not be the model's pages
    /// (guest RAM, device memory): it is mapped, never allocated or freed. -EINVAL for a misaligned, empty or wrapping
    /// range, one outside the window or the physical-address bits, or a bad entry in it; -EEXIST when the range overlaps a
    /// mapping (unless <see cref="MapRangeOptions.Replace"/>); -ENOMEM when a table cannot be allocated.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // an operation, called once: the typed forwarders of a geometry class stay one call
    public static int MapRange(Mm mm, ulong va, ulong pa, ulong size, ulong attributes, MapRangeOptions options = default, TlbGather? gather = null) =>
        MapRange(mm, va, pa, size, attributes, out _, options, gather);

    /// <summary>MapRange, with why it refused when it did.</summary>
    public static int MapRange(Mm mm, ulong va, ulong pa, ulong size, ulong attributes, out Refusal refusal, MapRangeOptions options = default, TlbGather? gather = null)
    {
        ArgumentNullException.ThrowIfNull(mm);
        var g = mm.Geometry;
        if (!ValidRange(g, va, size))
        {
            return Refuse(out refusal, -Errno.EINVAL, RefusalReason.InvalidRange, PageTableLevel.Pte, va, 0);
        }

        if ((pa & (g.PageSize - 1)) != 0 || pa + size < pa
            || (g.Format.PhysicalAddressBits < 64 && (pa + size - 1) >> g.Format.PhysicalAddressBits != 0))
        {
            return Refuse(out refusal, -Errno.EINVAL, RefusalReason.InvalidPhysicalRange, PageTableLevel.Pte, pa, 0);
        }

        if (g.LeafRefusing(attributes) is { } refused)
        {
            return Refuse(out refusal, -Errno.EINVAL, RefusalReason.InvalidAttributes, refused.Level, va, refused.Entry);
        }

        var map = new MapVisitor(new Operation(mm, null, gather), va, pa, attributes, options);
        return Transaction(mm, gather, va, va + size, ref map, out refusal);
    }

    /// <summary>
    /// Unmaps [<paramref name="va"/>, +<paramref name="size"/>): clears the leaves in it, first splitting a block the range
    /// covers only in part (the rest keeps its translation and fields), and frees the tables it empties. -EINVAL for a
    /// misaligned range or a bad entry in it; -ENOMEM when a split cannot allocate.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // an operation, called once: the typed forwarders of a geometry class stay one call
    public static int UnmapRange(Mm mm, ulong va, ulong size, TlbGather? gather = null) => UnmapRange(mm, va, size, out _, gather);

    /// <summary>UnmapRange, with why it refused when it did.</summary>
    public static int UnmapRange(Mm mm, ulong va, ulong size, out Refusal refusal, TlbGather? gather = null)
    {
        ArgumentNullException.ThrowIfNull(mm);
        if (!ValidRange(mm.Geometry, va, size))
        {
            return Refuse(out refusal, -Errno.EINVAL, RefusalReason.InvalidRange, PageTableLevel.Pte, va, 0);
        }

        var unmap = new UnmapVisitor(new Operation(mm, null, gather));
        return Transaction(mm, gather, va, va + size, ref unmap, out refusal);
    }

    /// <summary>
    /// Splits the block at <paramref name="level"/> that maps <paramref name="va"/> into a table of leaves one level down
    /// with the same translations and fields (KVM's stage2 split). -EINVAL when there is no block there or the level
    /// below holds no leaves; -ENOMEM when the table cannot be allocated.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // an operation, called once: the typed forwarders of a geometry class stay one call
    public static int Split(Mm mm, ulong va, PageTableLevel level, TlbGather? gather = null) => Split(mm, va, level, out _, gather);

    /// <summary>Split, with why it refused when it did.</summary>
    public static int Split(Mm mm, ulong va, PageTableLevel level, out Refusal refusal, TlbGather? gather = null) =>
        AtBlockEntry<SplitBlock>(mm, va, level, gather, out refusal);

    /// <summary>kvm_pgtable_stage2_split() at one entry: a usable leaf above a level that holds leaves becomes a table of them.</summary>
    private struct SplitBlock : IBlockEntryOperation
    {
        public readonly int Run(Mm mm, int position, Mm.LookupVisitor slot, ulong va, PageTableLevel level, TlbGather? gather, ref ModelMemory memory, out Refusal refusal)
        {
            var g = mm.Geometry;
            if (!slot.Reached || !g.IsUsableLeaf(level, slot.Value))
            {
                return Refuse(out refusal, -Errno.EINVAL, slot.Reached ? RefusalReason.NotABlock : RefusalReason.NoEntry, slot.Level, va, slot.Value);
            }

            if (!g.HoldsLeaves(g.EntryLevels[position + 1]))
            {
                return Refuse(out refusal, -Errno.EINVAL, RefusalReason.LevelBelowHoldsNoLeaves, level, va, slot.Value);
            }

            var operation = new Operation(mm, new Journal(mm), gather);
            int err = operation.SplitBlock(position, slot.Table!, slot.Index, va, slot.Value, ref memory, out _);
            return Finish(mm, gather, operation, err, new Refusal(err, RefusalReason.NoMemory, level, va, slot.Value), ref memory, out refusal);
        }
    }

    /// <summary>
    /// What Split and Collapse refuse before they read a table: a level that is no block level (not an entry level, or
    /// the pte), or one that holds no leaves, whatever the tables hold there. Null when the level may hold a block.
    /// </summary>
    private static int? BlockLevelRefusal(Geometry g, PageTableLevel level, ulong va, out int position, out Refusal refusal)
    {
        position = g.EntryLevelPosition(level);
        refusal = default;
        if (position < 0 || level == PageTableLevel.Pte)
        {
            return Refuse(out refusal, -Errno.EINVAL, RefusalReason.NotABlockLevel, level, va, 0);
        }

        return g.HoldsLeaves(level) ? null : Refuse(out refusal, -Errno.EINVAL, RefusalReason.LevelHoldsNoLeaves, level, va, 0);
    }

    /// <summary>
    /// Collapses the table below the entry at <paramref name="level"/> that maps <paramref name="va"/> into one block:
    /// its leaves must map one contiguous range aligned to the block's size with the same fields (hardware-updated ones,
    /// accessed and dirty, are merged: set when set in any), and the level must hold leaves. The table is freed.
    /// -EINVAL when the entry is not such a table.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // an operation, called once: the typed forwarders of a geometry class stay one call
    public static int Collapse(Mm mm, ulong va, PageTableLevel level, TlbGather? gather = null) => Collapse(mm, va, level, out _, gather);

    /// <summary>Collapse, with why it refused when it did.</summary>
    public static int Collapse(Mm mm, ulong va, PageTableLevel level, out Refusal refusal, TlbGather? gather = null) =>
        AtBlockEntry<CollapseTable>(mm, va, level, gather, out refusal);

    /// <summary>The entry a block operation works at, found under the page-table lock once its level may hold a block.</summary>
    private interface IBlockEntryOperation
    {
        int Run(Mm mm, int position, Mm.LookupVisitor slot, ulong va, PageTableLevel level, TlbGather? gather, ref ModelMemory memory, out Refusal refusal);
    }

    /// <summary>
    /// Split and Collapse: the level's refusals (<see cref="BlockLevelRefusal"/>), then, under the page-table lock, the
    /// operation at the entry of <paramref name="level"/> that maps <paramref name="va"/>.
    /// </summary>
    private static int AtBlockEntry<TOperation>(Mm mm, ulong va, PageTableLevel level, TlbGather? gather, out Refusal refusal)
        where TOperation : struct, IBlockEntryOperation
    {
        ArgumentNullException.ThrowIfNull(mm);
        if (BlockLevelRefusal(mm.Geometry, level, va, out int position, out refusal) is int refused)
        {
            return refused;
        }

        lock (mm.PageTableLock)
        {
            var memory = ModelMemory.Of(mm);
            var slot = mm.Lookup(level, va, ref memory);
            return default(TOperation).Run(mm, position, slot, va, level, gather, ref memory, out refusal);
        }
    }

    /// <summary>The collapse of the table under one entry into a block, when its leaves map one aligned contiguous range with the same fields.</summary>
    private struct CollapseTable : IBlockEntryOperation
    {
        public readonly int Run(Mm mm, int position, Mm.LookupVisitor slot, ulong va, PageTableLevel level, TlbGather? gather, ref ModelMemory memory, out Refusal refusal)
        {
            var g = mm.Geometry;
            var child = slot.Reached && PageTableWalk.Descends(g, WalkView.Hardware, level, slot.Value) ? memory.TableAt(g.TableAddress(slot.Value)) : null;
            if (child is null)
            {
                return Refuse(out refusal, -Errno.EINVAL, slot.Reached ? RefusalReason.NotATable : RefusalReason.NoEntry, slot.Level, va, slot.Value);
            }

            var below = g.EntryLevels[position + 1];
            ulong hardware = g.HardwareUpdatedBits(below), start = 0, fields = 0, merged = 0;
            for (int i = 0; i < g.PtrsPerTable; i++)
            {
                ulong entry = memory.Read(child, i, MemoryOrder.Once);
                ulong at = (va & ~(g.Size(level) - 1)) + ((ulong)i * g.Size(below));
                if (!g.IsUsableLeaf(below, entry))
                {
                    return Refuse(out refusal, -Errno.EINVAL, RefusalReason.NotAllLeaves, below, at, entry);
                }

                ulong entryFields = g.MoveLeafFields(below, entry, below) & ~hardware;
                if (i == 0)
                {
                    (start, fields) = (g.LeafAddress(below, entry), entryFields);
                    if ((start & (g.Size(level) - 1)) != 0)
                    {
                        return Refuse(out refusal, -Errno.EINVAL, RefusalReason.Misaligned, below, at, entry);
                    }
                }
                else if (g.LeafAddress(below, entry) != start + ((ulong)i * g.Size(below)))
                {
                    return Refuse(out refusal, -Errno.EINVAL, RefusalReason.NotContiguous, below, at, entry);
                }
                else if (entryFields != fields)
                {
                    return Refuse(out refusal, -Errno.EINVAL, RefusalReason.FieldsDiffer, below, at, entry);
                }

                merged |= entry & hardware;
            }

            var operation = new Operation(mm, new Journal(mm), gather);
            operation.Set(slot.Table!, slot.Index, level, va, slot.Value, g.MakeLeafEntry(level, start, g.MoveLeafFields(below, fields | merged, level)), ref memory);
            operation.Journal!.FreeOnCommit(child);
            return Finish(mm, gather, operation, 0, default, ref memory, out refusal);
        }
    }

    /// <summary>
    /// Runs a write visitor as all or nothing, under the page-table lock: its refusals first, from a walk that writes
    /// nothing, then its writes through a journal, committed or rolled back. The ranges it leaves to invalidate go to
    /// <paramref name="gather"/>, or, without one, are invalidated before it returns.
    /// </summary>
    private static int Transaction<TVisitor>(Mm mm, TlbGather? gather, ulong va, ulong end, ref TVisitor visitor, out Refusal refusal)
        where TVisitor : struct, IBlockVisitor
    {
        lock (mm.PageTableLock)
        {
            var memory = ModelMemory.Of(mm);
            visitor.DryRun = true;
            int err = PageTableWalk.Walk(mm.Geometry, mm.Pgd, va, end, ref visitor, ref memory);
            if (err != 0)
            {
                refusal = visitor.Refusal;
                return err;
            }

            var operation = visitor.Operation = new Operation(mm, new Journal(mm), gather);
            visitor.DryRun = false;
            try
            {
                err = PageTableWalk.Walk(mm.Geometry, mm.Pgd, va, end, ref visitor, ref memory);
            }
            catch
            {
                operation.Journal!.Rollback(ref memory);
                throw;
            }

            return Finish(mm, gather, operation, err, visitor.Refusal, ref memory, out refusal);
        }
    }

    /// <summary>Commits or rolls back the operation's journal and flushes its own gather.</summary>
    private static int Finish(Mm mm, TlbGather? gather, Operation operation, int err, Refusal why, ref ModelMemory memory, out Refusal refusal)
    {
        if (err == 0)
        {
            operation.Journal!.Commit(ref memory);
            refusal = default;
        }
        else
        {
            operation.Journal!.Rollback(ref memory);
            refusal = why;
        }

        if (gather is null)
        {
            operation.Gather.Flush(mm);
        }

        return err;
    }

    private static int Refuse(out Refusal refusal, int err, RefusalReason reason, PageTableLevel level, ulong address, ulong entry)
    {
        refusal = new Refusal(err, reason, level, address, entry);
        return err;
    }

    private static bool ValidRange(Geometry g, ulong va, ulong size) =>
        size != 0 && ((va | size) & (g.PageSize - 1)) == 0 && va + size > va && g.InOneWindow(va, va + size);

    /// <summary>An operation's state: the address space, its journal (null in the walk that only decides refusals) and the gather of ranges to invalidate.</summary>
    private sealed class Operation(Mm mm, Journal? journal, TlbGather? gather)
    {
        public Mm Mm { get; } = mm;

        public Journal? Journal { get; } = journal;

        public TlbGather Gather { get; } = gather ?? new TlbGather();

        /// <summary>
        /// Writes the entry of <paramref name="level"/> whose range holds <paramref name="va"/>, journaled. A write that the
        /// format says needs break-before-make goes through an invalid entry and an invalidation of the entry's range first,
        /// as KVM's stage2_try_break_pte() and stage2_make_pte() do; any other change of a valid entry leaves its range to
        /// the gather.
        /// </summary>
        public void Set<TMemory>(Page table, int index, PageTableLevel level, ulong va, ulong old, ulong value, ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            var g = Mm.Geometry;
            ulong size = g.Size(level), start = va & ~(size - 1);
            Journal!.Wrote(table, index, level, start, old);
            if (g.NeedsBreakBeforeMake(level, old, value))
            {
                Write(table, index, level, start, old, 0, ref memory);
                Mm.Tlb?.InvalidateRange(start, size);
                old = 0;
            }
            else if (old != 0 && old != value)
            {
                Gather.Add(start, size);
            }

            Write(table, index, level, start, old, value, ref memory);
        }

        private void Write<TMemory>(Page table, int index, PageTableLevel level, ulong va, ulong old, ulong value, ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            memory.Write(table, index, value, MemoryOrder.Once);
            Mm.Tlb?.EntryChanged(level, va, old, value);
        }

        /// <summary>A fresh zeroed table, journaled; null when the allocation fails.</summary>
        public Page? AllocTable<TMemory>(ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            var page = memory.AllocTable(Mm.Geometry.PtrsPerTable);
            if (page is not null)
            {
                Journal!.Allocated(page);
            }

            return page;
        }

        /// <summary>The block in <paramref name="table"/>[<paramref name="index"/>] becomes a table of leaves one level down, same translations and fields.</summary>
        public int SplitBlock<TMemory>(int position, Page table, int index, ulong va, ulong block, ref TMemory memory, out ulong entry)
            where TMemory : struct, IPageTableMemory
        {
            var g = Mm.Geometry;
            var level = g.EntryLevels[position];
            var below = g.EntryLevels[position + 1];
            entry = block;
            var child = AllocTable(ref memory);
            if (child is null)
            {
                return -Errno.ENOMEM;
            }

            ulong start = g.LeafAddress(level, block), fields = g.MoveLeafFields(level, block, below);
            for (int i = 0; i < g.PtrsPerTable; i++)
            {
                memory.Write(child, i, g.MakeLeafEntry(below, start + ((ulong)i * g.Size(below)), fields), MemoryOrder.Once); // not yet reachable
            }

            entry = g.MakeTableEntry(child.PhysAddr);
            Set(table, index, level, va, block, entry, ref memory);
            return 0;
        }

        /// <summary>Frees, on commit, the table an entry pointed to and every table below it (the leaves are memory the tables do not own).</summary>
        public void FreeSubtree<TMemory>(int position, Page table, ulong va, ulong end, ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            var collect = new CollectTables(Journal!);
            PageTableWalk.WalkTable(Mm.Geometry, position, table, va, end, ref collect, ref memory);
            Journal!.FreeOnCommit(table);
        }
    }

    /// <summary>A block-mapping visitor: a walk that only decides refusals, then the one that writes.</summary>
    private interface IBlockVisitor : ITableVisitor
    {
        bool DryRun { get; set; }

        Operation Operation { get; set; }

        Refusal Refusal { get; }
    }

    /// <summary>
    /// kvm_pgtable_stage2_map()'s stage2_map_walker, in place: at each entry, a leaf where the range, the alignment of va
    /// and pa, the format and the cap allow one, else a table (the one there, a fresh one, or the split of a block the
    /// range covers in part). An entry already mapped is -EEXIST unless replacing; a bad one is -EINVAL.
    /// </summary>
    private struct MapVisitor(Operation operation, ulong va, ulong pa, ulong attributes, MapRangeOptions options) : IBlockVisitor
    {
        public bool DryRun { get; set; }

        public Operation Operation { get; set; } = operation;

        public Refusal Refusal { get; private set; }

        public static TableVisits Visits => TableVisits.Leaf | TableVisits.TablePre;

        public static WalkView View => WalkView.Hardware;

        public int Visit<TMemory>(ref WalkContext context, TableVisits visit, ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            var g = context.Geometry;
            var level = context.Level;
            ulong old = context.Old, at = pa + (context.Address - va);
            bool table = visit == TableVisits.TablePre;
            bool leaf = !table && old != 0 && g.IsUsableLeaf(level, old);
            if (!table && old != 0 && !leaf)
            {
                return Fail(-Errno.EINVAL, RefusalReason.BadEntry, context);
            }

            bool wantLeaf = level == PageTableLevel.Pte
                || (g.HoldsLeaves(level) && level >= options.LargestLeaf && context.CoversEntry && ((context.Address | at) & (context.Size - 1)) == 0);
            if (leaf && !options.Replace)
            {
                return Fail(-Errno.EEXIST, RefusalReason.Overlap, context);
            }

            if (wantLeaf)
            {
                // A table under a new leaf maps nothing (the refusal walk went through it) or is replaced: it goes on commit.
                if (!DryRun)
                {
                    ulong entry = g.MakeLeafEntry(level, at, g.MoveLeafFields(PageTableLevel.Pte, attributes, level));
                    Operation.Set(context.Table, context.Index, level, context.Address, old, entry, ref memory);
                    if (table)
                    {
                        Operation.FreeSubtree(context.Position + 1, memory.TableAt(g.TableAddress(old))!, context.EntryStart, context.EntryStart + context.Size, ref memory);
                    }

                    context.Old = entry;
                }

                return 0; // the refusal walk goes on into a table, to find what it maps
            }

            if (table)
            {
                return 0; // the table stays: the walk maps into it
            }

            var below = g.EntryLevels[context.Position + 1];
            if (leaf && !context.CoversEntry && !g.HoldsLeaves(below))
            {
                return Fail(-Errno.EINVAL, RefusalReason.LevelBelowHoldsNoLeaves, context);
            }

            if (DryRun)
            {
                context.SkipChildren = true; // below a new table or a split block there is nothing to refuse
                return 0;
            }

            if (leaf && !context.CoversEntry)
            {
                int err = Operation.SplitBlock(context.Position, context.Table, context.Index, context.Address, old, ref memory, out ulong split);
                context.Old = split;
                return err == 0 ? 0 : Fail(err, RefusalReason.NoMemory, context);
            }

            var fresh = Operation.AllocTable(ref memory);
            if (fresh is null)
            {
                return Fail(-Errno.ENOMEM, RefusalReason.NoMemory, context);
            }

            ulong tableEntry = g.MakeTableEntry(fresh.PhysAddr);
            Operation.Set(context.Table, context.Index, level, context.Address, old, tableEntry, ref memory);
            context.Old = tableEntry;
            return 0;
        }

        private int Fail(int err, RefusalReason reason, in WalkContext context)
        {
            Refusal = new Refusal(err, reason, context.Level, context.Address, context.Old);
            return err;
        }
    }

    /// <summary>
    /// kvm_pgtable_stage2_unmap()'s stage2_unmap_walker: a leaf the range covers is cleared, a block it covers in part is
    /// split and walked, a table left empty is cleared and freed on commit. A bad entry is -EINVAL.
    /// </summary>
    private struct UnmapVisitor(Operation operation) : IBlockVisitor
    {
        public bool DryRun { get; set; }

        public Operation Operation { get; set; } = operation;

        public Refusal Refusal { get; private set; }

        public static TableVisits Visits => TableVisits.Leaf | TableVisits.TablePost;

        public static WalkView View => WalkView.Hardware;

        public int Visit<TMemory>(ref WalkContext context, TableVisits visit, ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            var g = context.Geometry;
            var level = context.Level;
            ulong old = context.Old;
            if (visit == TableVisits.TablePost)
            {
                if (!DryRun)
                {
                    var child = memory.TableAt(g.TableAddress(old))!;
                    for (int i = 0; i < g.PtrsPerTable; i++)
                    {
                        if (memory.Read(child, i, MemoryOrder.Once) != 0)
                        {
                            return 0;
                        }
                    }

                    Operation.Set(context.Table, context.Index, level, context.Address, old, 0, ref memory);
                    Operation.Journal!.FreeOnCommit(child);
                }

                return 0;
            }

            if (old == 0)
            {
                return 0;
            }

            if (!g.IsUsableLeaf(level, old))
            {
                Refusal = new Refusal(-Errno.EINVAL, RefusalReason.BadEntry, level, context.Address, old);
                return -Errno.EINVAL;
            }

            if (context.CoversEntry)
            {
                if (!DryRun)
                {
                    Operation.Set(context.Table, context.Index, level, context.Address, old, 0, ref memory);
                    context.Old = 0;
                }

                return 0;
            }

            if (!g.HoldsLeaves(g.EntryLevels[context.Position + 1]))
            {
                Refusal = new Refusal(-Errno.EINVAL, RefusalReason.LevelBelowHoldsNoLeaves, level, context.Address, old);
                return -Errno.EINVAL;
            }

            if (DryRun)
            {
                return 0;
            }

            int err = Operation.SplitBlock(context.Position, context.Table, context.Index, context.Address, old, ref memory, out ulong split);
            if (err != 0)
            {
                Refusal = new Refusal(err, RefusalReason.NoMemory, level, context.Address, old);
                return err;
            }

            context.Old = split; // the walk goes into the new table and clears the part the range covers
            return 0;
        }
    }

    /// <summary>Every table below the subtree's root, for freeing on commit.</summary>
    private readonly struct CollectTables(Journal journal) : ITableVisitor
    {
        public static TableVisits Visits => TableVisits.TablePost;

        public static WalkView View => WalkView.Hardware;

        public int Visit<TMemory>(ref WalkContext context, TableVisits visit, ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            journal.FreeOnCommit(memory.TableAt(context.Geometry.TableAddress(context.Old))!);
            return 0;
        }
    }
}

/// <summary>Why a block-mapping operation refused.</summary>
public enum RefusalReason
{
    /// <summary>It did not refuse.</summary>
    None = 0,

    /// <summary>The virtual range is empty, wraps, is not page-aligned or leaves the translated window.</summary>
    InvalidRange,

    /// <summary>The physical range is not page-aligned, wraps, or goes beyond the format's physical-address bits.</summary>
    InvalidPhysicalRange,

    /// <summary>An entry in the range is neither none, a leaf nor a table the hardware would use (invalid, reserved bits, a table entry whose address holds no table).</summary>
    BadEntry,

    /// <summary>The range overlaps a mapping (a leaf) and the map does not replace.</summary>
    Overlap,

    /// <summary>A table could not be allocated.</summary>
    NoMemory,

    /// <summary>The level is the pte level, or one the geometry folds: no block can be there.</summary>
    NotABlockLevel,

    /// <summary>The level's entries cannot be leaves in this format.</summary>
    LevelHoldsNoLeaves,

    /// <summary>The level below cannot hold leaves, so a block there cannot be split.</summary>
    LevelBelowHoldsNoLeaves,

    /// <summary>An entry above the level is not a table: the walk does not reach the level.</summary>
    NoEntry,

    /// <summary>The entry at the level is not a block (none, a table, or bad).</summary>
    NotABlock,

    /// <summary>The entry at the level is not a table the hardware would follow.</summary>
    NotATable,

    /// <summary>An entry of the table is not a leaf (none, a table, or bad).</summary>
    NotAllLeaves,

    /// <summary>The table's first leaf does not map an address aligned to the block's size.</summary>
    Misaligned,

    /// <summary>The table's leaves do not map one contiguous range.</summary>
    NotContiguous,

    /// <summary>The table's leaves differ in a field other than the hardware-updated ones.</summary>
    FieldsDiffer,

    /// <summary>
    /// The attributes make no usable leaf at a level that holds leaves: reserved bits or the format's reserved encoding
    /// (RISC-V W without R), or, in a format that tells leaves by bits, none of them (RISC-V R, W, X).
    /// </summary>
    InvalidAttributes,
}

/// <summary>Why a block-mapping operation returned an error: the error, the reason, and the entry it was about.</summary>
/// <param name="Error">The -errno returned (0 when it did not refuse).</param>
/// <param name="Reason">Why.</param>
/// <param name="Level">The level of the entry the refusal is about.</param>
/// <param name="Address">The address the refusal is about (virtual, or physical for <see cref="RefusalReason.InvalidPhysicalRange"/>).</param>
/// <param name="Entry">The entry's raw value (0 where no entry is concerned).</param>
public readonly record struct Refusal(int Error, RefusalReason Reason, PageTableLevel Level, ulong Address, ulong Entry)
{
    /// <summary>True when the operation refused.</summary>
    public bool Refused => Error != 0;

    /// <summary>The refusal as a sentence.</summary>
    public string Message => Reason switch
    {
        RefusalReason.None => "no refusal",
        RefusalReason.InvalidRange => $"the range at 0x{Address:x} is empty, wraps, is not page-aligned or leaves the translated window",
        RefusalReason.InvalidPhysicalRange => $"the physical range at 0x{Address:x} is not page-aligned, wraps, or exceeds the physical-address bits",
        RefusalReason.BadEntry => $"the {Name} entry 0x{Entry:x} for 0x{Address:x} is neither none, a leaf nor a table",
        RefusalReason.Overlap => $"0x{Address:x} is already mapped by the {Name} leaf 0x{Entry:x}",
        RefusalReason.NoMemory => $"a table for 0x{Address:x} could not be allocated",
        RefusalReason.NotABlockLevel => $"{Name} cannot hold a block in this geometry",
        RefusalReason.LevelHoldsNoLeaves => $"the format has no leaves at {Name}",
        RefusalReason.LevelBelowHoldsNoLeaves => $"the {Name} block 0x{Entry:x} at 0x{Address:x} cannot be split: the level below holds no leaves",
        RefusalReason.NoEntry => $"the walk to 0x{Address:x} stops at the {Name} entry 0x{Entry:x}, which is not a table",
        RefusalReason.NotABlock => $"the {Name} entry 0x{Entry:x} for 0x{Address:x} is not a block",
        RefusalReason.NotATable => $"the {Name} entry 0x{Entry:x} for 0x{Address:x} is not a table",
        RefusalReason.NotAllLeaves => $"the {Name} entry 0x{Entry:x} for 0x{Address:x} is not a leaf",
        RefusalReason.Misaligned => $"the {Name} leaf 0x{Entry:x} for 0x{Address:x} maps an address not aligned to the block's size",
        RefusalReason.NotContiguous => $"the {Name} leaf 0x{Entry:x} for 0x{Address:x} breaks the contiguous run",
        RefusalReason.FieldsDiffer => $"the {Name} leaf 0x{Entry:x} for 0x{Address:x} differs from the first leaf in its fields",
        RefusalReason.InvalidAttributes => $"the attributes make the {Name} leaf 0x{Entry:x}, which the hardware would not use as a leaf (reserved bits or encoding, or none of the bits that make a leaf)",
        _ => Reason.ToString(),
    };

    private string Name => Level.ToString().ToLowerInvariant();

    /// <inheritdoc/>
    public override string ToString() => Refused ? $"{Error}: {Message}" : Message;
}
