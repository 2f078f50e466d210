using System.Runtime.CompilerServices;
using PamtGen.CompilerServices;

namespace PamtGen;

/// <summary>
/// The kernel's page-range walkers for a geometry known only at run time: apply_to_page_range() and
/// apply_to_existing_page_range() (mm/memory.c) and walk_page_range_novma() (mm/pagewalk.c), as visitors of the one
/// walk (<see cref="PageTableWalk"/>), with delegates. They are the reference the generated walkers must match callback
/// for callback; each visitor is the kernel's per-level function with the level as a parameter, and a folded level
/// behaves as the kernel's folded helpers make it (never none, never bad, its <c>*_addr_end</c> is <c>end</c>).
/// What they do with a leaf or a bad entry where a table belongs is the kernel's (docs/KERNEL.md section 3):
/// <c>pXd_leaf()</c> and <c>pXd_bad()</c> are the format's architecture's own.
/// </summary>
public static class ReferenceWalkers
{
    /// <summary>
    /// apply_to_page_range(): calls <paramref name="fn"/> for every PTE of <c>[addr, addr + size)</c> in ascending order,
    /// allocating missing tables (-ENOMEM when that fails). -EINVAL for an empty or wrapping range, a range that leaves the
    /// 2^VirtualAddressBits window it starts in, or a leaf at an upper level (WARN); a bad upper entry is warned about,
    /// cleared and replaced by a new table. The first non-zero return stops the walk and is returned; nothing done before
    /// it is undone.
    /// </summary>
    public static int ApplyToPageRange<TData>(Mm mm, ulong addr, ulong size, PteFn<TData> fn, TData data)
    {
        ArgumentNullException.ThrowIfNull(fn);
        var callback = new DelegatePteFn(new PteCall<TData>(fn, data));
        return ApplyToPageRange(mm, addr, size, ref callback, create: true);
    }

    /// <summary>
    /// apply_to_existing_page_range(): like <see cref="ApplyToPageRange{TData}(Mm, ulong, ulong, PteFn{TData}, TData)"/>, but never allocates: ranges without a
    /// table are skipped, a bad upper entry is warned about and skipped, and <paramref name="fn"/> is called only for PTEs
    /// that are not none (the behaviour since the 2025 fix "mm: fix apply_to_existing_page_range()").
    /// </summary>
    public static int ApplyToExistingPageRange<TData>(Mm mm, ulong addr, ulong size, PteFn<TData> fn, TData data)
    {
        ArgumentNullException.ThrowIfNull(fn);
        var callback = new DelegatePteFn(new PteCall<TData>(fn, data));
        return ApplyToPageRange(mm, addr, size, ref callback, create: false);
    }

    /// <summary>
    /// walk_page_range_novma() on a kernel address range: <see cref="MmWalkOps{TData}.PteEntry"/> for every PTE of present
    /// tables, <see cref="MmWalkOps{TData}.PteHole"/> for every range without a table, the upper-level entry callbacks for
    /// entries that are not none. Leaves are passed to their entry callback and not descended; a bad entry at the pgd or
    /// p4d level is cleared (pXd_clear_bad()) and reported as a hole. Never allocates. -EINVAL when <paramref name="start"/>
    /// &gt;= <paramref name="end"/>.
    /// </summary>
    public static int WalkPageRange<TData>(Mm mm, ulong start, ulong end, MmWalkOps<TData> ops, TData data)
    {
        ArgumentNullException.ThrowIfNull(mm);
        ArgumentNullException.ThrowIfNull(ops);
        var adapter = new DelegateWalkOps(new WalkCalls<TData>(ops, data));
        var memory = ModelMemory.Of(mm);
        return WalkPageRange(mm, start, end, ref adapter, ref memory);
    }

    /// <summary>__apply_to_page_range() with a struct callback, in the model's own memory.</summary>
    internal static int ApplyToPageRange<TFn>(Mm mm, ulong addr, ulong size, ref TFn fn, bool create)
        where TFn : struct, IPteFn
    {
        ArgumentNullException.ThrowIfNull(mm);
        var memory = ModelMemory.Of(mm);
        return ApplyToPageRange(mm, addr, size, ref fn, ref memory, create, journal: null);
    }

