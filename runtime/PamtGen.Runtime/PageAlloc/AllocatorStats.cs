namespace PamtGen;

/// <summary>
/// A snapshot of the page allocator's accounting. Two snapshots are equal when the allocator did
/// the same work, which is what the differential tests compare.
/// </summary>
/// <param name="DataPages">Data pages allocated now.</param>
/// <param name="PageTablePages">Page-table pages allocated now.</param>
/// <param name="PeakPages">The most pages (of both purposes) allocated at once.</param>
/// <param name="PeakDataPages">The most data pages allocated at once.</param>
/// <param name="PeakPageTablePages">The most page-table pages allocated at once.</param>
/// <param name="Attempts">Allocation attempts, the number fault injection counts.</param>
/// <param name="Failures">Attempts that returned no page (injected, or out of RAM).</param>
/// <param name="Frees">Pages freed.</param>
public readonly record struct AllocatorStats(
    long DataPages,
    long PageTablePages,
    long PeakPages,
    long PeakDataPages,
    long PeakPageTablePages,
    long Attempts,
    long Failures,
    long Frees)
{
    /// <summary>Pages allocated now, of both purposes.</summary>
    public long AllocatedPages => DataPages + PageTablePages;
}

/// <summary>A page still allocated, as the leak report lists it.</summary>
public readonly record struct LeakedPage(ulong Pfn, PagePurpose Purpose);
