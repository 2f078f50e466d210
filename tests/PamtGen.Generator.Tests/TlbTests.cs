using PamtGen.Generator.Probe;
using static PamtGen.Pgtable;

namespace PamtGen.Generator.Tests;

/// <summary>
/// The TLB model: what it may hold after each change, invalidation by address, range and all, the gather, and strict
/// mode catching a break-before-make violation and a missing invalidation at the moment they happen.
/// </summary>
public class TlbTests
{
    private const ulong Va = 0x4000_0000;

    [Fact]
    public void An_unmapped_translation_may_stay_cached_until_its_range_is_invalidated()
    {
        var mm = new X86_64FourLevel.AddressSpace(PageAllocator.Synthetic(64));
        var tlb = mm.TrackTlb();
        var gather = new TlbGather();
        Assert.Equal(0, X86_64FourLevel.MapRange(mm, Va, 0x10_0000, 0x2000, X86_64FourLevel.Entry.Page(0).WithWritable(true)));
        Assert.Single(tlb.PossiblyCached(Va)); // the tables' own translation
        Assert.Equal(0, X86_64FourLevel.UnmapRange(mm, Va, 0x2000, gather));
        Assert.Equal([(Va, 0x1000UL), (Va + 0x1000, 0x1000UL)], gather.Ranges.Take(2)); // the pages; then the entries of the tables it freed
        Assert.Equal(0x10_0000UL, Assert.Single(tlb.PossiblyCached(Va)).Pa); // unmapped, but the TLB may still hold it
        tlb.InvalidateAddress(Va);
        Assert.Empty(tlb.PossiblyCached(Va));
        Assert.Single(tlb.PossiblyCached(Va + 0x1000));
        gather.Flush(mm);
        Assert.Empty(tlb.Stale);
        Assert.Empty(gather.Ranges);

        Assert.Equal(0, X86_64FourLevel.MapRange(mm, Va, 0x20_0000, 0x1000, X86_64FourLevel.Entry.Page(0)));
        Assert.Equal(0, X86_64FourLevel.UnmapRange(mm, Va, 0x1000, gather));
        tlb.InvalidateAll();
        Assert.Empty(tlb.Stale);
    }

    [Fact]
    public void Strict_mode_catches_a_break_before_make_violation()
    {
        // arm64: a valid page descriptor rewritten with another output address, with no invalid entry in between.
        var mm = new Arm64Granule4K.AddressSpace(PageAllocator.Synthetic(64));
        mm.TrackTlb(strict: true);
        Assert.Equal(0, Arm64Granule4K.MapRange(mm, Va, 0x10_0000, 0x1000, Arm64Granule4K.Entry.Page(0).WithAccessFlag(true)));
        var bug = Assert.Throws<KernelBugException>(() => ReferenceWalkers.ApplyToExistingPageRange(mm, Va, 0x1000, Remap, (Mm)mm));
        Assert.Contains("break-before-make: the Pte entry for 0x40000000 changed from 0x100403 to 0x200403", bug.Message, StringComparison.Ordinal);

        // A permission change needs no break-before-make (the Arm ARM): allowed, and the old permissions wait for an invalidation.
        Assert.Equal(0, ReferenceWalkers.ApplyToExistingPageRange(mm, Va, 0x1000, ReadOnly, (Mm)mm));
    }

    [Fact]
    public void Strict_mode_catches_a_missing_invalidation()
    {
        // x86 has no break-before-make rule, but a PTE cleared and set to another page without INVLPG leaves two translations.
        var mm = new X86_64FourLevel.AddressSpace(PageAllocator.Synthetic(64));
        var tlb = mm.TrackTlb(strict: true);
        Assert.Equal(0, X86_64FourLevel.MapRange(mm, Va, 0x10_0000, 0x1000, X86_64FourLevel.Entry.Page(0)));
        Assert.Equal(0, ReferenceWalkers.ApplyToExistingPageRange(mm, Va, 0x1000, Clear, (Mm)mm));
        var bug = Assert.Throws<KernelBugException>(() => ReferenceWalkers.ApplyToPageRange(mm, Va, 0x1000, Remap, (Mm)mm));
        Assert.Contains("missing TLB invalidation: 0x40000000 now maps 0x200000", bug.Message, StringComparison.Ordinal);

        // The same with the invalidation: fine. And a MapRange over an unmap whose gather was not flushed: caught too.
        tlb.InvalidateAddress(Va);
        Assert.Equal(0, ReferenceWalkers.ApplyToPageRange(mm, Va, 0x1000, Remap, (Mm)mm));
        var gather = new TlbGather();
        Assert.Equal(0, X86_64FourLevel.UnmapRange(mm, Va, 0x1000, gather));
        Assert.Throws<KernelBugException>(() => X86_64FourLevel.MapRange(mm, Va, 0x30_0000, 0x1000, X86_64FourLevel.Entry.Page(0)));
        gather.Flush(mm);
        Assert.Equal(0, X86_64FourLevel.MapRange(mm, Va, 0x30_0000, 0x1000, X86_64FourLevel.Entry.Page(0)));
    }

