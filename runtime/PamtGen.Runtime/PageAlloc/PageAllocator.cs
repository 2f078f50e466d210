using System.Text;

namespace PamtGen;

/// <summary>
/// The model's page allocator (mm/page_alloc.c plus the <c>mem_map</c> behind <c>pfn_to_page</c>).
/// PFNs come from RAM ranges; content memory exists only for allocated pages, and no state is kept
/// per PFN of the address space, so a model of a 4 PiB physical space costs memory in proportion to
/// the pages in use. Thread-safe. Freed PFNs are reused last-in first-out, as the per-CPU lists do.
/// </summary>
public sealed class PageAllocator
{
    /// <summary>The byte pages are filled with when allocated without <see cref="Gfp.Zero"/> (PAGE_POISON).</summary>
    public const byte PagePoison = 0xaa;

    private readonly Lock _lock = new();
    private readonly PfnRange[] _ram;
    private readonly Dictionary<ulong, Page> _allocated = new();

    /// <summary>
    /// pfn_to_page()'s fast path, read without the lock: the page last looked up at each PFN modulo its size, checked by
    /// its PFN (a miss takes the lock). FreePage clears a freed page's slot under the lock, so a freed page is never found.
    /// </summary>
    private readonly Page?[] _recent = new Page?[RecentSlots];
    private const int RecentSlots = 1024;
    private readonly Stack<ulong> _freed = new();
    private int _nextRange;
    private ulong _nextPfn;
    private long _dataPages, _tablePages, _peak, _peakData, _peakTables, _attempts, _failures, _frees;

    /// <summary>Creates an allocator that hands out PFNs from <paramref name="ramRanges"/> in ascending order.</summary>
    /// <param name="ramRanges">The RAM, as <c>[start, end)</c> PFN ranges (for example <see cref="MemoryMaps.MemoryMap.ForEachMemPfnRange"/>).</param>
    /// <param name="pageShift">PAGE_SHIFT of the pages handed out, 10 to 20.</param>
    public PageAllocator(IEnumerable<PfnRange> ramRanges, int pageShift = 12)
    {
        ArgumentNullException.ThrowIfNull(ramRanges);
        if (!GeometryRules.PageShiftValid(pageShift))
        {
            throw new ArgumentOutOfRangeException(nameof(pageShift), pageShift, $"PAGE_SHIFT must be {Geometry.MinPageShift} to {Geometry.MaxPageShift}");
        }

        PageShift = pageShift;
        _ram = ramRanges.Where(r => r.End > r.Start).OrderBy(r => r.Start).ToArray();
        for (int i = 1; i < _ram.Length; i++)
        {
            if (_ram[i].Start < _ram[i - 1].End)
            {
                throw new ArgumentException($"RAM ranges {_ram[i - 1]} and {_ram[i]} overlap", nameof(ramRanges));
            }
        }

        if (_ram.Length == 0)
        {
            throw new ArgumentException("no RAM: every range is empty", nameof(ramRanges));
        }

        _nextPfn = _ram[0].Start;
    }

    /// <summary>An allocator over one synthetic RAM range of <paramref name="pages"/> pages starting at PFN <paramref name="firstPfn"/>.</summary>
    public static PageAllocator Synthetic(ulong pages, int pageShift = 12, ulong firstPfn = 0x100) =>
        new([new PfnRange(firstPfn, firstPfn + pages)], pageShift);

    /// <summary>PAGE_SHIFT of this allocator's pages.</summary>
    public int PageShift { get; }

    /// <summary>PAGE_SIZE of this allocator's pages, in bytes.</summary>
    public int PageSize => 1 << PageShift;

    /// <summary>The RAM the allocator hands PFNs out of.</summary>
    public IReadOnlyList<PfnRange> Ram => _ram;

    /// <summary>The guest-physical space this allocator hands out pages of, or null for the model's own (host) memory.</summary>
    public GuestPhysicalSpace? Guest { get; internal init; }

    /// <summary>Where the content of a page allocated at a PFN lives (a guest page's host memory); null: a fresh array per allocation.</summary>
    internal Func<ulong, int, int, ulong[]>? Backing { get; init; }

    /// <summary>The fault-injection policy (fail_page_alloc); <see cref="FailPageAlloc.Never"/> by default.</summary>
    public FailPageAlloc FaultInjection { get; set; } = FailPageAlloc.Never;

    /// <summary>Fails the <paramref name="n"/>-th allocation attempt (1-based) from now, until the returned scope is disposed.</summary>
    public FaultInjectionScope FailNth(long n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        return new FaultInjectionScope(this, start => FailPageAlloc.Nth(start + n), n);
    }

    /// <summary>Lets the next <paramref name="n"/> allocation attempts succeed and fails every one after them, until the returned scope is disposed.</summary>
    public FaultInjectionScope FailAfter(long n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        return new FaultInjectionScope(this, start => FailPageAlloc.After(start + n), n + 1);
    }

