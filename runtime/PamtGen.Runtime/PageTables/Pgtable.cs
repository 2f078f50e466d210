using System.Runtime.CompilerServices;
namespace PamtGen;

/// <summary>
/// The entry helpers of include/linux/pgtable.h and arch/x86/include/asm/pgtable.h, in C# casing.
/// Use with <c>using static PamtGen.Pgtable;</c> so callbacks read like the kernel's. The generic ones (pte_none(),
/// ptep_get(), set_pte_at(), pte_clear(), pte_update()) serve every format; those that build or decode entries
/// (mk_pte(), pfn_pte(), pte_pfn(), pXd_present(), pXd_leaf(), PAGE_KERNEL) are the x86-64 format's, as the kernel's
/// are its architecture's: with another format, use the geometry's generated <c>Entry</c> (<c>Stage2.Entry.Page(pa)</c>,
/// <c>entry.IsValid(level)</c>).
/// </summary>
public static class Pgtable
{
    /// <summary>The bit where the PFN starts in an x86-64 entry (PTE_PFN_MASK starts at bit 12; the format's TableAddressLow).</summary>
    public const int PfnShift = 12;

    /// <summary>The largest PFN an 8-byte entry can hold (52 physical-address bits of 4 KiB pages).</summary>
    public const ulong MaxPfn = (1UL << (64 - PfnShift)) - 1;

    /// <summary>PAGE_KERNEL: present, writable, accessed, dirty, global.</summary>
    public static readonly PgProt PageKernel = new((ulong)(PteFlags.Present | PteFlags.ReadWrite | PteFlags.Accessed | PteFlags.Dirty | PteFlags.Global));

    /// <summary>_KERNPG_TABLE: the flags of an upper-level entry that points to a table.</summary>
    public static readonly PgProt KernPgTable = new((ulong)(PteFlags.Present | PteFlags.ReadWrite | PteFlags.Accessed | PteFlags.Dirty));

    /// <summary>pte_none(): the entry is zero.</summary>
    public static bool PteNone(Pte pte) => pte.Value == 0;

    /// <summary>pte_present(): the present bit is set.</summary>
    public static bool PtePresent(Pte pte) => (pte.Value & (ulong)PteFlags.Present) != 0;

    /// <summary>ptep_get(): READ_ONCE() of the entry, through the walk's memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into a callback: the model's own memory is one array read
    public static Pte PtepGet(PtePointer ptep) => new(ptep.Slot.Read(MemoryOrder.Once));

    /// <summary>set_pte_at(): WRITE_ONCE() of the entry, through the walk's memory; a value that does not fit the geometry's entry size is a BUG.</summary>
    public static void SetPteAt(Mm mm, ulong addr, PtePointer ptep, Pte pte) => SetEntry(mm, PageTableLevel.Pte, addr, ptep.Slot, pte.Value, "set_pte_at");

    /// <summary>pte_clear(): zero the entry.</summary>
    public static void PteClear(Mm mm, ulong addr, PtePointer ptep) => SetEntry(mm, PageTableLevel.Pte, addr, ptep.Slot, 0, "pte_clear");

    /// <summary>pmdp_get(): READ_ONCE() of a pmd entry.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into a callback: the model's own memory is one array read
    public static Pmd PmdpGet(PmdPointer pmdp) => new(pmdp.Slot.Read(MemoryOrder.Once));

    /// <summary>set_pmd_at(): WRITE_ONCE() of a pmd entry (a block, or a table's entry).</summary>
    public static void SetPmdAt(Mm mm, ulong addr, PmdPointer pmdp, Pmd pmd) => SetEntry(mm, PageTableLevel.Pmd, addr, pmdp.Slot, pmd.Value, "set_pmd_at");

    /// <summary>pmd_clear(): zero a pmd entry.</summary>
    public static void PmdClear(Mm mm, ulong addr, PmdPointer pmdp) => SetEntry(mm, PageTableLevel.Pmd, addr, pmdp.Slot, 0, "pmd_clear");

    /// <summary>pudp_get(): READ_ONCE() of a pud entry.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into a callback: the model's own memory is one array read
    public static Pud PudpGet(PudPointer pudp) => new(pudp.Slot.Read(MemoryOrder.Once));

