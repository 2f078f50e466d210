using PamtGen;
using PamtGen.MemoryMaps;

namespace TdxDpamt.Kernel;

/// <summary>
/// One simulated boot of a machine: its memory map, the page allocator over its RAM, init_mm with the vmalloc
/// space, the TDX module, and the globals of arch/x86/virt/vmx/tdx/tdx.c (max_pfn, pamt_refcounts, pamt_lock).
/// </summary>
public sealed class TdxKernel
{
    /// <summary>Boots the model of <paramref name="map"/>.</summary>
    public TdxKernel(MemoryMap map)
    {
        Map = map;
        MaxPfn = map.MaxPfn;
        Allocator = new PageAllocator(map.ForEachMemPfnRange());
        InitMm = new X86_64.AddressSpace(Allocator);
        Vmalloc = new VmallocSpace(InitMm);
    }

    /// <summary>The machine's memory map.</summary>
    public MemoryMap Map { get; }

    /// <summary>max_pfn.</summary>
    public ulong MaxPfn { get; }

    /// <summary>The page allocator over the machine's RAM.</summary>
    public PageAllocator Allocator { get; }

    /// <summary>init_mm, with the x86-64 4-level tables the generated <see cref="X86_64"/> declares.</summary>
    public X86_64.AddressSpace InitMm { get; }

    /// <summary>The vmalloc space of init_mm.</summary>
    public VmallocSpace Vmalloc { get; }

    /// <summary>The TDX module.</summary>
    public TdxModule Module { get; } = new();

    /// <summary>tdx_supports_dynamic_pamt(&amp;tdx_sysinfo).</summary>
    public bool SupportsDynamicPamt { get; set; } = true;

    /// <summary>pamt_refcounts: the refcount area's address, 0 (NULL) when there is none.</summary>
    public ulong PamtRefcounts { get; set; }

    /// <summary>pamt_lock: serialises the 0 -&gt; 1 and 1 -&gt; 0 transitions.</summary>
    public Lock PamtLock { get; } = new();

    /// <summary>The refcount pages the running alloc_pamt_refcount() call mapped, so a failed call can undo exactly those.</summary>
    public HashSet<ulong> PopulatedByThisCall { get; } = [];

    /// <summary>The kernel's WARN()s, in order.</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>WARN(): records the message, as the kernel logs it and goes on.</summary>
    public void Warn(string message)
    {
        lock (Warnings)
        {
            Warnings.Add(message);
        }
    }
}
