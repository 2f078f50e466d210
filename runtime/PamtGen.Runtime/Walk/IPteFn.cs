namespace PamtGen;

/// <summary>
/// pte_fn_t as a struct: the callback of the generated ApplyToPageRange/ApplyToExistingPageRange. The
/// walker is generic over the struct, so the call is direct and inlines; a non-zero return stops the walk
/// and is returned. A <c>[PteCallback]</c> method gets a generated struct implementing this.
/// </summary>
public interface IPteFn
{
    /// <summary>Called with the PTE's pointer and its virtual address, as pte_fn_t is.</summary>
    int Invoke(PtePointer pte, ulong addr);
}

/// <summary>Which callbacks of an <see cref="IPageWalkOps"/> exist (the non-null members of struct mm_walk_ops).</summary>
[Flags]
public enum PageWalkCallbacks
{
    /// <summary>None.</summary>
    None = 0,

    /// <summary>pte_entry.</summary>
    PteEntry = 1,

    /// <summary>pte_hole.</summary>
    PteHole = 2,

    /// <summary>pmd_entry.</summary>
    PmdEntry = 4,

    /// <summary>pud_entry.</summary>
    PudEntry = 8,
}

/// <summary>
/// struct mm_walk_ops as a struct, for the generated WalkPageRange. Callbacks the walk does not use are
/// left out of <see cref="Callbacks"/> (their methods are then never called); as in the kernel, which ones
/// exist decides how deep the walk descends. The set is a static property, so the JIT folds every test of it.
/// </summary>
public interface IPageWalkOps
{
    /// <summary>The callbacks this ops type has; pte_entry and pte_hole unless it says otherwise.</summary>
    static virtual PageWalkCallbacks Callbacks => PageWalkCallbacks.PteEntry | PageWalkCallbacks.PteHole;

    /// <summary>mm_walk_ops.pte_entry: every PTE of every present PTE table, none or not.</summary>
    int PteEntry(PtePointer pte, ulong addr, ulong next);

    /// <summary>mm_walk_ops.pte_hole: a range with no table at <paramref name="depth"/> (0 = PGD ... 3 = PMD).</summary>
    int PteHole(ulong addr, ulong next, int depth);

    /// <summary>mm_walk_ops.pmd_entry: each pmd entry that is not none (called only with <see cref="PageWalkCallbacks.PmdEntry"/>).</summary>
    int PmdEntry(PmdPointer pmd, ulong addr, ulong next);

    /// <summary>mm_walk_ops.pud_entry: each pud entry that is not none (called only with <see cref="PageWalkCallbacks.PudEntry"/>).</summary>
    int PudEntry(PudPointer pud, ulong addr, ulong next);
}
