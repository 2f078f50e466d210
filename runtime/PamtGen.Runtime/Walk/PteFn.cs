namespace PamtGen;

/// <summary>pte_fn_t: the callback of apply_to_page_range(); a non-zero return stops the walk and is returned.</summary>
public delegate int PteFn<in TData>(PtePointer pte, ulong addr, TData data);

/// <summary>
/// struct mm_walk_ops: the callbacks of walk_page_range(). Each may be null (absent), as in the kernel;
/// a non-zero return from any of them stops the walk and is returned.
/// </summary>
public sealed class MmWalkOps<TData>
{
    /// <summary>pud_entry: called for each pud entry that is not none (for folded levels, every slot of the table they fold into).</summary>
    public PudEntryFn<TData>? PudEntry { get; init; }

    /// <summary>pmd_entry: called for each pmd entry that is not none.</summary>
    public PmdEntryFn<TData>? PmdEntry { get; init; }

    /// <summary>pte_entry: called for every PTE of every present PTE table, none or not.</summary>
    public PteEntryFn<TData>? PteEntry { get; init; }

    /// <summary>pte_hole: called for each range with no table at <c>depth</c> (0 = PGD ... 3 = PMD).</summary>
    public PteHoleFn<TData>? PteHole { get; init; }
}

/// <summary>mm_walk_ops.pud_entry.</summary>
public delegate int PudEntryFn<in TData>(PudPointer pud, ulong addr, ulong next, TData data);

/// <summary>mm_walk_ops.pmd_entry.</summary>
public delegate int PmdEntryFn<in TData>(PmdPointer pmd, ulong addr, ulong next, TData data);

/// <summary>mm_walk_ops.pte_entry.</summary>
public delegate int PteEntryFn<in TData>(PtePointer pte, ulong addr, ulong next, TData data);

/// <summary>mm_walk_ops.pte_hole.</summary>
public delegate int PteHoleFn<in TData>(ulong addr, ulong next, int depth, TData data);
