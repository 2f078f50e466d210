using static PamtGen.Pgtable;

namespace PamtGen.Runtime.Tests;

/// <summary>The seed's pte_fn_t callbacks, written plainly, for tests that need a real populate and teardown.</summary>
internal static class KernelCallbacks
{
    /// <summary>The reviewed populate: check pte_none first, allocate only when the PTE is empty.</summary>
    public static int PopulateIfNone(ref Pte pte, ulong addr, Mm mm)
    {
        if (!PteNone(PtepGet(ref pte)))
        {
            return 0;
        }

        var page = mm.Allocator.AllocPage(Gfp.Kernel | Gfp.Zero);
        if (page is null)
        {
            return -Errno.ENOMEM;
        }

        SetPteAt(mm, addr, ref pte, MkPte(page, PageKernel));
        return 0;
    }

    /// <summary>pamt_refcount_populate() of v4: allocate first, then map it or free it again under the lock.</summary>
    public static int SeedV4Populate(ref Pte pte, ulong addr, Mm mm)
    {
        var page = mm.Allocator.AllocPage(Gfp.Kernel | Gfp.Zero);
        if (page is null)
        {
            return -Errno.ENOMEM;
        }

        var entry = MkPte(page, PageKernel);
        lock (mm.PageTableLock)
        {
            if (PteNone(PtepGet(ref pte)))
            {
                SetPteAt(mm, addr, ref pte, entry);
            }
            else
            {
                mm.Allocator.FreePage(page);
            }
        }

        return 0;
    }

    /// <summary>pamt_refcount_depopulate(): clear and free every populated PTE; holes and aborted populates are none.</summary>
    public static int Depopulate(ref Pte pte, ulong addr, Mm mm)
    {
        var entry = PtepGet(ref pte);
        if (!PteNone(entry))
        {
            PteClear(mm, addr, ref pte);
            mm.Allocator.FreePage(mm.Allocator.PtePage(entry));
        }

        return 0;
    }
}
