namespace PamtGen;

/// <summary>
/// Declares a page-table geometry, as kernel headers do, on a <c>static partial class</c> that the
/// PamtGen generator fills in with the constants (<c>PageShift</c>, <c>PmdSize</c>, <c>PtrsPerPgd</c>, ...),
/// branch-free helpers (<c>PteIndex</c>, <c>PmdAddrEnd</c>, <c>PfnUp</c>, ...), the runtime <c>Geometry</c>, the
/// <c>AddressSpace</c> typed by it, and the walkers. The declaration is the geometry's only description.
/// <see cref="PageShift"/>, <see cref="Levels"/> and <see cref="VirtualAddressBits"/> are required;
/// <see cref="PtrsPerPte"/> and <see cref="PmdShift"/> follow from <see cref="PageShift"/> and
/// <see cref="EntrySize"/> and may be left out; when given, they are checked (PG1004, PG1005). The entries' format is
/// declared beside it (<see cref="EntryFormatAttribute"/>, or a ready-made one such as
/// <see cref="Formats.X86_64EntryFormatAttribute"/>); without one the geometry has x86's entries.
/// </summary>
/// <example><code>
/// [PageTableGeometry(PageShift = 12, Levels = 4, VirtualAddressBits = 48)]
/// static partial class X86_64;
/// </code></example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class PageTableGeometryAttribute : Attribute
{
    /// <summary>PAGE_SHIFT, 10 to 20.</summary>
    public int PageShift { get; set; }

    /// <summary>PMD_SHIFT: PageShift + log2(PtrsPerPte). Optional: derived when left out, checked (PG1005) when given.</summary>
    public int PmdShift { get; set; }

    /// <summary>PTRS_PER_PTE: PAGE_SIZE / EntrySize. Optional: derived when left out, checked (PG1004) when given.</summary>
    public int PtrsPerPte { get; set; }

    /// <summary>CONFIG_PGTABLE_LEVELS, 2 to 5.</summary>
    public int Levels { get; set; }

    /// <summary>Virtual-address bits translated; the top level must resolve at least one of them.</summary>
    public int VirtualAddressBits { get; set; }

    /// <summary>sizeof(pte_t): 8, or 4 for 32-bit non-PAE tables.</summary>
    public int EntrySize { get; set; } = 8;

    /// <summary>
    /// Tables concatenated at the root (arm64 stage 2, VTCR_EL2.SL0 and T0SZ): 1, 2, 4, 8 or 16, allocated physically
    /// contiguous and aligned to their total size; the top level then resolves that many tables' bits (PG1021).
    /// </summary>
    public int RootTables { get; set; } = 1;
}

/// <summary>
/// Adds the refcount-table layout to a <see cref="PageTableGeometryAttribute"/> class: one refcount of
/// <see cref="ElementSize"/> bytes per PMD_SIZE of physical memory (the TDX Dynamic PAMT design), with the
/// generated <c>PfnToRefcountIndex</c>, <c>RefcountAreaSize</c>, <c>RefcountMappingRange</c> and the dense
/// and two-level layouts' arithmetic.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RefcountTableAttribute : Attribute
{
    /// <summary>Bytes per refcount (4 for an atomic_t): a power of two no larger than a page.</summary>
    public int ElementSize { get; set; }
}