    [Fact]
    public void Split_and_collapse_go_through_break_before_make_where_the_format_requires_it()
    {
        // arm64: the block is made invalid and invalidated before the table goes in (and back); x86: written directly.
        var arm = new Arm64Granule4K.AddressSpace(PageAllocator.Synthetic(64));
        var armTlb = arm.TrackTlb(strict: true);
        Assert.Equal(0, Arm64Granule4K.MapRange(arm, Va, 0x20_0000, 0x20_0000, Arm64Granule4K.Entry.Page(0).WithAccessFlag(true)));
        var gather = new TlbGather();
        long before = armTlb.Invalidations;
        Assert.Equal(0, Arm64Granule4K.Split(arm, Va, PageTableLevel.Pmd, gather));
        Assert.Equal(before + 1, armTlb.Invalidations);
        Assert.Empty(gather.Ranges); // the break invalidated it already
        Assert.Equal(0, Arm64Granule4K.Collapse(arm, Va, PageTableLevel.Pmd, gather));
        Assert.Equal(before + 2, armTlb.Invalidations);

        var x86 = new X86_64FourLevel.AddressSpace(PageAllocator.Synthetic(64));
        var x86Tlb = x86.TrackTlb(strict: true);
        Assert.Equal(0, X86_64FourLevel.MapRange(x86, Va, 0x20_0000, 0x20_0000, X86_64FourLevel.Entry.Page(0)));
        before = x86Tlb.Invalidations;
        Assert.Equal(0, X86_64FourLevel.Split(x86, Va, PageTableLevel.Pmd, gather));
        Assert.Equal(before, x86Tlb.Invalidations);
        Assert.Equal([(Va, 0x20_0000UL)], gather.Ranges); // the block's range, for the caller's one flush
        Assert.Empty(x86Tlb.Stale); // the pages translate as the block did: nothing different may be cached
    }

    [Fact]
    public void A_stale_translation_is_refused_only_where_break_before_make_would_be()
    {
        // arm64: a page cleared and written again with no invalidation in between. The same page with other permissions
        // may meet the old translation in the TLB (the Arm ARM needs no break for it); another memory type may not.
        var mm = new Arm64Granule4K.AddressSpace(PageAllocator.Synthetic(64));
        var tlb = mm.TrackTlb(strict: true);
        var normal = Arm64Granule4K.Entry.Page(0x10_0000).WithAccessFlag(true).WithAttrIndx(0);
        Assert.Equal(0, Arm64Granule4K.MapRange(mm, Va, 0x10_0000, 0x1000, Arm64Granule4K.Entry.Page(0).WithAccessFlag(true).WithAttrIndx(0)));
        Assert.Equal(0, ReferenceWalkers.ApplyToExistingPageRange(mm, Va, 0x1000, Clear, (Mm)mm));
        Assert.Equal(0, ReferenceWalkers.ApplyToPageRange(mm, Va, 0x1000, Write, ((Mm)mm, normal.WithAccessPermissions(2))));
        Assert.Single(tlb.Stale); // the writable translation, until an invalidation

        Assert.Equal(0, ReferenceWalkers.ApplyToExistingPageRange(mm, Va, 0x1000, Clear, (Mm)mm));
        var bug = Assert.Throws<KernelBugException>(() => ReferenceWalkers.ApplyToPageRange(mm, Va, 0x1000, Write, ((Mm)mm, normal.WithAttrIndx(1))));
        Assert.Contains("missing TLB invalidation: 0x40000000 now maps 0x100000 (fields 0x", bug.Message, StringComparison.Ordinal);

        // flush_tlb_kernel_range() is the invalidation of the break: then the new memory type goes in.
        long invalidations = tlb.Invalidations;
        FlushTlbKernelRange(mm, Va, Va + 0x1000);
        Assert.Equal(invalidations + 1, tlb.Invalidations);
        Assert.Empty(tlb.Stale);
        Assert.Equal(0, ReferenceWalkers.ApplyToPageRange(mm, Va, 0x1000, Write, ((Mm)mm, normal.WithAttrIndx(1))));
        FlushTlbKernelRange(mm, Va, Va); // an empty range invalidates nothing
        Assert.Equal(invalidations + 1, tlb.Invalidations);
        Assert.Throws<ArgumentOutOfRangeException>(() => FlushTlbKernelRange(mm, Va + 1, Va));
    }

    private static int Write(PtePointer pte, ulong addr, (Mm Mm, Arm64Granule4K.Entry Entry) data)
    {
        SetPteAt(data.Mm, addr, pte, data.Entry);
        return 0;
    }

    private static int Remap(PtePointer pte, ulong addr, Mm mm)
    {
        SetPteAt(mm, addr, pte, new Pte(mm.Geometry.MakeLeafEntry(PageTableLevel.Pte, 0x20_0000, mm.Geometry.MoveLeafFields(PageTableLevel.Pte, PtepGet(pte).Value, PageTableLevel.Pte))));
        return 0;
    }

    private static int ReadOnly(PtePointer pte, ulong addr, Mm mm)
    {
        SetPteAt(mm, addr, pte, new Arm64Granule4K.Entry(PtepGet(pte).Value).WithAccessPermissions(2));
        return 0;
    }

    private static int Clear(PtePointer pte, ulong addr, Mm mm)
    {
        if (!PteNone(PtepGet(pte)))
        {
            PteClear(mm, addr, pte);
        }

        return 0;
    }
}
