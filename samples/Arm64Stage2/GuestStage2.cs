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
    public ulong? Translate(ulong ipa)
    {
        if (!Mm.TryGetEntrySlot(PageTableLevel.Pte, ipa, out var table, out int index, out _))
        {
            return null;
        }

        var pte = new Pte(table.TableEntries[index]);
        return PtePresent(pte) ? (Host.PtePage(pte).PhysAddr | (ipa & (Stage2.PageSize - 1))) : null;
    }

    /// <summary>Maps a zeroed host page where the stage-2 PTE is still empty (a second map of the same IPA keeps the first page).</summary>
    [PteCallback]
    private static int MapHostPage(ref Pte pte, ulong ipa, GuestStage2 guest)
    {
        if (!PteNone(PtepGet(ref pte)))
        {
            return 0;
        }

        var page = guest.Host.AllocPage(Gfp.Kernel | Gfp.Zero);
        if (page is null)
        {
            return -Errno.ENOMEM;
        }

        SetPteAt(guest.Mm, ipa, ref pte, MkPte(page, PageKernel));
        return 0;
    }

    /// <summary>Clears a stage-2 PTE and frees the host page behind it.</summary>
    [PteCallback]
    private static int UnmapHostPage(ref Pte pte, ulong ipa, GuestStage2 guest)
    {
        var entry = PtepGet(ref pte);
        if (PteNone(entry))
        {
            return 0;
        }

        PteClear(guest.Mm, ipa, ref pte);
        guest.Host.FreePage(guest.Host.PtePage(entry));
        return 0;
    }
}
