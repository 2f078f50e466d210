using PamtGen.CompilerServices;

namespace PamtGen;

// The operations of an address space as instance members, so that code written for any geometry needs no set of
// delegates per geometry: a generated address space (X86_64.AddressSpace) overrides the walks with its geometry's
// unrolled ones; any other runs the runtime's one walk. Block mapping is the runtime's for every geometry.
public partial class Mm
{
    /// <summary>
    /// apply_to_page_range() on this address space (docs/KERNEL.md section 3): <paramref name="fn"/> for every PTE of
    /// [<paramref name="addr"/>, +<paramref name="size"/>), allocating missing tables; the first error stops it and nothing
    /// is undone. A generated address space runs its geometry's unrolled walker.
    /// </summary>
    public virtual int ApplyToPageRange<TFn>(ulong addr, ulong size, ref TFn fn)
        where TFn : struct, IPteFn => ReferenceWalkers.ApplyToPageRange(this, addr, size, ref fn, create: true);

    /// <summary>apply_to_existing_page_range() on this address space: no allocation, <paramref name="fn"/> only for PTEs that are not none.</summary>
    public virtual int ApplyToExistingPageRange<TFn>(ulong addr, ulong size, ref TFn fn)
        where TFn : struct, IPteFn => ReferenceWalkers.ApplyToPageRange(this, addr, size, ref fn, create: false);

    /// <summary>
    /// apply_to_page_range(), all or nothing: on an error of <paramref name="fn"/> or -ENOMEM, <paramref name="undo"/> runs for
    /// every PTE the walk visited, last first, and the tables the walk installed are freed, so the tables and the allocator
    /// hold what they held before.
    /// </summary>
    public virtual int ApplyToPageRangeTransactional<TFn, TUndo>(ulong addr, ulong size, ref TFn fn, ref TUndo undo)
        where TFn : struct, IPteFn
        where TUndo : struct, IPteFn
    {
        ulong end = addr + size;
        if (addr >= end || !Geometry.InOneWindow(addr, end))
        {
            return -Errno.EINVAL;
        }

        var memory = ModelMemory.Of(this);
        return GeneratedWalkers.ApplyTransactional<ReferenceApply, TFn, TUndo, ModelMemory>(this, addr, end, ref fn, ref undo, ref memory);
    }

    /// <summary>walk_page_range_novma() on this address space, with the callbacks <typeparamref name="TOps"/> declares.</summary>
    public virtual int WalkPageRange<TOps>(ulong start, ulong end, ref TOps ops)
        where TOps : struct, IPageWalkOps
    {
        var adapter = new StructWalkOps<TOps>(ops);
        var memory = ModelMemory.Of(this);
        int err = ReferenceWalkers.WalkPageRange(this, start, end, ref adapter, ref memory);
        ops = adapter.Ops;
        return err;
    }

    /// <summary>free_pgd_range() for a kernel range: frees every table in it that holds no entry; the number freed, or -EINVAL.</summary>
    public virtual int FreeEmptyTables(ulong addr, ulong size)
    {
        var memory = ModelMemory.Of(this);
        return ReferenceWalkers.FreeEmptyTables(this, addr, size, ref memory);
    }

    /// <summary><see cref="BlockMapping.MapRange(Mm, ulong, ulong, ulong, ulong, MapRangeOptions, TlbGather?)"/> on this address space.</summary>
    public int MapRange(ulong va, ulong pa, ulong size, ulong attributes, MapRangeOptions options = default, TlbGather? gather = null) =>
        BlockMapping.MapRange(this, va, pa, size, attributes, options, gather);

    /// <summary><see cref="BlockMapping.MapRange(Mm, ulong, ulong, ulong, ulong, out Refusal, MapRangeOptions, TlbGather?)"/> on this address space.</summary>
    public int MapRange(ulong va, ulong pa, ulong size, ulong attributes, out Refusal refusal, MapRangeOptions options = default, TlbGather? gather = null) =>
        BlockMapping.MapRange(this, va, pa, size, attributes, out refusal, options, gather);

    /// <summary><see cref="BlockMapping.UnmapRange(Mm, ulong, ulong, TlbGather?)"/> on this address space.</summary>
    public int UnmapRange(ulong va, ulong size, TlbGather? gather = null) => BlockMapping.UnmapRange(this, va, size, gather);

    /// <summary><see cref="BlockMapping.UnmapRange(Mm, ulong, ulong, out Refusal, TlbGather?)"/> on this address space.</summary>
    public int UnmapRange(ulong va, ulong size, out Refusal refusal, TlbGather? gather = null) => BlockMapping.UnmapRange(this, va, size, out refusal, gather);

    /// <summary><see cref="BlockMapping.Split(Mm, ulong, PageTableLevel, TlbGather?)"/> on this address space.</summary>
    public int Split(ulong va, PageTableLevel level, TlbGather? gather = null) => BlockMapping.Split(this, va, level, gather);

    /// <summary><see cref="BlockMapping.Split(Mm, ulong, PageTableLevel, out Refusal, TlbGather?)"/> on this address space.</summary>
    public int Split(ulong va, PageTableLevel level, out Refusal refusal, TlbGather? gather = null) => BlockMapping.Split(this, va, level, out refusal, gather);

    /// <summary><see cref="BlockMapping.Collapse(Mm, ulong, PageTableLevel, TlbGather?)"/> on this address space.</summary>
    public int Collapse(ulong va, PageTableLevel level, TlbGather? gather = null) => BlockMapping.Collapse(this, va, level, gather);

    /// <summary><see cref="BlockMapping.Collapse(Mm, ulong, PageTableLevel, out Refusal, TlbGather?)"/> on this address space.</summary>
    public int Collapse(ulong va, PageTableLevel level, out Refusal refusal, TlbGather? gather = null) => BlockMapping.Collapse(this, va, level, out refusal, gather);

    /// <summary>The runtime's apply walk, for the one transactional procedure.</summary>
    private readonly struct ReferenceApply : IApplyWalk
    {
        public static int Apply<TFn, TMemory>(Mm mm, ulong addr, ulong end, ref TFn fn, ref TMemory memory, bool create, Journal? journal)
            where TFn : struct, IPteFn
            where TMemory : struct, IPageTableMemory =>
            ReferenceWalkers.ApplyToPageRange(mm, addr, end - addr, ref fn, ref memory, create, journal);
    }
}
