namespace PamtGen;

/// <summary>
/// The page-table levels in the kernel's order. The numeric value is the <c>depth</c> that
/// <c>walk_page_range</c> passes to <c>pte_hole</c> (0 = PGD ... 4 = PTE).
/// </summary>
public enum PageTableLevel
{
    /// <summary>The page global directory, the top table (pgd_t).</summary>
    Pgd = 0,

    /// <summary>The fourth-level directory (p4d_t), folded below 5 levels.</summary>
    P4d = 1,

    /// <summary>The page upper directory (pud_t), folded below 4 levels.</summary>
    Pud = 2,

    /// <summary>The page middle directory (pmd_t), folded below 3 levels.</summary>
    Pmd = 3,

    /// <summary>The page table proper (pte_t).</summary>
    Pte = 4,
}

/// <summary>
/// A page-table geometry described at run time: page size, entries per table, entry size and
/// the number of levels, with the kernel's folding rules (include/asm-generic/pgtable-nop4d.h,
/// -nopud.h, -nopmd.h): 2 levels are pgd and pte; 3 add pmd; 4 add pud; 5 add p4d. A folded
/// level has no table of its own: its offset is its parent's entry, its <c>*_addr_end</c> is
/// <c>end</c>, and the entry is checked (none, leaf) by the lowest level folded into it.
/// </summary>
public sealed class Geometry : IEquatable<Geometry>
{
    /// <summary>The smallest PAGE_SHIFT the model accepts (1 KiB pages).</summary>
    public const int MinPageShift = 10;

    /// <summary>The largest PAGE_SHIFT the model accepts (1 MiB pages).</summary>
    public const int MaxPageShift = 20;

    private readonly int[] _shift = new int[5];
    private readonly int[] _ptrs = new int[5];

    /// <summary>Describes a geometry; an impossible description throws <see cref="ArgumentException"/> saying why.</summary>
    /// <param name="pageShift">PAGE_SHIFT, 10 to 20.</param>
    /// <param name="ptrsPerTable">Entries per table (PTRS_PER_PTE); must be PAGE_SIZE / entry size.</param>
    /// <param name="entrySize">Bytes per entry: 8, or 4 for 32-bit non-PAE tables.</param>
    /// <param name="levels">CONFIG_PGTABLE_LEVELS, 2 to 5.</param>
    /// <param name="virtualAddressBits">Virtual-address bits translated; the top table resolves at least one of them.</param>
    /// <param name="name">A name for messages and test output.</param>
    public Geometry(int pageShift, int ptrsPerTable, int entrySize, int levels, int virtualAddressBits, string? name = null)
    {
        if (pageShift is < MinPageShift or > MaxPageShift)
        {
            throw new ArgumentException($"PAGE_SHIFT {pageShift} is outside {MinPageShift}..{MaxPageShift}", nameof(pageShift));
        }

        if (entrySize is not (4 or 8))
        {
            throw new ArgumentException($"an entry is 4 or 8 bytes, not {entrySize}", nameof(entrySize));
        }

        if (ptrsPerTable != (1 << pageShift) / entrySize)
        {
            throw new ArgumentException(
                $"{ptrsPerTable} entries per table do not fill a {1 << pageShift}-byte page of {entrySize}-byte entries ({(1 << pageShift) / entrySize} do)",
                nameof(ptrsPerTable));
        }

        if (levels is < 2 or > 5)
        {
            throw new ArgumentException($"{levels} levels: the kernel supports 2 to 5", nameof(levels));
        }

        int bits = pageShift - (entrySize == 8 ? 3 : 2);
        int topShift = pageShift + (levels - 1) * bits;
        if (virtualAddressBits > 64)
        {
            throw new ArgumentException($"{virtualAddressBits} virtual-address bits do not fit a 64-bit address", nameof(virtualAddressBits));
        }

        if (virtualAddressBits <= topShift)
        {
            throw new ArgumentException(
                $"{virtualAddressBits} virtual-address bits leave the top level of {levels} levels nothing to resolve (it starts at bit {topShift}); use fewer levels",
                nameof(virtualAddressBits));
        }

        if (virtualAddressBits > topShift + bits)
        {
            throw new ArgumentException(
                $"{levels} levels of {bits} bits over {pageShift}-bit pages translate {topShift + bits} bits, not {virtualAddressBits}; use more levels",
                nameof(virtualAddressBits));
        }

        PageShift = pageShift;
        PtrsPerTable = ptrsPerTable;
        EntrySize = entrySize;
        Levels = levels;
        VirtualAddressBits = virtualAddressBits;
        BitsPerLevel = bits;
        Name = name ?? $"{1 << (pageShift - 10)}K pages, {levels} levels, {virtualAddressBits}-bit VA";

        // Real levels from the bottom: pte, then pmd, pud, p4d as Levels allows; pgd on top.
        _shift[(int)PageTableLevel.Pte] = pageShift;
        _ptrs[(int)PageTableLevel.Pte] = ptrsPerTable;
        int shift = pageShift;
        for (var level = PageTableLevel.Pmd; level >= PageTableLevel.P4d; level--)
        {
            if (IsFolded(level))
            {
                continue;
            }

            shift += bits;
            _shift[(int)level] = shift;
            _ptrs[(int)level] = ptrsPerTable;
        }

        _shift[(int)PageTableLevel.Pgd] = topShift;
        _ptrs[(int)PageTableLevel.Pgd] = 1 << (virtualAddressBits - topShift);

        // A folded level takes the shift of the level it is folded into (P4D_SHIFT = PGDIR_SHIFT, ...).
        for (var level = PageTableLevel.P4d; level <= PageTableLevel.Pmd; level++)
        {
            if (IsFolded(level))
            {
                _shift[(int)level] = _shift[(int)level - 1];
                _ptrs[(int)level] = 1;
            }
        }
    }

