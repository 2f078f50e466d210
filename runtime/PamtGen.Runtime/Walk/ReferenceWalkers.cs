using System.Runtime.CompilerServices;

namespace PamtGen;

/// <summary>
/// The kernel's page-range walkers for a geometry known only at run time, through delegates:
/// apply_to_page_range() and apply_to_existing_page_range() (mm/memory.c) and walk_page_range()
/// (mm/pagewalk.c). They are the reference the generated walkers must match callback for callback,
/// so they follow the kernel's code shape: the kernel's four upper-level functions are one function
/// here, with the level as a parameter, and a folded level behaves as the kernel's folded helpers do
/// (its offset is the parent's slot, its <c>*_addr_end</c> is <c>end</c>, it is never none).
/// </summary>
public static class ReferenceWalkers
{
    /// <summary>
    /// apply_to_page_range(): calls <paramref name="fn"/> for every PTE of
    /// <c>[addr, addr + size)</c> in ascending order, allocating missing tables (-ENOMEM when that fails).
    /// -EINVAL for an empty or wrapping range, a range that leaves the 2^VirtualAddressBits window it starts in,
    /// or a leaf at an upper level. The first non-zero return
    /// stops the walk and is returned; nothing done before it is undone.
    /// </summary>
    public static int ApplyToPageRange<TData>(Mm mm, ulong addr, ulong size, PteFn<TData> fn, TData data) =>
        ApplyToPageRangeCore(mm, addr, size, fn, data, create: true);

    /// <summary>
    /// apply_to_existing_page_range(): like <see cref="ApplyToPageRange{TData}"/>, but never allocates:
    /// ranges without a table are skipped and <paramref name="fn"/> is called only for PTEs that are
    /// not none (the behaviour since the 2025 fix "mm: fix apply_to_existing_page_range()").
    /// </summary>
    public static int ApplyToExistingPageRange<TData>(Mm mm, ulong addr, ulong size, PteFn<TData> fn, TData data) =>
        ApplyToPageRangeCore(mm, addr, size, fn, data, create: false);

    /// <summary>
    /// walk_page_range() on a kernel address range: <see cref="MmWalkOps{TData}.PteEntry"/> for every PTE of
    /// present tables, <see cref="MmWalkOps{TData}.PteHole"/> for every range without a table, the upper-level
    /// entry callbacks for entries that are not none. Leaves are passed to their entry callback and not
    /// descended. Never allocates. -EINVAL when <paramref name="start"/> &gt;= <paramref name="end"/>.
    /// </summary>
    public static int WalkPageRange<TData>(Mm mm, ulong start, ulong end, MmWalkOps<TData> ops, TData data)
    {
        ArgumentNullException.ThrowIfNull(mm);
        ArgumentNullException.ThrowIfNull(ops);
        if (start >= end || !mm.Geometry.InOneWindow(start, end))
        {
            return -Errno.EINVAL;
        }

        return WalkUpperRange(mm, PageTableLevel.Pgd, mm.Pgd, mm.Geometry.Index(PageTableLevel.Pgd, start), start, end, ops, data);
    }

    /// <summary>__apply_to_page_range().</summary>
    private static int ApplyToPageRangeCore<TData>(Mm mm, ulong addr, ulong size, PteFn<TData> fn, TData data, bool create)
    {
        ArgumentNullException.ThrowIfNull(mm);
        ArgumentNullException.ThrowIfNull(fn);
        ulong end = addr + size;
        if (addr >= end || !mm.Geometry.InOneWindow(addr, end))
        {
            return -Errno.EINVAL; // WARN_ON(addr >= end): empty or wrapping; or leaving the translated window
        }

        return ApplyToUpperRange(mm, PageTableLevel.Pgd, mm.Pgd, mm.Geometry.Index(PageTableLevel.Pgd, addr), addr, end, fn, data, create);
    }

    /// <summary>
    /// apply_to_pgd/p4d/pud/pmd_range(): <paramref name="table"/> and <paramref name="index"/> are the slot of
    /// <paramref name="level"/>'s first entry for <paramref name="addr"/> (pgd_offset(), or the child offset
    /// the caller computed).
    /// </summary>
    private static int ApplyToUpperRange<TData>(
        Mm mm, PageTableLevel level, Page table, int index, ulong addr, ulong end, PteFn<TData> fn, TData data, bool create)
    {
        var geometry = mm.Geometry;
        bool checks = geometry.ChecksEntry(level);
        int err = 0;
        ulong next;
        do
        {
            next = geometry.AddrEnd(level, addr, end);
            ulong entry = Volatile.Read(ref Mm.EntryAt(table, index));
            if (checks && entry == 0 && !create)
            {
                continue;
            }

            if (checks && entry != 0 && !geometry.IsTableEntry(level, entry))
            {
                return -Errno.EINVAL; // WARN_ON_ONCE(pXd_leaf(*pXd)), and an entry that is neither none nor a table (pXd_bad())
            }

            err = Descend(mm, level, table, index, addr, next, fn, data, create);
            if (err != 0)
            {
                break;
            }
        }
        while (Advance(ref index, ref addr, next, end));

        return err;
    }