    /// <summary>set_pud_at(): WRITE_ONCE() of a pud entry.</summary>
    public static void SetPudAt(Mm mm, ulong addr, PudPointer pudp, Pud pud) => SetEntry(mm, PageTableLevel.Pud, addr, pudp.Slot, pud.Value, "set_pud_at");

    /// <summary>pud_clear(): zero a pud entry.</summary>
    public static void PudClear(Mm mm, ulong addr, PudPointer pudp) => SetEntry(mm, PageTableLevel.Pud, addr, pudp.Slot, 0, "pud_clear");

    /// <summary>
    /// A write of an entry, through its walk's memory, that the TLB model follows (the old value is read only when there is a
    /// TLB to tell); a value that does not fit a 4-byte entry is a BUG.
    /// </summary>
    private static void SetEntry(Mm mm, PageTableLevel level, ulong addr, EntrySlot slot, ulong value, string helper)
    {
        ArgumentNullException.ThrowIfNull(mm);
        if (mm.Geometry.EntrySize == 4 && value > uint.MaxValue)
        {
            throw new KernelBugException($"{helper}(0x{addr:x}): 0x{value:x} does not fit a 4-byte entry", mm.Geometry.LeafAddress(PageTableLevel.Pte, value) >> mm.Geometry.PageShift);
        }

        if (mm.Tlb is { } tlb)
        {
            ulong old = slot.Read(MemoryOrder.Once);
            slot.Write(value, MemoryOrder.Once);
            tlb.EntryChanged(level, addr, old, value);
        }
        else
        {
            slot.Write(value, MemoryOrder.Once);
        }
    }

    /// <summary>
    /// flush_tlb_kernel_range(): invalidates the TLB's translations of [<paramref name="start"/>, <paramref name="end"/>)
    /// (arm64 TLBI VAAE1IS per page, x86 INVLPG); the invalidation of a break-before-make. Nothing to do in a space
    /// that tracks no TLB.
    /// </summary>
    public static void FlushTlbKernelRange(Mm mm, ulong start, ulong end)
    {
        ArgumentNullException.ThrowIfNull(mm);
        ArgumentOutOfRangeException.ThrowIfLessThan(end, start);
        if (end > start)
        {
            mm.Tlb?.InvalidateRange(start, end - start);
        }
    }

    /// <summary>mk_pte(): an entry mapping <paramref name="page"/> with <paramref name="prot"/>.</summary>
    public static Pte MkPte(Page page, PgProt prot)
    {
        ArgumentNullException.ThrowIfNull(page);
        return new Pte(PfnEntry(page.Pfn, prot));
    }

    /// <summary>set_pte_bit() (arch/arm64/include/asm/pgtable.h): <paramref name="pte"/> with the bits of <paramref name="prot"/> set.</summary>
    public static Pte SetPteBit(Pte pte, PgProt prot) => new(pte.Value | prot.Value);

    /// <summary>clear_pte_bit() (arch/arm64/include/asm/pgtable.h): <paramref name="pte"/> with the bits of <paramref name="prot"/> cleared.</summary>
    public static Pte ClearPteBit(Pte pte, PgProt prot) => new(pte.Value & ~prot.Value);

    /// <summary>pte_mkspecial(): <paramref name="pte"/> marked special (no struct page behind it).</summary>
    public static Pte PteMkspecial(Pte pte) => new(pte.Value | (ulong)PteFlags.Special);

    /// <summary>pte_wrprotect(): <paramref name="pte"/> without write permission.</summary>
    public static Pte PteWrprotect(Pte pte) => new(pte.Value & ~(ulong)PteFlags.ReadWrite);

    /// <summary>pte_mkwrite(): <paramref name="pte"/> with write permission.</summary>
    public static Pte PteMkwrite(Pte pte) => new(pte.Value | (ulong)PteFlags.ReadWrite);

    /// <summary>
    /// pte_update() (arch/powerpc/include/asm/book3s/64/pgtable.h): atomically clears <paramref name="clr"/> and sets
    /// <paramref name="set"/> in the entry, a read-modify-write of what is there; returns the old value.
    /// </summary>
    public static ulong PteUpdate(Mm mm, ulong addr, PtePointer ptep, ulong clr, ulong set)
    {
        ArgumentNullException.ThrowIfNull(mm);
        ulong old, updated;
        do
        {
            old = ptep.Slot.Read(MemoryOrder.Once);
            updated = (old & ~clr) | set;
        }
        while (ptep.Slot.CompareExchange(updated, old) != old);

        mm.Tlb?.EntryChanged(PageTableLevel.Pte, addr, old, updated);
        return old;
    }

