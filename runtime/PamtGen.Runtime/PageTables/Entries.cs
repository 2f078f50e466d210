namespace PamtGen;

// The entry types of include/linux/pgtable.h as value types. Each wraps the raw entry value, whatever the format: the
// geometry's entry format (docs/FORMATS.md) says what the bits mean, and its generated Entry struct reads them. The
// flags below are the x86-64 format's, for Pgtable's x86 helpers.

/// <summary>pte_t: a page-table entry.</summary>
public readonly record struct Pte(ulong Value)
{
    /// <inheritdoc/>
    public override string ToString() => $"pte 0x{Value:x}";
}

/// <summary>pmd_t: a page-middle-directory entry.</summary>
public readonly record struct Pmd(ulong Value)
{
    /// <inheritdoc/>
    public override string ToString() => $"pmd 0x{Value:x}";
}

/// <summary>pud_t: a page-upper-directory entry.</summary>
public readonly record struct Pud(ulong Value)
{
    /// <inheritdoc/>
    public override string ToString() => $"pud 0x{Value:x}";
}

/// <summary>p4d_t: a fourth-level-directory entry.</summary>
public readonly record struct P4d(ulong Value)
{
    /// <inheritdoc/>
    public override string ToString() => $"p4d 0x{Value:x}";
}

/// <summary>pgd_t: a page-global-directory entry.</summary>
public readonly record struct Pgd(ulong Value)
{
    /// <inheritdoc/>
    public override string ToString() => $"pgd 0x{Value:x}";
}

/// <summary>pgprot_t: the protection bits of an entry.</summary>
public readonly record struct PgProt(ulong Value);

/// <summary>
/// The x86-64 format's flag bits (<see cref="Formats.X86_64EntryFormatAttribute"/>: the same positions, checked by a test),
/// for <see cref="Pgtable"/>'s x86 helpers. Other formats build entries with their generated Entry struct.
/// </summary>
[Flags]
public enum PteFlags : ulong
{
    /// <summary>No flags.</summary>
    None = 0,

    /// <summary>_PAGE_PRESENT.</summary>
    Present = 1UL << 0,

    /// <summary>_PAGE_RW.</summary>
    ReadWrite = 1UL << 1,

    /// <summary>_PAGE_ACCESSED.</summary>
    Accessed = 1UL << 5,

    /// <summary>_PAGE_DIRTY.</summary>
    Dirty = 1UL << 6,

    /// <summary>_PAGE_PSE: at an upper level, the entry is a leaf (a huge mapping), not a table.</summary>
    Leaf = 1UL << 7,

    /// <summary>_PAGE_GLOBAL.</summary>
    Global = 1UL << 8,

    /// <summary>_PAGE_SPECIAL (_PAGE_BIT_SOFTW1): a mapping with no struct page behind it (vmap_pfn(), remap_pfn_range()).</summary>
    Special = 1UL << 9,
}
