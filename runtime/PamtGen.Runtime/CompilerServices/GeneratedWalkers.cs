using System.ComponentModel;

namespace PamtGen.CompilerServices;

/// <summary>
/// The runtime API that PamtGen's generated walkers call and users do not: installing and freeing tables, following
/// an upper-level entry to its table. Fenced off here, out of IntelliSense, as System.Text.Json fences what its
/// generated code needs in <c>JsonMetadataServices</c>; what users call is on <see cref="Mm"/>, <see cref="Pgtable"/>
/// and the generated geometry classes. Not a stable API: it changes with the generator that calls it.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class GeneratedWalkers
{
    /// <summary>pXd_page_vaddr(): the table an upper-level entry of <paramref name="mm"/> points to.</summary>
    public static Page TableOf(Mm mm, ulong entry) => mm.TableOf(entry);

    /// <summary>
    /// __pte_alloc_kernel() and __pmd_alloc()/__pud_alloc()/__p4d_alloc(): a zeroed table installed at the entry
    /// <paramref name="index"/> of <paramref name="table"/> (a <paramref name="level"/> entry) if it is none; false when the allocation fails (-ENOMEM).
    /// </summary>
    public static bool PopulateIfNone(Mm mm, PageTableLevel level, Page table, int index) => mm.PopulateIfNone(level, table, index);

    /// <summary>free_pte_range()/pmd_free() and their cousins: frees the table below the entry if it holds no entry.</summary>
    public static bool FreeTableIfEmpty(Mm mm, PageTableLevel level, Page parent, int index) => mm.FreeTableIfEmpty(level, parent, index);
}
