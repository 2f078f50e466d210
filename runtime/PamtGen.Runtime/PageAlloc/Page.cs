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
    private ulong[]? _words;

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
    public bool IsFreed => _words is null;

    /// <summary>page_to_phys(): the physical address of the first byte.</summary>
    public ulong PhysAddr
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Pfn << Allocator.PageShift;
    }

    /// <summary>The page's content as 64-bit words; a BUG after the page was freed.</summary>
    internal ulong[] Words
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _words ?? UseAfterFree();
    }

    /// <summary>
    /// The entry slots of a page-table page, one 64-bit slot per entry whatever the entry size; for the
    /// generated walkers (the kernel reaches them through pXd_offset()).
    /// </summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Advanced)]
    public Span<ulong> TableEntries
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Words;
    }

    /// <summary>page_address(): the page's bytes (a data page only).</summary>
    public Span<byte> Bytes => MemoryMarshal.AsBytes(Words.AsSpan());

    /// <summary>
    /// The <c>atomic_t</c> at <paramref name="byteOffset"/> in the page, as a reference usable with
    /// <see cref="Interlocked"/>. The offset must be 4-byte aligned and inside the page.
    /// </summary>
    public ref int AtomicAt(int byteOffset)
    {
        var words = Words;
        if ((uint)byteOffset > (uint)(words.Length * sizeof(ulong) - sizeof(int)) || (byteOffset & 3) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(byteOffset), byteOffset, "an atomic_t is 4-byte aligned and inside the page");
        }

        ref int first = ref Unsafe.As<ulong, int>(ref MemoryMarshal.GetArrayDataReference(words));
        return ref Unsafe.Add(ref first, byteOffset >> 2);
    }

    internal void Release() => _words = null;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong[] UseAfterFree() => throw new KernelBugException($"use of pfn 0x{Pfn:x} after __free_page", Pfn);

    /// <inheritdoc/>
    public override string ToString() => $"page pfn 0x{Pfn:x} ({Purpose}{(IsFreed ? ", freed" : "")})";
}