    /// <summary>x86-64 with 4-level paging (48-bit VA).</summary>
    public static Geometry X86_64FourLevel { get; } = new(12, 512, 8, 4, 48, "x86-64 4-level");

    /// <summary>x86-64 with 5-level paging, LA57 (57-bit VA).</summary>
    public static Geometry X86_64FiveLevel { get; } = new(12, 512, 8, 5, 57, "x86-64 5-level");

    /// <summary>arm64, 4K granule, 48-bit VA.</summary>
    public static Geometry Arm64Granule4K { get; } = new(12, 512, 8, 4, 48, "arm64 4K");

    /// <summary>arm64, 16K granule, 48-bit VA (the top table has 2 entries).</summary>
    public static Geometry Arm64Granule16K { get; } = new(14, 2048, 8, 4, 48, "arm64 16K");

    /// <summary>arm64, 64K granule, 48-bit VA, 3 levels (the top table has 64 entries).</summary>
    public static Geometry Arm64Granule64K { get; } = new(16, 8192, 8, 3, 48, "arm64 64K");

    /// <summary>arm64, 64K granule, 52-bit VA, 3 levels (the top table has 1024 entries).</summary>
    public static Geometry Arm64Granule64K52Bit { get; } = new(16, 8192, 8, 3, 52, "arm64 64K 52-bit");

    /// <summary>x86 32-bit without PAE: 2 levels of 1024 4-byte entries.</summary>
    public static Geometry X86NonPae { get; } = new(12, 1024, 4, 2, 32, "x86 non-PAE");

    /// <summary>A name for messages.</summary>
    public string Name { get; }

    /// <summary>PAGE_SHIFT.</summary>
    public int PageShift { get; }

    /// <summary>PAGE_SIZE in bytes.</summary>
    public ulong PageSize => 1UL << PageShift;

    /// <summary>Entries per table (PTRS_PER_PTE; every real level below the top has as many).</summary>
    public int PtrsPerTable { get; }