    /// <summary>__apply_to_page_range(): the range checked, then the one walk with the kernel's per-level rules.</summary>
    internal static int ApplyToPageRange<TFn, TMemory>(Mm mm, ulong addr, ulong size, ref TFn fn, ref TMemory memory, bool create, Journal? journal)
        where TFn : struct, IPteFn
        where TMemory : struct, IPageTableMemory
    {
        ulong end = addr + size;
        if (addr >= end || !mm.Geometry.InOneWindow(addr, end))
        {
            return -Errno.EINVAL; // WARN_ON(addr >= end): empty or wrapping; or leaving the translated window
        }

        var visitor = new ApplyToPageRangeVisitor<TFn>(mm, fn, create, journal);
        int err = PageTableWalk.Walk(mm.Geometry, mm.Pgd, addr, end, ref visitor, ref memory);
        fn = visitor.Fn;
        return err;
    }

    /// <summary>walk_page_range_novma() over any ops and memory.</summary>
    internal static int WalkPageRange<TOps, TMemory>(Mm mm, ulong start, ulong end, ref TOps ops, ref TMemory memory)
        where TOps : struct, IWalkOps
        where TMemory : struct, IPageTableMemory
    {
        if (start >= end || !mm.Geometry.InOneWindow(start, end))
        {
            return -Errno.EINVAL;
        }

        var visitor = new WalkPageRangeVisitor<TOps>(mm, ops);
        int err = PageTableWalk.Walk(mm.Geometry, mm.Pgd, start, end, ref visitor, ref memory);
        ops = visitor.Ops;
        return err;
    }

    /// <summary>
    /// free_pgd_range() for a kernel range (beyond the kernel, which frees kernel tables rarely): after the range has been
    /// depopulated, frees bottom-up every page-table page in it whose entries are all none, clearing the parent entry; a
    /// table that also maps addresses outside the range is kept, and so is the root. The number of table pages freed, or
    /// -EINVAL for an invalid range.
    /// </summary>
    internal static int FreeEmptyTables<TMemory>(Mm mm, ulong addr, ulong size, ref TMemory memory)
        where TMemory : struct, IPageTableMemory
    {
        ulong end = addr + size;
        if (addr >= end || !mm.Geometry.InOneWindow(addr, end))
        {
            return -Errno.EINVAL;
        }

        var visitor = new FreeEmptyTablesVisitor(mm);
        PageTableWalk.Walk(mm.Geometry, mm.Pgd, addr, end, ref visitor, ref memory);
        return visitor.Freed;
    }

