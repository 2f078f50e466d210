namespace PamtGen;

/// <summary>The vm_struct flags the model distinguishes (include/linux/vmalloc.h).</summary>
[Flags]
public enum VmFlags
{
    /// <summary>No flag: address space reserved by get_vm_area() for the caller to map.</summary>
    None = 0,

    /// <summary>VM_ALLOC: the area's pages were allocated by vmalloc() and are freed by vfree().</summary>
    Alloc = 1 << 1,

    /// <summary>VM_SPARSE: address space only; the caller maps and unmaps pages itself (vm_area_map_pages()).</summary>
    Sparse = 1 << 13,
}

/// <summary>struct vm_struct: one reserved range of kernel virtual address space.</summary>
public sealed class VmStruct
{
    internal VmStruct(ulong addr, ulong size, ulong pageSize, VmFlags flags)
    {
        Addr = addr;
        Size = size;
        Flags = flags;
        GuardSize = pageSize;
    }

    /// <summary>vm_struct.addr: the first byte of the area.</summary>
    public ulong Addr { get; }

    /// <summary>get_vm_area_size(): the usable bytes, page-aligned, without the guard page.</summary>
    public ulong Size { get; }

    /// <summary>The unmapped guard page that follows the area (vm_struct.size counts it in the kernel).</summary>
    public ulong GuardSize { get; }

    /// <summary>vm_struct.flags.</summary>
    public VmFlags Flags { get; }

    /// <summary>The first byte after the area, guard page excluded.</summary>
    public ulong End => Addr + Size;

    /// <summary>vm_struct.pages: the pages vmalloc() allocated for the area (empty for other areas).</summary>
    public IReadOnlyList<Page> Pages => AllocatedPages;

    internal List<Page> AllocatedPages { get; } = [];

    /// <inheritdoc/>
    public override string ToString() => $"vm area [0x{Addr:x}-0x{End:x}) {Flags}";
}