    /// <summary>Bytes per entry, 4 or 8.</summary>
    public int EntrySize { get; }

    /// <summary>CONFIG_PGTABLE_LEVELS.</summary>
    public int Levels { get; }

    /// <summary>Virtual-address bits translated.</summary>
    public int VirtualAddressBits { get; }

    /// <summary>Address bits each level below the top resolves (log2 of <see cref="PtrsPerTable"/>).</summary>
    public int BitsPerLevel { get; }

    /// <summary>PMD_SHIFT (equal to PGDIR_SHIFT when the pmd is folded).</summary>
    public int PmdShift => Shift(PageTableLevel.Pmd);

    /// <summary>True when <paramref name="level"/> is folded: it has no table of its own.</summary>
    public bool IsFolded(PageTableLevel level) => level switch
    {
        PageTableLevel.P4d => Levels < 5,
        PageTableLevel.Pud => Levels < 4,
        PageTableLevel.Pmd => Levels < 3,
        _ => false,
    };

    /// <summary>
    /// True when <c>pXd_none</c>/<c>pXd_leaf</c> look at the entry at <paramref name="level"/>;
    /// false when the level below is folded into it, and the kernel's folded helpers say "never none".
    /// </summary>
    public bool ChecksEntry(PageTableLevel level) => level < PageTableLevel.Pte && !IsFolded(level + 1);

    /// <summary>PGDIR_SHIFT, P4D_SHIFT, PUD_SHIFT, PMD_SHIFT or PAGE_SHIFT.</summary>
    public int Shift(PageTableLevel level) => _shift[(int)level];

    /// <summary>PTRS_PER_PGD, PTRS_PER_P4D, ... (1 for a folded level).</summary>
    public int PtrsPer(PageTableLevel level) => _ptrs[(int)level];

    /// <summary>The bytes one entry of <paramref name="level"/> covers (PGDIR_SIZE, PMD_SIZE, ...).</summary>
    public ulong Size(PageTableLevel level) => 1UL << _shift[(int)level];

    /// <summary>pgd_index(), p4d_index(), pud_index(), pmd_index(), pte_index() (0 for a folded level).</summary>
    public int Index(PageTableLevel level, ulong addr) => (int)((addr >> _shift[(int)level]) & (ulong)(_ptrs[(int)level] - 1));

    /// <summary>
    /// pgd_addr_end() and its cousins: the next boundary of <paramref name="level"/> after
    /// <paramref name="addr"/>, or <paramref name="end"/> if that comes first. The "- 1" on both sides
    /// is the kernel's: it keeps the comparison right when the boundary wraps to 0 at the top of the
    /// address space. A folded level returns <paramref name="end"/>.
    /// </summary>
    public ulong AddrEnd(PageTableLevel level, ulong addr, ulong end)
    {
        if (level != PageTableLevel.Pgd && IsFolded(level))
        {
            return end;
        }

        ulong size = Size(level);
        ulong boundary = (addr + size) & ~(size - 1);
        return boundary - 1 < end - 1 ? boundary : end;
    }

    /// <summary>
    /// True when <c>[addr, end)</c> (non-empty) lies in one 2^VirtualAddressBits window, so its top-level
    /// indices do not run off the top table. A range across the non-canonical hole does not: the kernel
    /// has no check for it and would walk past the end of the pgd.
    /// </summary>
    public bool InOneWindow(ulong addr, ulong end) =>
        VirtualAddressBits == 64 || (addr >> VirtualAddressBits) == ((end - 1) >> VirtualAddressBits);

    /// <inheritdoc/>
    public bool Equals(Geometry? other) =>
        other is not null && PageShift == other.PageShift && EntrySize == other.EntrySize && Levels == other.Levels
        && VirtualAddressBits == other.VirtualAddressBits;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Geometry);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(PageShift, EntrySize, Levels, VirtualAddressBits);

    /// <inheritdoc/>
    public override string ToString() => Name;
}
