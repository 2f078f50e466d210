using PamtGen.Generator.Probe;
using static PamtGen.Pgtable;

namespace PamtGen.Generator.Tests;

/// <summary>
/// The model over tables of every shipped format: pages mapped through the walkers in the format's own entries are
/// dereferenced through the format, snapshots and reclaim read table entries as the format says, and a concatenated
/// stage-2 root is contiguous, aligned and indexed across all its tables.
/// </summary>
public class FormatModelTests
{
    public static TheoryData<string> Names => ProbeGeometries.Theory();

    [Theory]
    [MemberData(nameof(Names))]
    public void Pages_mapped_in_the_format_are_walked_dereferenced_snapshotted_and_reclaimed(string name)
    {
        var allocator = PageAllocator.Synthetic(4096, ProbeGeometries.GeometryOf(name).PageShift);
        var mm = ProbeGeometries.AddressSpaceOf(name, allocator);
        var g = mm.Geometry;

        // Four pages across a boundary of the level above the ptes, at the top of the translated window.
        ulong window = g.VirtualAddressBits == 64 ? 0 : 1UL << g.VirtualAddressBits;
        ulong start = window - g.Size(PageTableLevel.Pmd) - (2 * g.PageSize);
        Assert.Equal(0, ReferenceWalkers.ApplyToPageRange(mm, start, 4 * g.PageSize, Map, mm));
        for (int i = 0; i < 4; i++)
        {
            ulong addr = start + ((ulong)i * g.PageSize);
            mm.AtomicAt(addr + 8) = 100 + i;
            Assert.True(mm.TryGetEntry(PageTableLevel.Pte, addr, out ulong pte));
            Assert.True(g.IsLeafEntry(PageTableLevel.Pte, pte));
            Assert.Equal(100 + i, allocator.PfnToPage(g.LeafAddress(PageTableLevel.Pte, pte) >> g.PageShift).AtomicAt(8));
        }

        // Every table entry of the snapshot points, in the format's encoding, at an allocated table page.
        var snapshot = mm.Snapshot();
        Assert.Equal(4, snapshot.Count(e => e.Level == PageTableLevel.Pte));
        foreach (var entry in snapshot.Where(e => e.Level != PageTableLevel.Pte))
        {
            Assert.True(g.IsTableEntry(entry.Level, entry.Value), $"{entry}");
            Assert.Equal(PagePurpose.PageTable, allocator.PfnToPage(g.TableAddress(entry.Value) >> g.PageShift).Purpose);
        }

        Assert.Equal(0, ReferenceWalkers.ApplyToExistingPageRange(mm, start, 4 * g.PageSize, Unmap, mm));
        Assert.Equal(0, allocator.Stats.DataPages);
        long tables = allocator.Stats.PageTablePages;
        Assert.True(tables > g.RootTables);
        Assert.Equal(0, FreeEmptyTables(name, mm, start, 4 * g.PageSize)); // free_pgd_range() keeps tables that map more than the range
        Assert.Equal(tables - g.RootTables, FreeEmptyTables(name, mm, 0, window)); // the whole window: every empty table but the root
        Assert.Equal(g.RootTables, allocator.Stats.PageTablePages); // only the root is left
        Assert.Empty(mm.Snapshot());
    }

    [Fact]
    public void A_concatenated_root_is_contiguous_aligned_and_indexed_across_its_tables()
    {
        // The allocator's next PFN is odd: the root must skip it to start on a 2-page boundary, and the page it skipped is used next.
        var allocator = PageAllocator.Synthetic(256, 12, firstPfn: 0x101);
        var mm = new Arm64Stage2Ipa40.AddressSpace(allocator);
        Assert.Equal(2, mm.Pgd.Pages);
        Assert.Equal(0x102UL, mm.Pgd.Pfn);
        Assert.True(allocator.IsAllocated(0x103));
        var root = ModelMemory.Of(mm);
        Assert.Equal(0UL, root.Read(mm.Pgd, 1023, MemoryOrder.Once)); // 1024 entries, through the memory interface
        Assert.Throws<IndexOutOfRangeException>(() => root.Read(mm.Pgd, 1024, MemoryOrder.Once));
        Assert.Equal(2, allocator.Stats.PageTablePages);

        // IPA 2^39 and above is in the second table of the root (index 512 on).
        ulong high = (1UL << 39) + (5UL << 30);
        Assert.Equal(512 + 5, (int)Arm64Stage2Ipa40.PgdIndex(high));
        Assert.Equal(0, ReferenceWalkers.ApplyToPageRange(mm, high, 4096, Map, (Mm)mm));
        Assert.NotEqual(0UL, root.Read(mm.Pgd, 512 + 5, MemoryOrder.Once));
        Assert.Equal(0x101UL, new Arm64Stage2Ipa40.Entry(root.Read(mm.Pgd, 512 + 5, MemoryOrder.Once)).OutputAddress(PageTableLevel.Pud) >> 12); // the skipped page, reused
        mm.AtomicAt(high) = 7;
        Assert.Equal(7, mm.AtomicAt(high));

        Assert.Equal(0, ReferenceWalkers.ApplyToExistingPageRange(mm, high, 4096, Unmap, (Mm)mm));
        Assert.Equal(2, Arm64Stage2Ipa40.FreeEmptyTables(mm, 1UL << 39, 1UL << 39)); // the level-2 and level-3 tables under the second root table
        Assert.Equal(2, allocator.Stats.PageTablePages);
        allocator.FreePage(mm.Pgd);
        Assert.Equal(0, allocator.Stats.PageTablePages);
        Assert.False(allocator.IsAllocated(0x102) || allocator.IsAllocated(0x103));
    }

    [Fact]
    public void A_root_that_cannot_be_allocated_fails_the_address_space()
    {
        var allocator = PageAllocator.Synthetic(1, 12); // one page: no two contiguous
        Assert.Throws<InsufficientMemoryException>(() => new Arm64Stage2Ipa40.AddressSpace(allocator));
        Assert.Equal(0, allocator.Stats.PageTablePages);
    }

    private static int Map(PtePointer pte, ulong addr, Mm mm)
    {
        if (!PteNone(PtepGet(pte)))
        {
            return 0;
        }

        var page = mm.Allocator.AllocPage(Gfp.Zero);
        if (page is null)
        {
            return -Errno.ENOMEM;
        }

        SetPteAt(mm, addr, pte, new Pte(mm.Geometry.MakeLeafEntry(PageTableLevel.Pte, page.PhysAddr, ProbeGeometries.LeafFields(mm.Geometry))));
        return 0;
    }

    private static int Unmap(PtePointer pte, ulong addr, Mm mm)
    {
        var entry = PtepGet(pte);
        if (PteNone(entry))
        {
            return 0;
        }

        PteClear(mm, addr, pte);
        mm.Allocator.FreePage(mm.Allocator.PfnToPage(mm.Geometry.LeafAddress(PageTableLevel.Pte, entry.Value) >> mm.Geometry.PageShift));
        return 0;
    }

    /// <summary>The generated free_pgd_range() of each geometry (the generated address space's override calls it): the table pages it freed.</summary>
    private static int FreeEmptyTables(string name, Mm mm, ulong addr, ulong size)
    {
        Assert.Equal(ProbeGeometries.GeometryOf(name), mm.Geometry);
        Assert.NotEqual(typeof(Mm), mm.GetType()); // a generated AddressSpace, whose FreeEmptyTables is the generated one
        return mm.FreeEmptyTables(addr, size);
    }
}
