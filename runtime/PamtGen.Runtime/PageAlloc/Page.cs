using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PamtGen;

/// <summary>
/// One allocated physical page (<c>struct page</c>). Its content exists only while it is
/// allocated; after <see cref="PageAllocator.FreePage"/> any use of it is a kernel BUG.
/// Data pages hold <c>PAGE_SIZE</c> bytes; page-table pages hold one 64-bit slot per entry
/// (4-byte entries are range-checked when written, so one layout serves both entry sizes).
/// </summary>
public sealed class Page
{
    /// <summary>What a freed page's storage becomes: empty, so that any access through a stale reference fails its bounds check.</summary>
    private static readonly ulong[] s_freed = [];

    private ulong[] _words;

    internal Page(PageAllocator allocator, ulong pfn, PagePurpose purpose, ulong[] words, int pages = 1)
    {
        Allocator = allocator;
        Pfn = pfn;
        Purpose = purpose;
        _words = words;
        Pages = pages;
    }

    /// <summary>The physically contiguous pages of the allocation: 1, or the tables of a concatenated root (from <see cref="PageAllocator.AllocPageTables"/>).</summary>
    public int Pages { get; }

    /// <summary>The allocator (the model's <c>mem_map</c>) this page belongs to.</summary>
    public PageAllocator Allocator { get; }

    /// <summary>page_to_pfn(): the page frame number.</summary>
    public ulong Pfn { get; }

    /// <summary>What the page was allocated for; it is accounted under that purpose.</summary>
    public PagePurpose Purpose { get; }

    /// <summary>True once the page has been freed.</summary>
    public bool IsFreed => ReferenceEquals(_words, s_freed);

    /// <summary>page_to_phys(): the physical address of the first byte.</summary>
    public ulong PhysAddr
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Pfn << Allocator.PageShift;
    }

    /// <summary>
    /// The page's content as 64-bit words; a BUG after the page was freed. A page-table page keeps one slot per entry
    /// whatever the entry size, and only <see cref="ModelMemory"/> reads or writes those slots.
    /// </summary>
    internal ulong[] Words
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            ulong[] words = _words;
            if (words.Length == 0)
            {
                ThrowUseAfterFree(this);
            }

            return words;
        }
    }

    /// <summary>
    /// The storage itself, unchecked: empty once the page is freed, so an access at any index fails. For
    /// <see cref="ModelMemory"/>'s entry accesses, whose one index check covers both a bad index and a freed page and
    /// leaves the array a field load the JIT can hoist out of a loop over the table.
    /// </summary>
    internal ulong[] Storage
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _words;
    }

    /// <summary>
    /// page_address(): the page's bytes; a data page only. A page-table page is read and written entry by entry through the
    /// memory its tables live in (<see cref="IPageTableMemory"/>), never around it, so this is an error for one.
    /// </summary>
    public Span<byte> Bytes => MemoryMarshal.AsBytes(DataWords().AsSpan());

    /// <summary>
    /// The <c>atomic_t</c> at <paramref name="byteOffset"/> in the page, as a reference usable with
    /// <see cref="Interlocked"/>. The offset must be 4-byte aligned and inside the page.
    /// </summary>
    public ref int AtomicAt(int byteOffset)
    {
        var words = DataWords();
        if ((uint)byteOffset > (uint)(words.Length * sizeof(ulong) - sizeof(int)) || (byteOffset & 3) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(byteOffset), byteOffset, "an atomic_t is 4-byte aligned and inside the page");
        }

        ref int first = ref Unsafe.As<ulong, int>(ref MemoryMarshal.GetArrayDataReference(words));
        return ref Unsafe.Add(ref first, byteOffset >> 2);
    }

    internal void Release() => _words = s_freed;

    /// <summary>The content of a data page; a page-table page's is reached only through its memory.</summary>
    private ulong[] DataWords() => Purpose == PagePurpose.PageTable
        ? throw new InvalidOperationException($"pfn 0x{Pfn:x} is a page-table page: its entries are read and written through an IPageTableMemory (ModelMemory), not as bytes")
        : Words;

    /// <summary>
    /// The BUG of touching a freed page. Not NoInlining: a method that only throws is one the JIT marks as never
    /// returning, so the block calling it is cold and a loop containing it can still have its loads hoisted.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    internal static void ThrowUseAfterFree(Page page) => throw UseAfterFree(page);

    internal static KernelBugException UseAfterFree(Page page) => new($"use of pfn 0x{page.Pfn:x} after __free_page", page.Pfn);

    /// <inheritdoc/>
    public override string ToString() => $"page pfn 0x{Pfn:x} ({Purpose}{(IsFreed ? ", freed" : "")})";
}
