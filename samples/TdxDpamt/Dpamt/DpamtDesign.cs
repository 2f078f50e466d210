using PamtGen;
using TdxDpamt.Kernel;

namespace TdxDpamt.Dpamt;

/// <summary>
/// The Dynamic PAMT refcount code of arch/x86/virt/vmx/tdx/tdx.c, ported to the model. The two variants differ
/// where the seed's review found defects: the populate and depopulate callbacks, and the sizes of the area.
/// </summary>
public abstract class DpamtDesign
{
    /// <summary>PHYS_PFN(SZ_1M): build_tdx_memlist() leaves the first 1 MiB out of TDX memory.</summary>
    public const ulong FirstTdxPfn = 0x100;

    /// <summary>The variant's name, for the report.</summary>
    public abstract string Name { get; }

    /// <summary>init_pamt_metadata(): reserves the refcount area for all memory up to max_pfn, without pages.</summary>
    public int InitPamtMetadata(TdxKernel k)
    {
        if (!k.SupportsDynamicPamt)
        {
            return 0;
        }

        var area = k.Vmalloc.GetVmArea(InitSize(k.MaxPfn), VmFlags.Sparse);
        if (area is null)
        {
            return -Errno.ENOMEM;
        }

        k.PamtRefcounts = area.Addr;
        return 0;
    }

    /// <summary>
    /// build_tdx_memlist(): every memblock RAM range, the first 1 MiB skipped, becomes a TDX memory block and gets
    /// its refcounts populated. The first error stops it; the TDX memory list is freed, the refcount pages are not
    /// (free_pamt_metadata() does that in init_tdx_module()'s error path).
    /// </summary>
    public int BuildTdxMemlist(TdxKernel k, List<PfnRange> tdxMemlist)
    {
        foreach (var range in k.Map.ForEachMemPfnRange())
        {
            ulong startPfn = Math.Max(range.Start, FirstTdxPfn);
            ulong endPfn = range.End;
            if (startPfn >= endPfn)
            {
                continue;
            }

            tdxMemlist.Add(new PfnRange(startPfn, endPfn)); // add_tdx_memblock()
            int ret = AllocPamtRefcount(k, startPfn, endPfn);
            if (ret != 0)
            {
                tdxMemlist.Clear(); // free_tdx_memlist()
                return ret;
            }
        }

        return 0;
    }

    /// <summary>alloc_pamt_refcount(): populates the refcount pages the PFNs [startPfn, endPfn) need.</summary>
    public abstract int AllocPamtRefcount(TdxKernel k, ulong startPfn, ulong endPfn);

    /// <summary>free_pamt_metadata(): depopulates the area and vfree()s it.</summary>
    public void FreePamtMetadata(TdxKernel k)
    {
        if (!k.SupportsDynamicPamt || k.PamtRefcounts == 0)
        {
            return;
        }

        Depopulate(k, k.PamtRefcounts, TeardownSize(k.MaxPfn));
        k.Vmalloc.Vfree(k.PamtRefcounts);
        k.PamtRefcounts = 0;
    }

    /// <summary>
    /// Beyond the kernel: after free_pamt_metadata(), frees every page-table page of the vmalloc space that maps nothing
    /// any more, so the teardown leaves no page of any kind but the root table. Returns the table pages freed.
    /// </summary>
    public static int ReclaimPageTables(TdxKernel k) =>
        X86_64.FreeEmptyTables(k.InitMm, k.Vmalloc.VmallocStart, k.Vmalloc.VmallocEnd - k.Vmalloc.VmallocStart);

    /// <summary>tdx_find_pamt_refcount(): the address of the atomic_t of <paramref name="pfn"/>'s 2 MiB region; one shift and one add.</summary>
    public static ulong TdxFindPamtRefcount(TdxKernel k, ulong pfn) => k.PamtRefcounts + (X86_64.PfnToRefcountIndex(pfn) * X86_64.RefcountSize);

