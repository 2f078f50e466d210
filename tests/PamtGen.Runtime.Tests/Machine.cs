namespace PamtGen.Runtime.Tests;

/// <summary>A small simulated kernel for walker tests: an allocator, init_mm, and a base address in its vmalloc space.</summary>
internal sealed class Machine
{
    public Machine(Geometry geometry, ulong pages = 1 << 16)
    {
        Geometry = geometry;
        Allocator = PageAllocator.Synthetic(pages, geometry.PageShift);
        Mm = new Mm(geometry, Allocator);
        Base = new VmallocSpace(Mm).VmallocStart;
    }

    public Geometry Geometry { get; }

    public PageAllocator Allocator { get; }

    public Mm Mm { get; }

    /// <summary>An address aligned to the top level's size, in the kernel half.</summary>
    public ulong Base { get; }

    public ulong P => Geometry.PageSize;

    public ulong PmdSize => Geometry.Size(PageTableLevel.Pmd);

    /// <summary>Maps a fresh zeroed data page at <paramref name="addr"/> (allocating tables as needed).</summary>
    public Page Map(ulong addr)
    {
        Page? page = null;
        int err = ReferenceWalkers.ApplyToPageRange(Mm, addr, P, (PtePointer pte, ulong a, Machine m) =>
        {
            page = m.Allocator.AllocPage(Gfp.Zero)!;
            Pgtable.SetPteAt(m.Mm, a, pte, Pgtable.MkPte(page, Pgtable.PageKernel));
            return 0;
        }, this);
        Assert.Equal(0, err);
        return page!;
    }

    /// <summary>A callback that records each (addr, pte value) it is called with and returns what <paramref name="result"/> says.</summary>
    public static PteFn<List<(ulong Addr, ulong Value)>> Recorder(Func<int, ulong, int>? result = null) =>
        (PtePointer pte, ulong addr, List<(ulong Addr, ulong Value)> calls) =>
        {
            calls.Add((addr, Pgtable.PtepGet(pte).Value));
            return result?.Invoke(calls.Count, addr) ?? 0;
        };

    public static IEnumerable<ulong> Pages(ulong start, int count, ulong pageSize) =>
        Enumerable.Range(0, count).Select(i => start + (ulong)i * pageSize);
}
