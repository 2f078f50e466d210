using static PamtGen.Pgtable;

namespace PamtGen.Runtime.Tests;

/// <summary>The seed's pte_fn_t callbacks, written plainly, for tests that need a real populate and teardown.</summary>
internal static class KernelCallbacks
{
    /// <summary>The reviewed populate: check pte_none first, allocate only when the PTE is empty.</summary>
    public static int PopulateIfNone(PtePointer pte, ulong addr, Mm mm)
    {
        if (!PteNone(PtepGet(pte)))
        {
            return 0;
        }

        var page = mm.Allocator.AllocPage(Gfp.Kernel | Gfp.Zero);
        if (page is null)
        {
            return -Errno.ENOMEM;
        }

        SetPteAt(mm, addr, pte, MkPte(page, PageKernel));
        return 0;
    }

    /// <summary>pamt_refcount_populate() of v4: allocate first, then map it or free it again under the lock.</summary>
    public static int SeedV4Populate(PtePointer pte, ulong addr, Mm mm)
    {
        var page = mm.Allocator.AllocPage(Gfp.Kernel | Gfp.Zero);
        if (page is null)
        {
            return -Errno.ENOMEM;
        }

        var entry = MkPte(page, PageKernel);
        lock (mm.PageTableLock)
        {
            if (PteNone(PtepGet(pte)))
            {
                SetPteAt(mm, addr, pte, entry);
            }
            else
            {
                mm.Allocator.FreePage(page);
            }
        }

        return 0;
    }

    /// <summary>pamt_refcount_depopulate(): clear and free every populated PTE; holes and aborted populates are none.</summary>
    public static int Depopulate(PtePointer pte, ulong addr, Mm mm)
    {
        var entry = PtepGet(pte);
        if (!PteNone(entry))
        {
            PteClear(mm, addr, pte);
            mm.Allocator.FreePage(mm.Allocator.PtePage(entry));
        }

        return 0;
    }
}