    /// <summary>
    /// tdx_pamt_get(): takes a reference on the PAMT of <paramref name="pfn"/>'s 2 MiB region. The fast path is
    /// atomic_inc_not_zero(); 0 -&gt; 1 allocates the backing pages, then under pamt_lock re-checks and either counts
    /// in (another CPU won) or calls PAMT.ADD. -ENOMEM when the pages cannot be allocated; -EIO when PAMT.ADD fails.
    /// Touching the refcount of a PFN whose refcount page was never populated (a hole) oopses.
    /// </summary>
    public static int TdxPamtGet(TdxKernel k, ulong pfn)
    {
        ref int refcount = ref k.InitMm.AtomicAt(TdxFindPamtRefcount(k, pfn));
        if (AtomicIncNotZero(ref refcount))
        {
            return 0;
        }

        var pages = AllocPamtPages(k);
        if (pages is null)
        {
            return -Errno.ENOMEM;
        }

        int ret = 0;
        k.PamtLock.Enter();
        try
        {
            if (Volatile.Read(ref refcount) != 0)
            {
                Interlocked.Increment(ref refcount); // another CPU installed the PAMT first
            }
            else if (k.Module.PamtAdd(pfn, pages) is var err and not 0)
            {
                k.Warn($"TDX: PAMT.ADD failed for pfn 0x{pfn:x}: 0x{err:x}");
                ret = -Errno.EIO;
            }
            else
            {
                Volatile.Write(ref refcount, 1); // atomic_set(): 0 -> 1 only under pamt_lock
                pages = null;
            }
        }
        finally
        {
            k.PamtLock.Exit();
        }

        FreePamtPages(k, pages);
        return ret;
    }

    /// <summary>
    /// tdx_pamt_put(): drops a reference; only 1 -&gt; 0 takes pamt_lock and calls PAMT.REMOVE, whose pages are then
    /// freed. If PAMT.REMOVE fails, it warns, sets the count back to 1 and leaks the pages on purpose: they may
    /// still hold the module's data.
    /// </summary>
    public static void TdxPamtPut(TdxKernel k, ulong pfn)
    {
        ref int refcount = ref k.InitMm.AtomicAt(TdxFindPamtRefcount(k, pfn));
        if (!AtomicDecAndLock(ref refcount, k.PamtLock, pfn))
        {
            return;
        }

        Page[]? pages = null;
        try
        {
            if (k.Module.PamtRemove(pfn, out var removed) is var err and not 0)
            {
                k.Warn($"TDX: PAMT.REMOVE failed for pfn 0x{pfn:x}: 0x{err:x}; leaking its PAMT pages");
                Volatile.Write(ref refcount, 1);
            }
            else
            {
                pages = removed;
            }
        }
        finally
        {
            k.PamtLock.Exit();
        }

        FreePamtPages(k, pages);
    }

    /// <summary>The size init_pamt_metadata() reserves for <paramref name="maxPfn"/>.</summary>
    protected abstract ulong InitSize(ulong maxPfn);

    /// <summary>The size free_pamt_metadata() depopulates for <paramref name="maxPfn"/>.</summary>
    protected abstract ulong TeardownSize(ulong maxPfn);

    /// <summary>apply_to_existing_page_range() over the area with the variant's depopulate callback.</summary>
    protected abstract int Depopulate(TdxKernel k, ulong start, ulong size);

    /// <summary>atomic_inc_not_zero().</summary>
    private static bool AtomicIncNotZero(ref int value)
    {
        for (int current = Volatile.Read(ref value); current != 0;)
        {
            int seen = Interlocked.CompareExchange(ref value, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    /// <summary>atomic_dec_and_lock(): decrements; true, with the lock held, exactly when the count reached 0.</summary>
    private static bool AtomicDecAndLock(ref int value, Lock lockObject, ulong pfn)
    {
        for (int current = Volatile.Read(ref value); current != 1;)
        {
            if (current <= 0)
            {
                throw new KernelBugException($"tdx_pamt_put: refcount of pfn 0x{pfn:x} underflows ({current})", pfn);
            }

            int seen = Interlocked.CompareExchange(ref value, current - 1, current);
            if (seen == current)
            {
                return false;
            }

            current = seen;
        }

        lockObject.Enter();
        if (Interlocked.Decrement(ref value) == 0)
        {
            return true;
        }

        lockObject.Exit();
        return false;
    }

    /// <summary>The two PAMT backing pages of one 2 MiB region, or null (nothing kept) when one cannot be allocated.</summary>
    private static Page[]? AllocPamtPages(TdxKernel k)
    {
        var first = k.Allocator.AllocPage(Gfp.Kernel | Gfp.Zero);
        if (first is null)
        {
            return null;
        }

        var second = k.Allocator.AllocPage(Gfp.Kernel | Gfp.Zero);
        if (second is null)
        {
            k.Allocator.FreePage(first);
            return null;
        }

        return [first, second];
    }

    private static void FreePamtPages(TdxKernel k, Page[]? pages)
    {
        foreach (var page in pages ?? [])
        {
            k.Allocator.FreePage(page);
        }
    }
}
