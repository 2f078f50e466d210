using PamtGen;
using TdxDpamt.Kernel;
using static PamtGen.Pgtable;

namespace TdxDpamt.Dpamt;

/// <summary>
/// The v4 patch (dpamt-refcount-v4), ported line for line, defects included: the populate callback allocates
/// before its pte_none() check and frees the page again where the PTE was populated; both callbacks take
/// init_mm.page_table_lock, which is not needed; free_pamt_metadata() sizes the area with a floor, so when
/// max_pfn % 512 != 0 and (max_pfn / 512) % 1024 == 0 the last refcount page is never depopulated and leaks.
/// </summary>
public sealed partial class SeedV4 : DpamtDesign
{
    /// <inheritdoc/>
    public override string Name => "SeedV4";

    /// <inheritdoc/>
    public override int AllocPamtRefcount(TdxKernel k, ulong startPfn, ulong endPfn)
    {
        if (!k.SupportsDynamicPamt)
        {
            return 0;
        }

        // 'start_pfn' is inclusive and 'end_pfn' is exclusive. Find the range of refcounts the pfn range will need.
        ulong refcountFirst = TdxFindPamtRefcount(k, startPfn);
        ulong refcountLast = TdxFindPamtRefcount(k, endPfn - 1);

        // Calculate the page aligned range that includes the refcounts.
        ulong mappingStart = refcountFirst & ~(X86_64.PageSize - 1);
        ulong mappingEnd = (refcountLast + X86_64.RefcountSize + X86_64.PageSize - 1) & ~(X86_64.PageSize - 1);

        var populate = new PamtRefcountPopulateFn(k);
        return X86_64.ApplyToPageRange(k.InitMm, mappingStart, mappingEnd - mappingStart, ref populate);
    }

    /// <summary>init_pamt_metadata() of v4: DIV_ROUND_UP(max_pfn, PTRS_PER_PTE) * sizeof(*pamt_refcounts).</summary>
    protected override ulong InitSize(ulong maxPfn) => (maxPfn + (ulong)X86_64.PtrsPerPte - 1) / (ulong)X86_64.PtrsPerPte * X86_64.RefcountSize;

    /// <summary>free_pamt_metadata() of v4: max_pfn / PTRS_PER_PTE * sizeof(*pamt_refcounts), then round_up(size, PAGE_SIZE): a floor.</summary>
    protected override ulong TeardownSize(ulong maxPfn)
    {
        // This class reproduces the v4 patch literally, so the report can measure its defects on the model.
#pragma warning disable PG0004 // The v4 teardown's floor size, kept on purpose: it is the leak the report measures.
        ulong size = maxPfn / X86_64.PtrsPerPte * X86_64.RefcountSize;
#pragma warning restore PG0004
        return (size + X86_64.PageSize - 1) & ~(X86_64.PageSize - 1);
    }

    /// <inheritdoc/>
    protected override int Depopulate(TdxKernel k, ulong start, ulong size)
    {
        var depopulate = new PamtRefcountDepopulateFn(k);
        return X86_64.ApplyToExistingPageRange(k.InitMm, start, size, ref depopulate);
    }

    /// <summary>pamt_refcount_populate() of v4: maps a page into the PAMT refcount vmalloc region.</summary>
    [PteCallback]
    private static int PamtRefcountPopulate(PtePointer pte, ulong addr, TdxKernel data)
    {
        Page? page;
        Pte entry;

#pragma warning disable PG0003 // v4 allocates before the check, on purpose: the report counts the pages it frees again.
        page = data.Allocator.AllocPage(Gfp.Kernel | Gfp.Zero);
#pragma warning restore PG0003
        if (page is null)
        {
            return -Errno.ENOMEM;
        }

        entry = MkPte(page, PageKernel);

#pragma warning disable PG0005 // v4 takes init_mm.page_table_lock; the review found it unnecessary, kept to stay literal.
        lock (data.InitMm.PageTableLock)
#pragma warning restore PG0005
        {
            // PAMT refcount populations can overlap due to rounding of the start/end pfn.
            // Make sure the PAMT range is only populated once.
            if (PteNone(PtepGet(pte)))
            {
                SetPteAt(data.InitMm, addr, pte, entry);
            }
            else
            {
                data.Allocator.FreePage(page);
            }
        }

        return 0;
    }

    /// <summary>pamt_refcount_depopulate() of v4: unmaps a page from the PAMT refcount vmalloc region.</summary>
    [PteCallback]
    private static int PamtRefcountDepopulate(PtePointer pte, ulong addr, TdxKernel data)
    {
        Page page;
        Pte entry;

#pragma warning disable PG0005 // v4 takes init_mm.page_table_lock; the review found it unnecessary, kept to stay literal.
        lock (data.InitMm.PageTableLock)
#pragma warning restore PG0005
        {
            entry = PtepGet(pte);
            // refcount allocation is sparse, may not be populated
            if (!PteNone(entry))
            {
                PteClear(data.InitMm, addr, pte);
                page = data.Allocator.PtePage(entry);
                data.Allocator.FreePage(page);
            }
        }

        return 0;
    }
}