    /// <summary>
    /// apply_to_pXd_range() and apply_to_pte_range() as one visitor: at an upper level none is skipped (existing) or gets a
    /// table (creating), pXd_leaf() is WARN and -EINVAL, pXd_bad() is WARN and skipped (existing) or cleared and given a
    /// table (creating); at the pte level the callback runs for every PTE (creating) or those not none.
    /// </summary>
    private struct ApplyToPageRangeVisitor<TFn>(Mm mm, TFn fn, bool create, Journal? journal) : ITableVisitor
        where TFn : struct, IPteFn
    {
        public TFn Fn = fn;

        public static TableVisits Visits => TableVisits.Leaf;

        public static WalkView View => WalkView.Kernel;

        [MethodImpl(MethodImplOptions.AggressiveInlining)] // the pte part is the walk's inner loop
        public int Visit<TMemory>(ref WalkContext context, TableVisits visit, ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            if (context.Level != PageTableLevel.Pte)
            {
                return VisitUpper(ref context, ref memory);
            }

            if (!create && context.Old == 0)
            {
                return 0;
            }

            journal?.Visit(context.Address);
            return Fn.Invoke(context.PtePointer(ref memory), context.Address);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private readonly int VisitUpper<TMemory>(ref WalkContext context, ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            if (context.Old != 0)
            {
                if (context.Geometry.PxdLeaf(context.Level, context.Old))
                {
                    return GeneratedWalkers.LeafWhereTableExpected(mm, context.Level, context.Address, context.Old);
                }

                // Neither none, a leaf, nor a table the kernel follows: pXd_bad().
                if (!GeneratedWalkers.BadEntry(mm, context.Level, context.Table, context.Index, context.Address, context.Old, create, ref memory, journal))
                {
                    return 0;
                }

                context.Old = 0;
            }

            if (!create)
            {
                return 0;
            }

            if (!mm.PopulateIfNone(context.Level, context.Table, context.Index, context.Address, ref memory, journal, out ulong entry))
            {
                return -Errno.ENOMEM; // pXd_alloc_track() failed
            }

            context.Old = entry;
            return 0;
        }
    }

    /// <summary>
    /// walk_pgd_range() ... walk_pte_range() as one visitor. Each real table's entries are checked by the level that
    /// checks them (the top table's by the lowest level folded into it), after the folded levels above it: a folded pud
    /// is never none, so pud_entry runs for every top slot on 2 levels, and each folded level descends only when a
    /// callback below it exists, as the kernel's folded helpers make it.
    /// </summary>
    private struct WalkPageRangeVisitor<TOps>(Mm mm, TOps ops) : ITableVisitor
        where TOps : struct, IWalkOps
    {
        public TOps Ops = ops;

        public static TableVisits Visits => TableVisits.Leaf | TableVisits.TablePre;

        public static WalkView View => WalkView.PageWalk;

        public int Visit<TMemory>(ref WalkContext context, TableVisits visit, ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            var callbacks = Ops.Callbacks;
            var level = context.Level;
            if (level == PageTableLevel.Pte)
            {
                return (callbacks & PageWalkCallbacks.PteEntry) != 0 ? Ops.PteEntry(context.PtePointer(ref memory), context.Address, context.End) : 0;
            }

            var g = context.Geometry;
            for (var folded = g.TableLevel(level); folded < level; folded++)
            {
                if (folded == PageTableLevel.Pud && (callbacks & PageWalkCallbacks.PudEntry) != 0)
                {
                    int err = Ops.PudEntry(new PudPointer(context.PointerTable(ref memory), context.Index), context.Address, context.End);
                    if (err != 0)
                    {
                        return err;
                    }
                }

                if ((callbacks & WantedBelow(folded)) == 0)
                {
                    context.SkipChildren = true;
                    return 0;
                }
            }

            if (context.Old == 0 || (level < PageTableLevel.Pud && g.PxdBad(level, context.Old)))
            {
                if (context.Old != 0)
                {
                    GeneratedWalkers.ClearBad(mm, level, context.Table, context.Index, context.Address, context.Old, ref memory); // pXd_none_or_clear_bad()
                    context.Old = 0;
                }

                return (callbacks & PageWalkCallbacks.PteHole) != 0 ? Ops.PteHole(context.Address, context.End, (int)level) : 0;
            }

            if (level is PageTableLevel.Pud or PageTableLevel.Pmd && (callbacks & (level == PageTableLevel.Pud ? PageWalkCallbacks.PudEntry : PageWalkCallbacks.PmdEntry)) != 0)
            {
                object table = context.PointerTable(ref memory);
                int err = level == PageTableLevel.Pud
                    ? Ops.PudEntry(new PudPointer(table, context.Index), context.Address, context.End)
                    : Ops.PmdEntry(new PmdPointer(table, context.Index), context.Address, context.End);
                if (err != 0)
                {
                    return err;
                }

                context.Old = memory.Read(context.Table, context.Index, MemoryOrder.Once); // walk_pud_range()/walk_pmd_range() look again
            }

            context.SkipChildren = (callbacks & WantedBelow(level)) == 0;
            return 0;
        }

        /// <summary>The callbacks below <paramref name="level"/> that make the kernel descend past it.</summary>
        private static PageWalkCallbacks WantedBelow(PageTableLevel level) => level switch
        {
            PageTableLevel.Pmd => PageWalkCallbacks.PteEntry,
            PageTableLevel.Pud => PageWalkCallbacks.PmdEntry | PageWalkCallbacks.PteEntry,
            _ => PageWalkCallbacks.PudEntry | PageWalkCallbacks.PmdEntry | PageWalkCallbacks.PteEntry,
        };
    }

    /// <summary>free_pgd_range(): after a table's entries were walked, the table goes if it is empty and the range covers all it maps.</summary>
    private struct FreeEmptyTablesVisitor(Mm mm) : ITableVisitor
    {
        public int Freed;

        public static TableVisits Visits => TableVisits.TablePost;

        public static WalkView View => WalkView.Kernel;

        public int Visit<TMemory>(ref WalkContext context, TableVisits visit, ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            if (context.CoversEntry && mm.FreeTableIfEmpty(context.Level, context.Table, context.Index, context.Address, ref memory))
            {
                Freed++;
            }

            return 0;
        }
    }

    /// <summary>
    /// pte_fn_t with its data, as a struct callback. The data's type is behind a virtual call so that the walk itself is
    /// not generic over it: a walk over a reference type's canonical, shared code would look up every static visitor
    /// member and generic call at run time (several times the cost of the one virtual call).
    /// </summary>
    private readonly struct DelegatePteFn(PteCall call) : IPteFn
    {
        public int Invoke(PtePointer pte, ulong addr) => call.Invoke(pte, addr);
    }

    private abstract class PteCall
    {
        public abstract int Invoke(PtePointer pte, ulong addr);
    }

    private sealed class PteCall<TData>(PteFn<TData> fn, TData data) : PteCall
    {
        public override int Invoke(PtePointer pte, ulong addr) => fn(pte, addr, data);
    }

    /// <summary>struct mm_walk_ops with its data (behind a virtual call, as <see cref="DelegatePteFn"/>): a callback is there when its delegate is.</summary>
    private readonly struct DelegateWalkOps(WalkCalls calls) : IWalkOps
    {
        public PageWalkCallbacks Callbacks => calls.Callbacks;

        public int PteEntry(PtePointer pte, ulong addr, ulong next) => calls.PteEntry(pte, addr, next);

        public int PteHole(ulong addr, ulong next, int depth) => calls.PteHole(addr, next, depth);

        public int PmdEntry(PmdPointer pmd, ulong addr, ulong next) => calls.PmdEntry(pmd, addr, next);

        public int PudEntry(PudPointer pud, ulong addr, ulong next) => calls.PudEntry(pud, addr, next);
    }

    private abstract class WalkCalls
    {
        public abstract PageWalkCallbacks Callbacks { get; }

        public abstract int PteEntry(PtePointer pte, ulong addr, ulong next);

        public abstract int PteHole(ulong addr, ulong next, int depth);

        public abstract int PmdEntry(PmdPointer pmd, ulong addr, ulong next);

        public abstract int PudEntry(PudPointer pud, ulong addr, ulong next);
    }

    private sealed class WalkCalls<TData>(MmWalkOps<TData> ops, TData data) : WalkCalls
    {
        public override PageWalkCallbacks Callbacks { get; } =
            (ops.PteEntry is null ? 0 : PageWalkCallbacks.PteEntry) | (ops.PteHole is null ? 0 : PageWalkCallbacks.PteHole)
            | (ops.PmdEntry is null ? 0 : PageWalkCallbacks.PmdEntry) | (ops.PudEntry is null ? 0 : PageWalkCallbacks.PudEntry);

        public override int PteEntry(PtePointer pte, ulong addr, ulong next) => ops.PteEntry!(pte, addr, next, data);

        public override int PteHole(ulong addr, ulong next, int depth) => ops.PteHole!(addr, next, depth, data);

        public override int PmdEntry(PmdPointer pmd, ulong addr, ulong next) => ops.PmdEntry!(pmd, addr, next, data);

        public override int PudEntry(PudPointer pud, ulong addr, ulong next) => ops.PudEntry!(pud, addr, next, data);
    }
}

/// <summary>The callbacks of a page walk, whether a static set (<see cref="IPageWalkOps"/>) or delegates (<see cref="MmWalkOps{TData}"/>).</summary>
internal interface IWalkOps
{
    PageWalkCallbacks Callbacks { get; }

    int PteEntry(PtePointer pte, ulong addr, ulong next);

    int PteHole(ulong addr, ulong next, int depth);

    int PmdEntry(PmdPointer pmd, ulong addr, ulong next);

    int PudEntry(PudPointer pud, ulong addr, ulong next);
}

/// <summary>An <see cref="IPageWalkOps"/> struct as the walk's ops: its static callback set.</summary>
internal struct StructWalkOps<TOps>(TOps ops) : IWalkOps
    where TOps : struct, IPageWalkOps
{
    public TOps Ops = ops;

    public readonly PageWalkCallbacks Callbacks => TOps.Callbacks;

    public int PteEntry(PtePointer pte, ulong addr, ulong next) => Ops.PteEntry(pte, addr, next);

    public int PteHole(ulong addr, ulong next, int depth) => Ops.PteHole(addr, next, depth);

    public int PmdEntry(PmdPointer pmd, ulong addr, ulong next) => Ops.PmdEntry(pmd, addr, next);

    public int PudEntry(PudPointer pud, ulong addr, ulong next) => Ops.PudEntry(pud, addr, next);
}
