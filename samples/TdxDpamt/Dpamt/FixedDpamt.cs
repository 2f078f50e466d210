using PamtGen;
using TdxDpamt.Kernel;
using static PamtGen.Pgtable;

namespace TdxDpamt.Dpamt;

/// <summary>
/// The design as the seed's review left it: allocate only after the pte_none() check, take no lock, and size
/// init and teardown with the one generated <see cref="X86_64.RefcountAreaSize"/>.
/// </summary>
/// <remarks>
/// No lock: apply_to_page_range() takes init_mm.page_table_lock itself while it installs a missing table, and
/// the refcount range belongs to this code alone, so populate and depopulate never race on one PTE
/// (Rick Edgecombe and Kiryl Shutsemau in the review).
/// </remarks>
public sealed partial class FixedDpamt : DpamtDesign
{
    /// <inheritdoc/>
    public override string Name => "Fixed";

    /// <inheritdoc/>
    public override int AllocPamtRefcount(TdxKernel k, ulong startPfn, ulong endPfn)
    {
        if (!k.SupportsDynamicPamt)
        {
            return 0;
        }

        // All or nothing per memory range: on failure, unmap the refcount pages this call mapped (and the tables it
        // installed), so neighbouring ranges keep the pages they share with it and nothing half-populated stays.
        var (start, end) = X86_64.RefcountMappingRange(startPfn, endPfn);
        k.PopulatedByThisCall.Clear();
        var populate = new PamtRefcountPopulateFn(k);
        var unpopulate = new PamtRefcountUnpopulateFn(k);
        return X86_64.ApplyToPageRangeTransactional(k.InitMm, k.PamtRefcounts + start, end - start, ref populate, ref unpopulate);
    }

    /// <inheritdoc/>
    protected override ulong InitSize(ulong maxPfn) => X86_64.RefcountAreaSize(maxPfn);

    /// <inheritdoc/>
    protected override ulong TeardownSize(ulong maxPfn) => X86_64.RefcountAreaSize(maxPfn);

    /// <inheritdoc/>
    protected override int Depopulate(TdxKernel k, ulong start, ulong size)
    {
        var depopulate = new PamtRefcountDepopulateFn(k);
        return X86_64.ApplyToExistingPageRange(k.InitMm, start, size, ref depopulate);
    }

    /// <summary>pamt_refcount_populate(): maps a zeroed page where the refcount PTE is still none.</summary>
    [PteCallback]
    private static int PamtRefcountPopulate(PtePointer pte, ulong addr, TdxKernel data)
    {
        // Neighbouring RAM ranges can share a refcount page: populate it once, and allocate only then.
        if (!PteNone(PtepGet(pte)))
        {
            return 0;
        }

        var page = data.Allocator.AllocPage(Gfp.Kernel | Gfp.Zero);
        if (page is null)
        {
            return -Errno.ENOMEM;
        }

        SetPteAt(data.InitMm, addr, pte, MkPte(page, PageKernel));
        data.PopulatedByThisCall.Add(addr);
        return 0;
    }

    /// <summary>The undo of a failed populate: unmaps and frees the refcount pages this call mapped, and only those.</summary>
    [PteCallback]
    private static int PamtRefcountUnpopulate(PtePointer pte, ulong addr, TdxKernel data)
    {
        var entry = PtepGet(pte);
        if (PteNone(entry) || !data.PopulatedByThisCall.Remove(addr))
        {
            return 0;
        }

        PteClear(data.InitMm, addr, pte);
        data.Allocator.FreePage(data.Allocator.PtePage(entry));
        return 0;
    }

    /// <summary>pamt_refcount_depopulate(): unmaps and frees a populated refcount page.</summary>
    [PteCallback]
    private static int PamtRefcountDepopulate(PtePointer pte, ulong addr, TdxKernel data)
    {
        // Holes between RAM ranges were never populated, and a populate may have failed part way.
        var entry = PtepGet(pte);
        if (PteNone(entry))
        {
            return 0;
        }

        PteClear(data.InitMm, addr, pte);
        data.Allocator.FreePage(data.Allocator.PtePage(entry));
        return 0;
    }
}