    /// <summary>alloc_page(gfp): one data page, or null when the allocation fails.</summary>
    [AllocatesPage]
    public Page? AllocPage(Gfp gfp) => Alloc(PagePurpose.Data, PageSize / sizeof(ulong), (gfp & Gfp.Zero) != 0);

    /// <summary>
    /// pte_alloc_one_kernel() and its upper-level cousins: one zeroed page-table page of
    /// <paramref name="entries"/> entries, or null when the allocation fails.
    /// </summary>
    public Page? AllocPageTable(int entries) => Alloc(PagePurpose.PageTable, entries, zero: true);

    /// <summary>
    /// A concatenated root table (arm64 stage 2): <paramref name="tables"/> (2, 4, 8 or 16) zeroed page-table pages of
    /// <paramref name="entriesPerTable"/> entries each, physically contiguous and aligned to their total size, as one
    /// <see cref="Page"/> whose entries run across them; null when no such run is left. Freed as one.
    /// </summary>
    public Page? AllocPageTables(int tables, int entriesPerTable)
    {
        if (tables is not (2 or 4 or 8 or 16))
        {
            throw new ArgumentOutOfRangeException(nameof(tables), tables, "a root concatenates 2, 4, 8 or 16 tables");
        }

        return Alloc(PagePurpose.PageTable, tables * entriesPerTable, zero: true, tables);
    }

    /// <summary>__free_page(page): returns the page. Freeing a page twice, or one this allocator never handed out, is a kernel BUG.</summary>
    public void FreePage([TakesPageOwnership] Page page)
    {
        ArgumentNullException.ThrowIfNull(page);
        lock (_lock)
        {
            if (!ReferenceEquals(page.Allocator, this))
            {
                throw new KernelBugException($"__free_page of pfn 0x{page.Pfn:x}, a page this allocator never allocated", page.Pfn);
            }

            if (page.IsFreed || !_allocated.TryGetValue(page.Pfn, out var current) || !ReferenceEquals(current, page))
            {
                throw new KernelBugException($"__free_page of pfn 0x{page.Pfn:x}, which is already free (double free)", page.Pfn);
            }

            for (int i = page.Pages - 1; i >= 0; i--)
            {
                ulong pfn = page.Pfn + (ulong)i;
                _allocated.Remove(pfn);
                _freed.Push(pfn);
                if (ReferenceEquals(_recent[(int)(pfn & (RecentSlots - 1))], page))
                {
                    Volatile.Write(ref _recent[(int)(pfn & (RecentSlots - 1))], null);
                }
            }

            _frees++;
            if (page.Purpose == PagePurpose.Data)
            {
                _dataPages--;
            }
            else
            {
                _tablePages -= page.Pages;
            }

            page.Release();
        }
    }

    /// <summary>pfn_to_page(): the allocated page at <paramref name="pfn"/>; a BUG when that PFN is not allocated.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public Page PfnToPage(ulong pfn)
    {
        var recent = Volatile.Read(ref _recent[(int)(pfn & (RecentSlots - 1))]);
        return recent is not null && recent.Pfn == pfn ? recent : PfnToPageLocked(pfn);
    }

    private Page PfnToPageLocked(ulong pfn)
    {
        lock (_lock)
        {
            if (!_allocated.TryGetValue(pfn, out var page))
            {
                throw new KernelBugException($"pfn_to_page of pfn 0x{pfn:x}, which is not allocated", pfn);
            }

            Volatile.Write(ref _recent[(int)(pfn & (RecentSlots - 1))], page);
            return page;
        }
    }

    /// <summary>
    /// The page-table page that begins at physical address <paramref name="address"/>, or null when none does (not RAM, not
    /// allocated, a data page, not page-aligned, or inside a concatenated root): what a table entry's address names, for
    /// <see cref="ModelMemory.TableAt"/>. Never throws, whatever the address.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal Page? TableAt(ulong address)
    {
        ulong pfn = address >> PageShift;
        var recent = Volatile.Read(ref _recent[(int)(pfn & (RecentSlots - 1))]);
        if (recent is not null && recent.Pfn == pfn && recent.Purpose == PagePurpose.PageTable && (address & (ulong)(PageSize - 1)) == 0)
        {
            return recent;
        }

        return TableAtLocked(address, pfn);
    }

    private Page? TableAtLocked(ulong address, ulong pfn)
    {
        if ((address & (ulong)(PageSize - 1)) != 0)
        {
            return null;
        }

        lock (_lock)
        {
            if (!_allocated.TryGetValue(pfn, out var page) || page.Pfn != pfn || page.Purpose != PagePurpose.PageTable)
            {
                return null; // a data page is no table: its storage is laid out as bytes, a table's as one slot per entry
            }

            Volatile.Write(ref _recent[(int)(pfn & (RecentSlots - 1))], page);
            return page;
        }
    }