    /// <summary>The child call with its pXd_alloc() (create) or pXd_offset() (existing) at the top, as the kernel's child functions begin.</summary>
    private static int Descend<TData>(
        Mm mm, PageTableLevel level, Page table, int index, ulong addr, ulong end, PteFn<TData> fn, TData data, bool create)
    {
        var child = level + 1;
        if (mm.Geometry.IsFolded(child))
        {
            return ApplyToUpperRange(mm, child, table, index, addr, end, fn, data, create);
        }

        if (create && !mm.PopulateIfNone(level, table, index))
        {
            return -Errno.ENOMEM;
        }

        var childTable = mm.TableOf(Volatile.Read(ref Mm.EntryAt(table, index)));
        int childIndex = mm.Geometry.Index(child, addr);
        return child == PageTableLevel.Pte
            ? ApplyToPteRange(mm, childTable, childIndex, addr, end, fn, data, create)
            : ApplyToUpperRange(mm, child, childTable, childIndex, addr, end, fn, data, create);
    }

    /// <summary>apply_to_pte_range().</summary>
    private static int ApplyToPteRange<TData>(
        Mm mm, Page table, int index, ulong addr, ulong end, PteFn<TData> fn, TData data, bool create)
    {
        ulong pageSize = mm.Geometry.PageSize;
        int err = 0;
        do
        {
            ref Pte pte = ref Mm.PteAt(table, index);
            if (create || !Pgtable.PteNone(Pgtable.PtepGet(ref pte)))
            {
                err = fn(ref pte, addr, data);
                if (err != 0)
                {
                    break;
                }
            }
        }
        while (Advance(ref index, ref addr, addr + pageSize, end));

        return err;
    }

    /// <summary>walk_pgd/p4d/pud/pmd_range().</summary>
    private static int WalkUpperRange<TData>(
        Mm mm, PageTableLevel level, Page table, int index, ulong addr, ulong end, MmWalkOps<TData> ops, TData data)
    {
        var geometry = mm.Geometry;
        bool checks = geometry.ChecksEntry(level);
        int err = 0;
        ulong next;
        do
        {
            next = geometry.AddrEnd(level, addr, end);
            ref ulong slot = ref Mm.EntryAt(table, index);
            ulong entry = Volatile.Read(ref slot);
            if (checks && entry == 0)
            {
                if (ops.PteHole is not null)
                {
                    err = ops.PteHole(addr, next, (int)level, data);
                }

                if (err != 0)
                {
                    break;
                }

                continue;
            }

            if (level == PageTableLevel.Pud && ops.PudEntry is not null)
            {
                err = ops.PudEntry(ref Unsafe.As<ulong, Pud>(ref slot), addr, next, data);
            }
            else if (level == PageTableLevel.Pmd && ops.PmdEntry is not null)
            {
                err = ops.PmdEntry(ref Unsafe.As<ulong, Pmd>(ref slot), addr, next, data);
            }

            if (err != 0)
            {
                break;
            }

            // Descend only when a callback below wants it, and never into a leaf or an entry the callback left
            // not present: walk_pud_range()/walk_pmd_range() re-read the entry after pud_entry/pmd_entry.
            bool wanted = level switch
            {
                PageTableLevel.Pmd => ops.PteEntry is not null,
                PageTableLevel.Pud => ops.PmdEntry is not null || ops.PteEntry is not null,
                _ => ops.PudEntry is not null || ops.PmdEntry is not null || ops.PteEntry is not null,
            };
            if (!wanted || (checks && !geometry.IsTableEntry(level, Volatile.Read(ref slot))))
            {
                continue;
            }

            err = WalkDescend(mm, level, table, index, addr, next, ops, data);
            if (err != 0)
            {
                break;
            }
        }
        while (Advance(ref index, ref addr, next, end));

        return err;
    }

    private static int WalkDescend<TData>(
        Mm mm, PageTableLevel level, Page table, int index, ulong addr, ulong end, MmWalkOps<TData> ops, TData data)
    {
        var child = level + 1;
        if (mm.Geometry.IsFolded(child))
        {
            return WalkUpperRange(mm, child, table, index, addr, end, ops, data);
        }

        var childTable = mm.TableOf(Volatile.Read(ref Mm.EntryAt(table, index)));
        int childIndex = mm.Geometry.Index(child, addr);
        return child == PageTableLevel.Pte
            ? WalkPteRange(mm, childTable, childIndex, addr, end, ops, data)
            : WalkUpperRange(mm, child, childTable, childIndex, addr, end, ops, data);
    }

    /// <summary>walk_pte_range(): pte_entry for every PTE of the table in the range.</summary>
    private static int WalkPteRange<TData>(Mm mm, Page table, int index, ulong addr, ulong end, MmWalkOps<TData> ops, TData data)
    {
        ulong pageSize = mm.Geometry.PageSize;
        int err = 0;
        do
        {
            err = ops.PteEntry!(ref Mm.PteAt(table, index), addr, addr + pageSize, data);
            if (err != 0)
            {
                break;
            }
        }
        while (Advance(ref index, ref addr, addr + pageSize, end));

        return err;
    }

    /// <summary>The kernel's loop step <c>pXd++, addr = next, addr != end</c>.</summary>
    private static bool Advance(ref int index, ref ulong addr, ulong next, ulong end)
    {
        index++;
        addr = next;
        return addr != end;
    }
}
