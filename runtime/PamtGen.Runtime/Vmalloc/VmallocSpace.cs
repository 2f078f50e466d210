namespace PamtGen;

/// <summary>
/// The vmalloc address space of the kernel mm (mm/vmalloc.c): reserves areas with a guard page
/// after each, lowest address first, maps them densely (vmalloc) or leaves them to the caller
/// (VM_SPARSE), and unmaps them on vfree(). Page-table pages under the space are never freed,
/// as in the kernel. Thread-safe for area bookkeeping; the mappings follow the walkers' rules.
/// </summary>
public sealed class VmallocSpace
{
    private readonly Lock _lock = new();
    private readonly SortedList<ulong, VmStruct> _areas = new();

    /// <summary>
    /// A vmalloc space over <paramref name="mm"/>. Without <paramref name="start"/>/<paramref name="end"/> it is an
    /// eighth of the virtual address space in the kernel half (on x86-64 4-level: 0xffffc00000000000, 32 TiB).
    /// </summary>
    public VmallocSpace(Mm mm, ulong? start = null, ulong? end = null)
    {
        ArgumentNullException.ThrowIfNull(mm);
        Mm = mm;
        var (defaultStart, defaultEnd) = DefaultWindow(mm.Geometry);
        VmallocStart = start ?? defaultStart;
        VmallocEnd = end ?? defaultEnd;
        ulong pageMask = mm.Geometry.PageSize - 1;
        if ((VmallocStart & pageMask) != 0 || (VmallocEnd & pageMask) != 0 || VmallocEnd <= VmallocStart)
        {
            throw new ArgumentException($"[0x{VmallocStart:x}, 0x{VmallocEnd:x}) is not a page-aligned, non-empty window");
        }
    }

    /// <summary>The kernel mm (init_mm) the areas are mapped in.</summary>
    public Mm Mm { get; }

    /// <summary>VMALLOC_START.</summary>
    public ulong VmallocStart { get; }

    /// <summary>VMALLOC_END (exclusive).</summary>
    public ulong VmallocEnd { get; }

    /// <summary>The areas reserved now, by address.</summary>
    public IReadOnlyList<VmStruct> Areas
    {
        get
        {
            lock (_lock)
            {
                return _areas.Values.ToArray();
            }
        }
    }

    /// <summary>get_vm_area(size, flags): reserves page-aligned address space, no pages; null when <paramref name="size"/> is 0 or no room is left.</summary>
    public VmStruct? GetVmArea(ulong size, VmFlags flags)
    {
        ulong pageSize = Mm.Geometry.PageSize;
        if (size == 0 || size > ulong.MaxValue - 2 * pageSize)
        {
            return null;
        }

        ulong aligned = (size + pageSize - 1) & ~(pageSize - 1);
        lock (_lock)
        {
            // First fit from the bottom, as alloc_vmap_area() searches; each area is followed by its guard page.
            ulong candidate = VmallocStart;
            foreach (var area in _areas.Values)
            {
                if (Fits(candidate, aligned + pageSize, area.Addr))
                {
                    break;
                }

                candidate = area.End + area.GuardSize;
            }

            if (!Fits(candidate, aligned + pageSize, VmallocEnd))
            {
                return null;
            }

            var reserved = new VmStruct(candidate, aligned, pageSize, flags);
            _areas.Add(candidate, reserved);
            return reserved;
        }
    }

    /// <summary>find_vm_area(addr): the area that starts at <paramref name="addr"/>, or null.</summary>
    public VmStruct? FindVmArea(ulong addr)
    {
        lock (_lock)
        {
            return _areas.GetValueOrDefault(addr);
        }
    }

    /// <summary>
    /// __vmalloc(size, gfp): reserves an area and allocates and maps every page of it (the dense layout).
    /// Returns the address, or 0 when a page or a page table cannot be allocated, after undoing what it did.
    /// </summary>
    public ulong Vmalloc(ulong size, Gfp gfp = Gfp.Kernel)
    {
        var area = GetVmArea(size, VmFlags.Alloc);
        if (area is null)
        {
            return 0;
        }

        int err = ReferenceWalkers.ApplyToPageRange(Mm, area.Addr, area.Size, MapNewPage, (this, area, gfp));
        if (err != 0)
        {
            Vfree(area.Addr); // frees the pages mapped so far, as __vmalloc_area_node()'s failure path does
            return 0;
        }

        return area.Addr;
    }

    /// <summary>
    /// vfree(addr): unmaps the whole area and frees the pages vmalloc() allocated for it. Pages a caller
    /// mapped into a VM_SPARSE area are unmapped but not freed: if the caller did not free them first they
    /// are leaked, and the allocator's leak report lists them. vfree(0) does nothing. Freeing an address
    /// that starts no area is a BUG (the kernel WARNs and leaks).
    /// </summary>
    public void Vfree(ulong addr)
    {
        if (addr == 0)
        {
            return;
        }

        VmStruct? area;
        lock (_lock)
        {
            if (!_areas.Remove(addr, out area))
            {
                throw new KernelBugException($"Trying to vfree() nonexistent vm area (0x{addr:x})");
            }
        }

        // vunmap_range(): clear every PTE of the area, never allocating a table.
        ReferenceWalkers.ApplyToExistingPageRange(Mm, area.Addr, area.Size, ClearPte, Mm);
        foreach (var page in area.AllocatedPages)
        {
            Mm.Allocator.FreePage(page);
        }

        area.AllocatedPages.Clear();
    }

    private static int MapNewPage(PtePointer pte, ulong addr, (VmallocSpace Space, VmStruct Area, Gfp Gfp) data)
    {
        // vmap_pages_pte_range(): a PTE already there is a bug of the caller's, refused before a page is allocated for it.
        if (!Pgtable.PteNone(Pgtable.PtepGet(pte)))
        {
            return -Errno.EBUSY;
        }

        var page = data.Space.Mm.Allocator.AllocPage(data.Gfp);
        if (page is null)
        {
            return -Errno.ENOMEM;
        }

        data.Area.AllocatedPages.Add(page);
        Pgtable.SetPteAt(data.Space.Mm, addr, pte, new Pte(data.Space.Mm.Geometry.MakeKernelPageEntry(page.PhysAddr))); // mk_pte(page, PAGE_KERNEL) in the format
        return 0;
    }

    private static int ClearPte(PtePointer pte, ulong addr, Mm mm)
    {
        if (Pgtable.PteNone(Pgtable.PtepGet(pte)))
        {
            return 0; // vunmap_pte_range() finds only populated PTEs here; the check says so rather than assuming it
        }

        Pgtable.PteClear(mm, addr, pte);
        return 0;
    }

    /// <summary>True when <paramref name="length"/> bytes from <paramref name="start"/> end at or before <paramref name="limit"/>, without wrapping.</summary>
    private static bool Fits(ulong start, ulong length, ulong limit) => start + length >= start && start + length <= limit;

    private static (ulong Start, ulong End) DefaultWindow(Geometry geometry)
    {
        int bits = geometry.VirtualAddressBits;
        ulong start = (1UL << (bits - 1)) + (1UL << (bits - 2)); // three quarters up the address space
        if (bits < 64 && bits > 32)
        {
            start |= ~0UL << bits; // 64-bit kernels: the upper half is sign-extended
        }

        return (start, start + (1UL << (bits - 3)));
    }
}
