using PamtGen;
using static PamtGen.Pgtable;

namespace Arm64Stage2;

/// <summary>
/// A guest's stage-2 translation, in the shape of KVM's kvm_pgtable_stage2_map()/_unmap(): guest RAM is backed by
/// host pages mapped at its IPA, device ranges stay unmapped (a stage-2 fault), and unmapping frees the host pages.
/// </summary>
public sealed partial class GuestStage2
{
    /// <summary>A guest on a host with <paramref name="hostPages"/> pages of 64 KiB.</summary>
    public GuestStage2(ulong hostPages)
    {
        Host = PageAllocator.Synthetic(hostPages, Stage2.PageShift, firstPfn: 0x80000);
        Mm = new Stage2.AddressSpace(Host);
    }

    /// <summary>The host's page allocator.</summary>
    public PageAllocator Host { get; }

    /// <summary>The stage-2 tables (the VTTBR_EL2 root and below).</summary>
    public Stage2.AddressSpace Mm { get; }

    /// <summary>kvm_pgtable_stage2_map(): backs [ipa, ipa + size) with zeroed host pages; 0, -EINVAL or -ENOMEM.</summary>
    public int MapRam(ulong ipa, ulong size)
    {
        var map = new MapHostPageFn(this);
        return Stage2.ApplyToPageRange(Mm, ipa, size, ref map);
    }

    /// <summary>kvm_pgtable_stage2_unmap(): unmaps [ipa, ipa + size) and frees the host pages behind it.</summary>
    public int Unmap(ulong ipa, ulong size)
    {
        var unmap = new UnmapHostPageFn(this);
        return Stage2.ApplyToExistingPageRange(Mm, ipa, size, ref unmap);
    }

    /// <summary>The host physical address behind <paramref name="ipa"/>, or null on a stage-2 fault (nothing mapped).</summary>
    public ulong? Translate(ulong ipa) =>
        Descriptor(ipa) is { } page ? page.OutputAddress(PageTableLevel.Pte) | (ipa & (Stage2.PageSize - 1)) : null;

    /// <summary>The level-3 page descriptor that maps <paramref name="ipa"/>, or null when none is valid.</summary>
    public Stage2.Entry? Descriptor(ulong ipa)
    {
        if (!Mm.TryGetEntry(PageTableLevel.Pte, ipa, out ulong value))
        {
            return null;
        }

        var entry = new Stage2.Entry(value);
        return entry.IsValid(PageTableLevel.Pte) ? entry : null;
    }

    /// <summary>
    /// Maps a zeroed host page where the stage-2 descriptor is still invalid (a second map of the same IPA keeps the first
    /// page): Normal write-back memory (MemAttr 0b1111), read/write (S2AP 0b11), inner shareable, access flag set.
    /// </summary>
    [PteCallback]
    private static int MapHostPage(PtePointer pte, ulong ipa, GuestStage2 guest)
    {
        Stage2.Entry entry = PtepGet(pte);
        if (entry.IsValid(PageTableLevel.Pte))
        {
            return 0;
        }

        var page = guest.Host.AllocPage(Gfp.Kernel | Gfp.Zero);
        if (page is null)
        {
            return -Errno.ENOMEM;
        }

        SetPteAt(guest.Mm, ipa, pte, Stage2.Entry.Page(page.PhysAddr).WithMemAttr(0xf).WithS2AccessPermissions(3).WithShareability(3).WithAccessFlag(true));
        return 0;
    }

    /// <summary>Invalidates a stage-2 descriptor and frees the host page behind it.</summary>
    [PteCallback]
    private static int UnmapHostPage(PtePointer pte, ulong ipa, GuestStage2 guest)
    {
        Stage2.Entry entry = PtepGet(pte);
        if (!entry.IsValid(PageTableLevel.Pte))
        {
            return 0;
        }

        PteClear(guest.Mm, ipa, pte);
        guest.Host.FreePage(guest.Host.PtePage(entry));
        return 0;
    }
}