    /// <summary>pte_page(pte) for an x86-64 entry (<see cref="Pgtable"/>'s encoding): the page a PTE maps.</summary>
    public Page PtePage(Pte pte) => PfnToPage(Pgtable.PtePfn(pte));

    /// <summary>pte_page(pte) through a generated entry struct: the page at the output address of a PTE of any format.</summary>
    public Page PtePage<TEntry>(TEntry pte)
        where TEntry : struct, IPageTableEntry =>
        PfnToPage(pte.OutputAddress(PageTableLevel.Pte) >> PageShift);

    /// <summary>True when <paramref name="pfn"/> is allocated now.</summary>
    public bool IsAllocated(ulong pfn)
    {
        lock (_lock)
        {
            return _allocated.ContainsKey(pfn);
        }
    }

    /// <summary>A snapshot of the accounting.</summary>
    public AllocatorStats Stats
    {
        get
        {
            lock (_lock)
            {
                return new AllocatorStats(_dataPages, _tablePages, _peak, _peakData, _peakTables, _attempts, _failures, _frees);
            }
        }
    }

    /// <summary>The pages still allocated, by ascending PFN.</summary>
    public IReadOnlyList<LeakedPage> LeakReport()
    {
        lock (_lock)
        {
            return _allocated.OrderBy(p => p.Key).Select(p => new LeakedPage(p.Key, p.Value.Purpose)).ToArray();
        }
    }

    /// <summary>The leak report as text, one line per page still allocated, with a summary line first.</summary>
    public string FormatLeakReport()
    {
        var leaks = LeakReport();
        var text = new StringBuilder();
        text.Append(FormattableString.Invariant(
            $"{leaks.Count} page(s) still allocated: {leaks.Count(l => l.Purpose == PagePurpose.Data)} data, {leaks.Count(l => l.Purpose == PagePurpose.PageTable)} page-table\n"));
        foreach (var leak in leaks)
        {
            text.Append(FormattableString.Invariant($"  pfn 0x{leak.Pfn:x} ({(leak.Purpose == PagePurpose.Data ? "data" : "page table")})\n"));
        }

        return text.ToString();
    }

    private Page? Alloc(PagePurpose purpose, int words, bool zero, int pages = 1)
    {
        lock (_lock)
        {
            _attempts++;
            if (FaultInjection.ShouldFail(_attempts) || !(pages == 1 ? TryTakePfn(out ulong pfn) : TryTakeAligned(pages, out pfn)))
            {
                _failures++;
                return null;
            }

            var content = Backing?.Invoke(pfn, words, pages) ?? new ulong[words];
            if (zero && Backing is not null)
            {
                Array.Clear(content);
            }
            else if (!zero)
            {
                Array.Fill(content, 0x0101010101010101UL * PagePoison);
            }

            var page = new Page(this, pfn, purpose, content, pages);
            for (int i = 0; i < pages; i++)
            {
                _allocated.Add(pfn + (ulong)i, page);
            }

            if (purpose == PagePurpose.Data)
            {
                _peakData = Math.Max(_peakData, ++_dataPages);
            }
            else
            {
                _peakTables = Math.Max(_peakTables, _tablePages += pages);
            }

            _peak = Math.Max(_peak, _dataPages + _tablePages);
            return page;
        }
    }

    /// <summary>
    /// <paramref name="pages"/> contiguous PFNs aligned to their count, from the part of RAM never handed out (freed PFNs
    /// are single pages in no order); the PFNs skipped to reach the alignment go to the free list, to be reused first.
    /// </summary>
    private bool TryTakeAligned(int pages, out ulong pfn)
    {
        ulong count = (ulong)pages;
        for (; _nextRange < _ram.Length; _nextPfn = ++_nextRange < _ram.Length ? _ram[_nextRange].Start : _nextPfn)
        {
            ulong start = (_nextPfn + count - 1) & ~(count - 1);
            if (start >= _nextPfn && start + count <= _ram[_nextRange].End)
            {
                for (ulong skipped = start; skipped > _nextPfn; skipped--)
                {
                    _freed.Push(skipped - 1);
                }

                pfn = start;
                _nextPfn = start + count;
                return true;
            }
        }

        pfn = 0;
        return false;
    }

    private bool TryTakePfn(out ulong pfn)
    {
        if (_freed.TryPop(out pfn))
        {
            return true;
        }

        while (_nextRange < _ram.Length)
        {
            if (_nextPfn < _ram[_nextRange].End)
            {
                pfn = _nextPfn++;
                return true;
            }

            if (++_nextRange < _ram.Length)
            {
                _nextPfn = _ram[_nextRange].Start;
            }
        }

        pfn = 0;
        return false;
    }
}
