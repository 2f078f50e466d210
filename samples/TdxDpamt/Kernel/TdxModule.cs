using PamtGen;

namespace TdxDpamt.Kernel;

/// <summary>
/// The TDX module's side of Dynamic PAMT, simulated: PAMT.ADD takes the backing pages of one 2 MiB region,
/// PAMT.REMOVE gives them back. Either can be made to fail, to drive the kernel's error paths.
/// </summary>
public sealed class TdxModule
{
    /// <summary>A TDX module error code (TDX_OPERAND_BUSY and friends are non-zero 64-bit statuses).</summary>
    public const ulong TdxError = 0x8000_0200_0000_0000UL;

    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, Page[]> _pamt = new();

    /// <summary>Decides whether the next PAMT.ADD fails (given the 2 MiB region's first PFN); null: never.</summary>
    public Func<ulong, bool>? FailAdd { get; set; }

    /// <summary>Decides whether the next PAMT.REMOVE fails; null: never.</summary>
    public Func<ulong, bool>? FailRemove { get; set; }

    /// <summary>PAMT.ADD calls made.</summary>
    public long Adds { get; private set; }

    /// <summary>PAMT.REMOVE calls made.</summary>
    public long Removes { get; private set; }

    /// <summary>The 2 MiB regions that have PAMT backing now.</summary>
    public int BackedRegions
    {
        get
        {
            lock (_lock)
            {
                return _pamt.Count;
            }
        }
    }

    /// <summary>TDH.PHYMEM.PAMT.ADD: installs <paramref name="pages"/> as the PAMT of the 2 MiB region of <paramref name="pfn"/>; 0 or an error.</summary>
    public ulong PamtAdd(ulong pfn, Page[] pages)
    {
        ulong region = Region(pfn);
        lock (_lock)
        {
            Adds++;
            if (FailAdd?.Invoke(region) == true || _pamt.ContainsKey(region))
            {
                return TdxError;
            }

            _pamt.Add(region, pages);
            return 0;
        }
    }

    /// <summary>TDH.PHYMEM.PAMT.REMOVE: returns the region's PAMT pages to the kernel; 0 or an error (the pages stay with the module).</summary>
    public ulong PamtRemove(ulong pfn, out Page[] pages)
    {
        ulong region = Region(pfn);
        lock (_lock)
        {
            Removes++;
            pages = [];
            if (FailRemove?.Invoke(region) == true || !_pamt.Remove(region, out var backing))
            {
                return TdxError;
            }

            pages = backing;
            return 0;
        }
    }

    private static ulong Region(ulong pfn) => pfn & ~((1UL << X86_64.PfnsPerRefcountShift) - 1);
}
