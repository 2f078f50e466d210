namespace PamtGen;

/// <summary>Allocation flags (include/linux/gfp_types.h); only what the model distinguishes.</summary>
[Flags]
public enum Gfp
{
    /// <summary>GFP_KERNEL: an ordinary allocation that may sleep; the content is not initialised.</summary>
    Kernel = 0,

    /// <summary>__GFP_ZERO: return the page zero-filled.</summary>
    Zero = 1,
}

/// <summary>What a page is used for; the allocator accounts the two apart.</summary>
public enum PagePurpose
{
    /// <summary>A data page from <c>alloc_page</c> (refcount pages, vmalloc pages, PAMT backing pages).</summary>
    Data,

    /// <summary>A page-table page (<c>pte_alloc_one_kernel</c>, <c>pmd_alloc_one</c>, ...).</summary>
    PageTable,
}
