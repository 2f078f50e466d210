using static PamtGen.Pgtable;

namespace PamtGen.Generator.Probe.Callbacks;

/// <summary>What the populate and depopulate callbacks work on (pte_fn_t's void *data).</summary>
public sealed class RefcountState(Mm mm)
{
    /// <summary>The address space (init_mm) the callbacks map in.</summary>
    public Mm Mm { get; } = mm;

    /// <summary>Pages the populate callback mapped.</summary>
    public int Populated { get; set; }
}

/// <summary>The reviewed seed callbacks in kernel shape; the generator adds PopulateFn and DepopulateFn.</summary>
public static partial class RefcountCallbacks
{
    /// <summary>pamt_refcount_populate(), reviewed: allocate only where the PTE is still none.</summary>
    [PteCallback]
    public static int Populate(PtePointer pte, ulong addr, RefcountState data)
    {
        if (!PteNone(PtepGet(pte)))
        {
            return 0;
        }

        var page = data.Mm.Allocator.AllocPage(Gfp.Kernel | Gfp.Zero);
        if (page is null)
        {
            return -Errno.ENOMEM;
        }

        SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
        data.Populated++;
        return 0;
    }

    /// <summary>pamt_refcount_depopulate(): holes and aborted populates are none.</summary>
    [PteCallback]
    public static int Depopulate(PtePointer pte, ulong addr, RefcountState data)
    {
        var entry = PtepGet(pte);
        if (!PteNone(entry))
        {
            PteClear(data.Mm, addr, pte);
            data.Mm.Allocator.FreePage(data.Mm.Allocator.PtePage(entry));
        }

        return 0;
    }
}