    /// <summary>pfn_pte(): an entry mapping <paramref name="pfn"/> with <paramref name="prot"/>.</summary>
    public static Pte PfnPte(ulong pfn, PgProt prot) => new(PfnEntry(pfn, prot));

    /// <summary>pte_pfn(): the PFN the entry maps.</summary>
    public static ulong PtePfn(Pte pte) => pte.Value >> PfnShift;

    /// <summary>pmd_none(): the entry is zero.</summary>
    public static bool PmdNone(Pmd pmd) => pmd.Value == 0;

    /// <summary>pmd_present(): the present bit is set.</summary>
    public static bool PmdPresent(Pmd pmd) => (pmd.Value & (ulong)PteFlags.Present) != 0;

    /// <summary>pmd_leaf(): a present huge mapping rather than a pointer to a PTE table.</summary>
    public static bool PmdLeaf(Pmd pmd) => EntryLeaf(pmd.Value);

    /// <summary>pmd_pfn(): the PFN of the table or huge page the entry points to.</summary>
    public static ulong PmdPfn(Pmd pmd) => pmd.Value >> PfnShift;

    /// <summary>pfn_pmd() + pmd_mkhuge(): a huge (leaf) pmd mapping <paramref name="pfn"/>.</summary>
    public static Pmd PfnPmdHuge(ulong pfn, PgProt prot) => new(PfnEntry(pfn, prot) | (ulong)PteFlags.Leaf);

    /// <summary>pud_none(): the entry is zero.</summary>
    public static bool PudNone(Pud pud) => pud.Value == 0;

    /// <summary>pud_present(): the present bit is set.</summary>
    public static bool PudPresent(Pud pud) => (pud.Value & (ulong)PteFlags.Present) != 0;

    /// <summary>pud_leaf(): a present huge mapping rather than a pointer to a pmd table.</summary>
    public static bool PudLeaf(Pud pud) => EntryLeaf(pud.Value);

    /// <summary>p4d_none(): the entry is zero.</summary>
    public static bool P4dNone(P4d p4d) => p4d.Value == 0;

    /// <summary>p4d_present(): the present bit is set.</summary>
    public static bool P4dPresent(P4d p4d) => (p4d.Value & (ulong)PteFlags.Present) != 0;

    /// <summary>p4d_leaf(): a present leaf entry.</summary>
    public static bool P4dLeaf(P4d p4d) => EntryLeaf(p4d.Value);

    /// <summary>pgd_none(): the entry is zero.</summary>
    public static bool PgdNone(Pgd pgd) => pgd.Value == 0;

    /// <summary>pgd_present(): the present bit is set.</summary>
    public static bool PgdPresent(Pgd pgd) => (pgd.Value & (ulong)PteFlags.Present) != 0;

    /// <summary>pgd_leaf(): a present leaf entry.</summary>
    public static bool PgdLeaf(Pgd pgd) => EntryLeaf(pgd.Value);

    /// <summary>The leaf test shared by every upper level: present with _PAGE_PSE.</summary>
    internal static bool EntryLeaf(ulong value) =>
        (value & (ulong)(PteFlags.Present | PteFlags.Leaf)) == (ulong)(PteFlags.Present | PteFlags.Leaf);

    /// <summary>An entry value for <paramref name="pfn"/>: the PFN above <see cref="PfnShift"/>, the flags below.</summary>
    internal static ulong PfnEntry(ulong pfn, PgProt prot)
    {
        if (pfn > MaxPfn)
        {
            throw new ArgumentOutOfRangeException(nameof(pfn), pfn, "a PFN above 52 physical-address bits does not fit an entry");
        }

        if (prot.Value >= 1UL << PfnShift)
        {
            throw new ArgumentOutOfRangeException(nameof(prot), prot.Value, "protection bits must lie below the PFN");
        }

        return (pfn << PfnShift) | prot.Value;
    }
}
