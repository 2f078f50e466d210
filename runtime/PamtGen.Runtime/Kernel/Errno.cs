namespace PamtGen;

/// <summary>The kernel's error numbers (include/uapi/asm-generic/errno-base.h); functions return them negated.</summary>
public static class Errno
{
    /// <summary>EIO: I/O error, returned by <c>tdx_pamt_get</c> when the TDX module fails.</summary>
    public const int EIO = 5;

    /// <summary>ENOMEM: out of memory, returned when a page or page-table allocation fails.</summary>
    public const int ENOMEM = 12;

    /// <summary>EBUSY: device or resource busy, returned by privcmd's is_mapped_fn() for a PTE already populated.</summary>
    public const int EBUSY = 16;

    /// <summary>EEXIST: the thing exists, returned when a mapping would go over one that is there.</summary>
    public const int EEXIST = 17;

    /// <summary>EINVAL: invalid argument, returned for an empty or wrapping range or a leaf at an upper level.</summary>
    public const int EINVAL = 22;
}
