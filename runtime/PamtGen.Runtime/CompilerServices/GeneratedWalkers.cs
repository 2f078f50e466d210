using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace PamtGen.CompilerServices;

/// <summary>
/// The runtime API that PamtGen's generated walkers call and users do not: installing and freeing tables, following
/// an upper-level entry to its table, the kernel's warnings. Fenced off here, out of IntelliSense, as System.Text.Json
/// fences what its generated code needs in <c>JsonMetadataServices</c>; what users call is on <see cref="Mm"/>,
/// <see cref="Pgtable"/> and the generated geometry classes. Not a stable API: it changes with the generator that calls
/// it. Every entry access here goes through the walk's memory.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class GeneratedWalkers
{
    /// <summary>pXd_page_vaddr(): the table an upper-level entry of <paramref name="mm"/> points to; an address holding none is a BUG.</summary>
    public static Page TableOf<TMemory>(Mm mm, PageTableLevel level, ulong va, ulong entry, ref TMemory memory)
        where TMemory : struct, IPageTableMemory => mm.TableOf(level, va, entry, ref memory);

    /// <summary>
    /// __pte_alloc_kernel() and __pmd_alloc()/__pud_alloc()/__p4d_alloc(): a zeroed table installed at the entry
    /// <paramref name="index"/> of <paramref name="table"/> (a <paramref name="level"/> entry for <paramref name="va"/>) if
    /// it is none, recorded in <paramref name="journal"/> when there is one; <paramref name="entry"/> is the entry after.
    /// False when the allocation fails (-ENOMEM).
    /// </summary>
    public static bool PopulateIfNone<TMemory>(Mm mm, PageTableLevel level, Page table, int index, ulong va, ref TMemory memory, Journal? journal, out ulong entry)
        where TMemory : struct, IPageTableMemory => mm.PopulateIfNone(level, table, index, va, ref memory, journal, out entry);

    /// <summary>free_pte_range()/pmd_free() and their cousins: frees the table below the entry if it holds no entry.</summary>
    public static bool FreeTableIfEmpty<TMemory>(Mm mm, PageTableLevel level, Page parent, int index, ulong va, ref TMemory memory)
        where TMemory : struct, IPageTableMemory => mm.FreeTableIfEmpty(level, parent, index, va, ref memory);

    /// <summary>
    /// <paramref name="table"/> as the entry pointers of a walk on <typeparamref name="TMemory"/> name it: the page itself in
    /// the model's own memory (its accesses need no interface call), the page with the memory otherwise (made once per
    /// table walked).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static object PointerTable<TMemory>(Page table, ref TMemory memory)
        where TMemory : struct, IPageTableMemory => typeof(TMemory) == typeof(ModelMemory) ? table : new TableInMemory(table, memory);

    /// <summary>The pointer a walker hands to a PTE callback: entry <paramref name="index"/> of <paramref name="table"/> (from <see cref="PointerTable"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static PtePointer PtePointer(object table, int index) => new(table, index);

    /// <summary>The pointer walk_page_range() hands to pmd_entry.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static PmdPointer PmdPointer(object table, int index) => new(table, index);

    /// <summary>The pointer walk_page_range() hands to pud_entry.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static PudPointer PudPointer(object table, int index) => new(table, index);

    /// <summary>
    /// WARN_ON_ONCE(pXd_leaf(*pXd)) in apply_to_pXd_range(): the walk meets a leaf where it needs a table, warns, and
    /// returns -EINVAL (what this returns).
    /// </summary>
    public static int LeafWhereTableExpected(Mm mm, PageTableLevel level, ulong va, ulong entry)
    {
        string name = level.ToString().ToLowerInvariant();
        mm.Warn($"WARNING: WARN_ON_ONCE({name}_leaf(*{name})) in apply_to_{name}_range(): 0x{entry:x} for 0x{va:x}; -EINVAL");
        return -Errno.EINVAL;
    }

    /// <summary>
    /// WARN_ON_ONCE(pXd_bad(*pXd)) in apply_to_pXd_range(): warns; when the walk is creating, pXd_clear_bad() reports and
    /// clears the entry (the caller then allocates a table there). True when the entry was cleared.
    /// </summary>
    public static bool BadEntry<TMemory>(Mm mm, PageTableLevel level, Page table, int index, ulong va, ulong entry, bool create, ref TMemory memory, Journal? journal)
        where TMemory : struct, IPageTableMemory
    {
        string name = level.ToString().ToLowerInvariant();
        mm.Warn($"WARNING: WARN_ON_ONCE({name}_bad(*{name})) in apply_to_{name}_range(): 0x{entry:x} for 0x{va:x}{(create ? "" : "; skipped")}");
        if (!create)
        {
            return false;
        }

        ClearBad(mm, level, table, index, va, entry, ref memory, journal);
        return true;
    }

    /// <summary>
    /// apply_to_page_range(), all or nothing, for the runtime's walk and every generated one: the walk runs with a journal
    /// and a callback that records each PTE it visits; on an error, <paramref name="undo"/> runs for every visited PTE, last
    /// first, and the journal puts back what the walk wrote and frees the tables it installed. An exception is not a walk
    /// error: nothing is undone. The range is the caller's to check.
    /// </summary>
    public static int ApplyTransactional<TWalk, TFn, TUndo, TMemory>(Mm mm, ulong addr, ulong end, ref TFn fn, ref TUndo undo, ref TMemory memory)
        where TWalk : struct, IApplyWalk
        where TFn : struct, IPteFn
        where TUndo : struct, IPteFn
        where TMemory : struct, IPageTableMemory
    {
        var journal = new Journal(mm);
        var journaled = new JournaledPteFn<TFn>(fn, journal);
        int err;
        try
        {
            err = TWalk.Apply(mm, addr, end, ref journaled, ref memory, create: true, journal);
        }
        catch
        {
            journal.Abandon();
            throw;
        }

        fn = journaled.Inner;
        if (err == 0)
        {
            journal.Commit(ref memory);
        }
        else
        {
            journal.Rollback(ref memory, ref undo);
        }

        return err;
    }

    /// <summary>pXd_clear_bad(): pXd_ERROR() ("bad pmd ...") and pXd_clear().</summary>
    public static void ClearBad<TMemory>(Mm mm, PageTableLevel level, Page table, int index, ulong va, ulong entry, ref TMemory memory, Journal? journal = null)
        where TMemory : struct, IPageTableMemory
    {
        mm.Warn($"bad {level.ToString().ToLowerInvariant()} 0x{entry:x} for 0x{va:x}: cleared");
        journal?.Wrote(table, index, level, va, entry); // an all-or-nothing apply puts the bad entry back
        memory.Write(table, index, 0, MemoryOrder.Once);
        mm.Tlb?.EntryChanged(level, va, entry, 0); // pXd_clear() flushes nothing; the TLB model notes what may still be cached
    }
}

/// <summary>An apply_to_page_range() walk (the runtime's, or a geometry's generated one), for <see cref="GeneratedWalkers.ApplyTransactional"/>.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IApplyWalk
{
    /// <summary>Walks [<paramref name="addr"/>, <paramref name="end"/>) with <paramref name="fn"/>, allocating when <paramref name="create"/>, recording table installs in <paramref name="journal"/>.</summary>
    static abstract int Apply<TFn, TMemory>(Mm mm, ulong addr, ulong end, ref TFn fn, ref TMemory memory, bool create, Journal? journal)
        where TFn : struct, IPteFn
        where TMemory : struct, IPageTableMemory;
}
