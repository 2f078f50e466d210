using System.Collections.Immutable;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;
using PamtGen.Generator.Analyzers;

namespace PamtGen.Generator.Tests.Analyzers;

/// <summary>
/// Real kernel pte_fn_t callbacks, callers of apply_to_page_range() and apply_to_existing_page_range() across mm/,
/// arch/ and drivers/, and page-table walker visitors with the same job (KVM's stage-2 walkers, RISC-V's pageattr
/// pte_entry), ported line for line to the runtime API (kernel helpers in C# casing; arm64 entries through the arm64
/// formats' generated structs; what the model has no counterpart for, such as lazy-MMU mode, is a comment in its place). Every PamtGen analyzer runs
/// on each; the markup is the whole expected set, and the reason says why. Correct callbacks get nothing.
/// </summary>
public class KernelCallbackCorpusTests
{
    private const string Usings = "using PamtGen;\nusing static PamtGen.Pgtable;\n\n";

    /// <summary>(kernel version, file, function; the reason for the expected diagnostics; the port with its markup).</summary>
    public static TheoryData<string, string, string> Corpus => new()
    {
        {
            "v6.6 mm/kasan/shadow.c kasan_populate_vmalloc_pte",
            "none: the double-checked populate (unlocked check, allocate, check again under the lock, free if filled meanwhile)",
            """
            public static class KasanPopulate
            {
                public const int KasanVmallocInvalid = 0xF8;

                public static int kasan_populate_vmalloc_pte(PtePointer ptep, ulong addr, Mm unused)
                {
                    Page? page;
                    Pte pte;

                    if (!PteNone(PtepGet(ptep)))
                        return 0;

                    page = unused.Allocator.AllocPage(Gfp.Kernel);
                    if (page is null)
                        return -Errno.ENOMEM;

                    page.Bytes.Fill(KasanVmallocInvalid);
                    pte = PfnPte(page.Pfn, PageKernel);

                    lock (unused.PageTableLock)
                    {
                        if (PteNone(PtepGet(ptep)))
                        {
                            SetPteAt(unused, addr, ptep, pte);
                            page = null;
                        }
                    }

                    if (page is not null)
                        unused.Allocator.FreePage(page);
                    return 0;
                }
            }
            """
        },
        {
            "v6.6 mm/kasan/shadow.c kasan_depopulate_vmalloc_pte",
            "PG0005 (info): the only check is under the lock; whether the lock is needed depends on the callers (the comment above kasan_release_vmalloc() argues their regions are disjoint), which the rule cannot see",
            """
            public static class KasanDepopulate
            {
                public static int kasan_depopulate_vmalloc_pte(PtePointer ptep, ulong addr, Mm unused)
                {
                    Page page;

                    page = unused.Allocator.PtePage(PtepGet(ptep));

                    {|PG0005:lock (unused.PageTableLock)|}
                    {
                        if (!PteNone(PtepGet(ptep)))
                        {
                            PteClear(unused, addr, ptep);
                            unused.Allocator.FreePage(page);
                        }
                    }

                    return 0;
                }
            }
            """
        },
        {
            "v6.16 mm/kasan/shadow.c kasan_populate_vmalloc_pte",
            "PG0005 (info): the pages come preallocated from the caller and one check is made, under the lock; callers whose vmalloc areas share a shadow page race, which the callback does not show",
            """
            public sealed class VmallocPopulateData
            {
                public ulong Start;
                public Page?[] Pages = [];
            }

            public static class KasanPopulateBulk
            {
                public const int KasanVmallocInvalid = 0xF8;

                public static int kasan_populate_vmalloc_pte(PtePointer ptep, ulong addr, (Mm Mm, VmallocPopulateData Data) _data)
                {
                    var data = _data.Data;
                    Page page;
                    Pte pte;
                    int index;

                    // arch_leave_lazy_mmu_mode(): the model has no lazy MMU mode.
                    index = (int)((addr - data.Start) >> _data.Mm.Allocator.PageShift);
                    page = data.Pages[index]!;
                    page.Bytes.Fill(KasanVmallocInvalid);
                    pte = PfnPte(page.Pfn, PageKernel);

                    {|PG0005:lock (_data.Mm.PageTableLock)|}
                    {
                        if (PteNone(PtepGet(ptep)))
                        {
                            SetPteAt(_data.Mm, addr, ptep, pte);
                            data.Pages[index] = null;
                        }
                    }

                    return 0;
                }
            }
            """
        },
        {
            "v6.16 mm/kasan/shadow.c kasan_depopulate_vmalloc_pte",
            "PG0005 (info): as the v6.6 depopulate, the check and the clear under the lock; the free after it goes through pfn_to_page(pte_pfn()) of the entry proven populated",
            """
            public static class KasanDepopulateV616
            {
                public static int kasan_depopulate_vmalloc_pte(PtePointer ptep, ulong addr, Mm unused)
                {
                    Pte pte;
                    bool none;

                    {|PG0005:lock (unused.PageTableLock)|}
                    {
                        pte = PtepGet(ptep);
                        none = PteNone(pte);
                        if (!none)
                            PteClear(unused, addr, ptep);
                    }

                    if (!none)
                        unused.Allocator.FreePage(unused.Allocator.PfnToPage(PtePfn(pte)));

                    return 0;
                }
            }
            """
        },
        {
            "v6.6 arch/arm64/mm/pageattr.c change_page_range",
            "none: a read-modify-write of the entry that is there (set_memory_ro() and friends) is not a new mapping over it",
            """
            public sealed class PageChangeData
            {
                public Mm Mm = null!;
                public PgProt SetMask;
                public PgProt ClearMask;
            }

            public static class Arm64PageAttr
            {
                public static int change_page_range(PtePointer ptep, ulong addr, PageChangeData cdata)
                {
                    Pte pte = PtepGet(ptep);

                    pte = ClearPteBit(pte, cdata.ClearMask);
                    pte = SetPteBit(pte, cdata.SetMask);

                    SetPteAt(cdata.Mm, addr, ptep, pte);
                    return 0;
                }
            }
            """
        },
        {
            "v6.6 arch/arm64/kernel/efi.c set_permissions",
            "none: the EFI runtime mapping's permissions tightened in place, a read-modify-write",
            """
            public sealed class EfiMemoryDesc
            {
                public const ulong EfiMemoryRo = 1UL << 17;
                public const ulong EfiMemoryXp = 1UL << 14;
                public Mm Mm = null!;
                public ulong Attribute;
            }

            public static class Arm64Efi
            {
                private static readonly PgProt PteRdonly = new(1UL << 7);
                private static readonly PgProt PtePxn = new(1UL << 53);
                private static readonly PgProt PteGp = new(1UL << 50);

                public static int set_permissions(PtePointer ptep, ulong addr, EfiMemoryDesc md)
                {
                    Pte pte = PtepGet(ptep);

                    if ((md.Attribute & EfiMemoryDesc.EfiMemoryRo) != 0)
                        pte = SetPteBit(pte, PteRdonly);
                    if ((md.Attribute & EfiMemoryDesc.EfiMemoryXp) != 0)
                        pte = SetPteBit(pte, PtePxn);
                    else if (SystemSupportsBtiKernel())
                        pte = SetPteBit(pte, PteGp);
                    SetPteAt(md.Mm, addr, ptep, pte);
                    return 0;
                }

                private static bool SystemSupportsBtiKernel() => false;
            }
            """
        },
        {
            "v6.6 arch/arm/mm/pageattr.c change_page_range",
            "none: the 32-bit arm set_memory_*() path, a read-modify-write (set_pte_ext() is set_pte_at() here)",
            """
            public sealed class ArmPageChangeData
            {
                public Mm Mm = null!;
                public PgProt SetMask;
                public PgProt ClearMask;
            }

            public static class ArmPageAttr
            {
                public static int change_page_range(PtePointer ptep, ulong addr, ArmPageChangeData cdata)
                {
                    Pte pte = PtepGet(ptep);

                    pte = ClearPteBit(pte, cdata.ClearMask);
                    pte = SetPteBit(pte, cdata.SetMask);

                    SetPteAt(cdata.Mm, addr, ptep, pte);
                    return 0;
                }
            }
            """
        },
        {
            "v6.6 arch/powerpc/mm/pageattr.c change_page_attr",
            "none: pte_update() changes bits of the entry in place; no PTE is installed or cleared",
            """
            public static class PowerPageAttr
            {
                public const long SetMemoryRo = 0, SetMemoryRw = 1, SetMemoryNx = 2, SetMemoryX = 3, SetMemoryNp = 4, SetMemoryP = 5;
                private const ulong PageRw = 1UL << 1, PageExec = 1UL << 0, PageDirty = 1UL << 7, PagePresent = 1UL << 63;

                public static int change_page_attr(PtePointer ptep, ulong addr, (Mm Mm, long Action) data)
                {
                    long action = data.Action;

                    addr &= ~0xfffUL;
                    // modify the PTE bits as desired
                    switch (action)
                    {
                        case SetMemoryRo:
                            // Don't clear DIRTY bit
                            PteUpdate(data.Mm, addr, ptep, PageRw & ~PageDirty, 0);
                            break;
                        case SetMemoryRw:
                            PteUpdate(data.Mm, addr, ptep, 0, PageRw);
                            break;
                        case SetMemoryNx:
                            PteUpdate(data.Mm, addr, ptep, PageExec, 0);
                            break;
                        case SetMemoryX:
                            PteUpdate(data.Mm, addr, ptep, 0, PageExec);
                            break;
                        case SetMemoryNp:
                            PteUpdate(data.Mm, addr, ptep, PagePresent, 0);
                            break;
                        case SetMemoryP:
                            PteUpdate(data.Mm, addr, ptep, 0, PagePresent);
                            break;
                        default:
                            break;
                    }

                    // flush_tlb_kernel_range(addr, addr + PAGE_SIZE): the model has no TLB.
                    return 0;
                }
            }
            """
        },
        {
            "v6.6 drivers/xen/privcmd.c is_mapped_fn",
            "none: reads the PTE only",
            """
            public static class Privcmd
            {
                public static int is_mapped_fn(PtePointer pte, ulong addr, object? data)
                {
                    return PteNone(PtepGet(pte)) ? 0 : -Errno.EBUSY;
                }
            }
            """
        },
        {
            "v6.6 drivers/xen/gntdev.c find_grant_ptes",
            "none: records where each PTE is (the hypervisor writes them); the callback writes nothing",
            """
            public sealed class GntdevGrantMap
            {
                public ulong PagesVmStart;
                public int Count;
                public ulong[] MapOps = [];
            }

            public static class Gntdev
            {
                public static int find_grant_ptes(PtePointer pte, ulong addr, GntdevGrantMap map)
                {
                    int pgnr = (int)((addr - map.PagesVmStart) >> 12);

                    if (pgnr >= map.Count)
                        throw new KernelBugException("BUG_ON(pgnr >= map->count)", 0);
                    map.MapOps[pgnr] = addr; // pte_maddr = arbitrary_virt_to_machine(pte).maddr
                    return 0;
                }
            }
            """
        },
        {
            "v6.6 mm/vmalloc.c vmap_pfn_apply",
            "PG0001: installs a PTE without checking it is none; right only because vmap_pfn() walks a fresh area, an invariant of the caller that vmap_pte_range() in the same file checks anyway (WARN_ON(!pte_none()))",
            """
            public sealed class VmapPfnData
            {
                public Mm Mm = null!;
                public ulong[] Pfns = [];
                public PgProt Prot;
                public int Idx;
            }

            public static class VmapPfn
            {
                public static int vmap_pfn_apply(PtePointer pte, ulong addr, VmapPfnData data)
                {
                    ulong pfn = data.Pfns[data.Idx];
                    Pte ptent;

                    if (data.Mm.Allocator.IsAllocated(pfn))
                        return -Errno.EINVAL;

                    ptent = PteMkspecial(PfnPte(pfn, data.Prot));
                    {|PG0001:SetPteAt(data.Mm, addr, pte, ptent)|};

                    data.Idx++;
                    return 0;
                }
            }
            """
        },
        {
            "v6.6 drivers/gpu/drm/i915/i915_mm.c remap_pfn",
            "PG0001: installs a PTE without a check, relying on remap_io_mapping() being given an unpopulated range",
            """
            public sealed class RemapPfn
            {
                public Mm Mm = null!;
                public ulong Pfn;
                public PgProt Prot;
            }

            public static class I915Mm
            {
                public static int remap_pfn(PtePointer pte, ulong addr, RemapPfn r)
                {
                    // Special PTE are not associated with any struct page
                    {|PG0001:SetPteAt(r.Mm, addr, pte, PteMkspecial(PfnPte(r.Pfn, r.Prot)))|};
                    r.Pfn++;

                    return 0;
                }
            }
            """
        },
        {
            "v5.4 arch/x86/xen/grant-table.c map_pte_fn",
            "PG0001: maps grant frames over whatever the PTE held; arch_gnttab_map_shared() calls it on a range it just reserved, which the callback cannot show",
            """
            public sealed class GrantFrames
            {
                public Mm Mm = null!;
                public ulong[] Frames = [];
                public int Next;
            }

            public static class XenGrantTable
            {
                public static int map_pte_fn(PtePointer pte, ulong addr, GrantFrames frames)
                {
                    {|PG0001:SetPteAt(frames.Mm, addr, pte, PfnPte(frames.Frames[frames.Next], PageKernel))|};
                    frames.Next++;
                    return 0;
                }
            }
            """
        },
        {
            "v6.12 arch/arm64/mm/pageattr.c change_page_range, as set_direct_map_invalid_noflush() applies it",
            "none: clear_pte_bit(PTE_VALID) writes an invalid entry, the break itself (Arm ARM: an invalid entry is never cached); no new translation is made, so nothing needs invalidating first",
            Arm64ChangePageRange("Arm64SetDirectMapInvalid", clearMask: "Arm64Bits.PteValid", setMask: "0")
        },
        {
            "v6.12 arch/arm64/mm/pageattr.c change_page_range, as set_direct_map_default_noflush() applies it",
            "none: set_pte_bit(PTE_VALID) on the entry the invalid_noflush call left: the same address and attributes made valid again, which cannot conflict with what the TLB may still hold of it",
            Arm64ChangePageRange("Arm64SetDirectMapDefault", clearMask: "0", setMask: "Arm64Bits.PteValid")
        },
        {
            "v6.12 arch/arm64/mm/pageattr.c change_page_range, as __set_memory_enc_dec() applies it first (the break)",
            "none: PTE_VALID cleared together with the PROT_NS_SHARED address bit: the entry written is invalid, the break; __change_memory_common() flushes the range before the second call makes the entry",
            Arm64ChangePageRange("Arm64SetMemoryDecryptedBreak", clearMask: "Arm64Bits.PteValid", setMask: "Arm64Bits.ProtNsShared")
        },
        {
            "v6.12 arch/arm64/mm/pageattr.c change_page_range, as __set_memory_enc_dec() applies it second (the make)",
            "none: the entry the callback finds is the invalid one the break left (flushed since); setting PTE_VALID makes a valid entry where none was valid",
            Arm64ChangePageRange("Arm64SetMemoryDecryptedMake", clearMask: "0", setMask: "Arm64Bits.PteValid")
        },
        {
            "v6.12 arch/arm64/mm/pageattr.c change_page_range, as set_memory_ro() applies it",
            "none: PTE_WRITE (DBM) cleared and PTE_RDONLY set on the live entry: permission bits, which the Arm ARM lets change without break-before-make",
            Arm64ChangePageRange("Arm64SetMemoryRo", clearMask: "Arm64Bits.PteWrite", setMask: "Arm64Bits.PteRdonly")
        },
        {
            "v6.12 arch/arm64/kvm/hyp/pgtable.c stage2_attr_walker, as kvm_pgtable_stage2_mkyoung() applies it",
            "none: the access flag set on a valid leaf (stage2_try_set_pte() is the cmpxchg of it): AF needs no break-before-make",
            """
            public sealed class Stage2AttrData
            {
                public Mm Mm = null!;
                public Pte Pte;
            }

            public static class KvmStage2Mkyoung
            {
                private const int EAGAIN = 11;

                public static int stage2_attr_walker(PtePointer ptep, ulong addr, Stage2AttrData data)
                {
                    KvmStage2.Entry pte = PtepGet(ptep);

                    if (!pte.IsValid(PageTableLevel.Pte))
                        return -EAGAIN;

                    data.Pte = pte;
                    pte = ClearPteBit(pte, new PgProt(0));
                    pte = SetPteBit(pte, new PgProt(Arm64Bits.KvmPteLeafAttrLoS2Af));

                    if (data.Pte.Value != pte.Value)
                        SetPteAt(data.Mm, addr, ptep, pte);
                    return 0;
                }
            }
            """
        },
        {
            "v6.12 arch/arm64/kvm/hyp/pgtable.c stage2_attr_walker, as kvm_pgtable_stage2_wrprotect() applies it",
            "none: S2AP's write bit cleared on a valid leaf: a permission change, and the caller flushes the range after the walk",
            """
            public sealed class Stage2WrprotectData
            {
                public Mm Mm = null!;
                public Pte Pte;
            }

            public static class KvmStage2Wrprotect
            {
                private const int EAGAIN = 11;

                public static int stage2_attr_walker(PtePointer ptep, ulong addr, Stage2WrprotectData data)
                {
                    KvmStage2.Entry pte = PtepGet(ptep);

                    if (!pte.IsValid(PageTableLevel.Pte))
                        return -EAGAIN;

                    data.Pte = pte;
                    pte = ClearPteBit(pte, new PgProt(Arm64Bits.KvmPteLeafAttrLoS2S2apW));
                    pte = SetPteBit(pte, new PgProt(0));

                    if (data.Pte.Value != pte.Value)
                        SetPteAt(data.Mm, addr, ptep, pte);
                    return 0;
                }
            }
            """
        },
        {
            "v6.12 arch/arm64/kvm/hyp/pgtable.c stage2_unmap_walker (a leaf)",
            "none: an invalid but counted entry (an owner annotation) is cleared where it is not none; a valid one is cleared, its IPA invalidated (stage2_unmap_put_pte()), and only then is the page dropped",
            """
            public sealed class Stage2UnmapData
            {
                public Mm Mm = null!;
                public int PutPages;
            }

            public static class KvmStage2Unmap
            {
                public static int stage2_unmap_walker(PtePointer ptep, ulong addr, Stage2UnmapData data)
                {
                    KvmStage2.Entry old = PtepGet(ptep);

                    if (!old.IsValid(PageTableLevel.Pte))
                    {
                        // stage2_pte_is_counted(): an invalid entry with owner annotations in it
                        if (!old.IsNone)
                        {
                            PteClear(data.Mm, addr, ptep);
                            data.PutPages++;
                        }
                        return 0;
                    }

                    // stage2_unmap_put_pte(): kvm_clear_pte(), __kvm_tlb_flush_vmid_ipa, put_page()
                    PteClear(data.Mm, addr, ptep);
                    data.Mm.Tlb?.InvalidateAddress(addr);
                    data.PutPages++;
                    return 0;
                }
            }
            """
        },
        {
            "v6.12 arch/arm64/kvm/hyp/pgtable.c stage2_map_walker_try_leaf (the shared walk of parallel faults)",
            "PG0001 at both writes: KVM's map walker replaces what is there by design, through break-before-make (the locked invalid entry, the invalidation chosen by the old entry in stage2_try_break_pte(), then stage2_make_pte()); PG0001 is apply_to_page_range()'s populate rule and asks for a pte_none() check KVM does not make. No PG0006: the break is the invalid entry, the invalidation follows what the old entry was",
            """
            public sealed class Stage2MapData
            {
                public Mm Mm = null!;
                public ulong Phys;
                public ulong Start;
                public ulong MemAttr;
                public ulong Perms;
                public bool LeafMappingAllowed;
            }

            public static class KvmStage2MapLeaf
            {
                private const int EAGAIN = 11, E2BIG = 7;

                // KVM_INVALID_PTE_LOCKED: an invalid entry with a software bit, which other walkers back off from.
                private const ulong KvmInvalidPteLocked = 1UL << 10;
                // KVM_PTE_LEAF_ATTR_S2_PERMS: S2AP and XN.
                private const ulong KvmPteLeafAttrS2Perms = (3UL << 6) | (1UL << 54);

                public static int stage2_map_walker_try_leaf(PtePointer ptep, ulong addr, Stage2MapData data)
                {
                    KvmStage2.Entry old = PtepGet(ptep);
                    KvmStage2.Entry @new;
                    ulong phys = data.Phys + (addr - data.Start);

                    if (!data.LeafMappingAllowed)
                        return -E2BIG;

                    @new = KvmStage2.Entry.Page(phys).WithMemAttr(data.MemAttr).WithS2AccessPermissions(data.Perms).WithShareability(3).WithAccessFlag(true);

                    // stage2_pte_needs_update(): an invalid old entry, or a change beyond the permissions
                    if (old.IsValid(PageTableLevel.Pte) && ((old.Value ^ @new.Value) & ~KvmPteLeafAttrS2Perms) == 0)
                        return -EAGAIN;

                    // stage2_try_break_pte(): lock the entry, invalidate what the old entry may have left cached
                    {|PG0001:SetPteAt(data.Mm, addr, ptep, new Pte(KvmInvalidPteLocked))|};
                    if (old.IsTable(PageTableLevel.Pte))
                        data.Mm.Tlb?.InvalidateRange(addr, data.Mm.Geometry.PageSize);
                    else if (old.IsValid(PageTableLevel.Pte))
                        data.Mm.Tlb?.InvalidateAddress(addr);

                    // stage2_make_pte(): smp_store_release() of the new entry
                    {|PG0001:SetPteAt(data.Mm, addr, ptep, @new)|};
                    return 0;
                }
            }
            """
        },
        {
            "v6.12 drivers/xen/xlate_mmu.c remap_pte_fn",
            "PG0001: maps the foreign frames over whatever the PTE held; the caller's VMA range is fresh, which the callback cannot show",
            """
            public sealed class RemapData
            {
                public Mm Mm = null!;
                public Page[] Pages = [];
                public int Index;
                public PgProt Prot;
            }

            public static class XenXlateMmu
            {
                public static int remap_pte_fn(PtePointer ptep, ulong addr, RemapData info)
                {
                    Page page = info.Pages[info.Index++];
                    Pte pte = PteMkspecial(PfnPte(page.Pfn, info.Prot));

                    {|PG0001:SetPteAt(info.Mm, addr, ptep, pte)|};
                    return 0;
                }
            }
            """
        },
        {
            "v6.12 drivers/gpu/drm/i915/i915_mm.c remap_sg",
            "PG0001: as remap_pfn, special PTEs written over whatever is there; remap_io_sg() runs it on a range zap_vma_ptes() just emptied, which the callback cannot show",
            """
            public sealed class RemapSg
            {
                public Mm Mm = null!;
                public ulong Pfn;
                public PgProt Prot;
                public bool HaveSg = true;
            }

            public static class I915RemapSg
            {
                public static int remap_sg(PtePointer pte, ulong addr, RemapSg r)
                {
                    if (!r.HaveSg)
                        return -Errno.EINVAL;

                    // Special PTE are not associated with any struct page
                    {|PG0001:SetPteAt(r.Mm, addr, pte, PteMkspecial(PfnPte(r.Pfn, r.Prot)))|};
                    r.Pfn++;
                    return 0;
                }
            }
            """
        },
        {
            "v6.12 arch/riscv/mm/pageattr.c pageattr_pte_entry",
            "none: set_pageattr_masks() clears and sets bits of the entry that is there, a read-modify-write (RISC-V has no break-before-make rule)",
            """
            public sealed class PageattrMasks
            {
                public Mm Mm = null!;
                public ulong SetMask;
                public ulong ClearMask;
            }

            public static class RiscvPageattr
            {
                public static int pageattr_pte_entry(PtePointer pte, ulong addr, PageattrMasks masks)
                {
                    Pte val = PtepGet(pte);

                    val = new Pte((val.Value & ~masks.ClearMask) | masks.SetMask);
                    SetPteAt(masks.Mm, addr, pte, val);
                    return 0;
                }
            }
            """
        },
        {
            "v6.12 arch/x86/xen/mmu_pv.c remap_area_pfn_pte_fn",
            "none: records the update for the hypervisor (a batched mmu_update), writing no PTE itself",
            """
            public sealed class XenRemapData
            {
                public ulong[] Pfns = [];
                public int Next;
                public PgProt Prot;
                public System.Collections.Generic.List<(ulong Ptr, ulong Val)> Updates = [];
            }

            public static class XenMmuPv
            {
                public static int remap_area_pfn_pte_fn(PtePointer ptep, ulong addr, XenRemapData rmd)
                {
                    Pte pte = PteMkspecial(PfnPte(rmd.Pfns[rmd.Next], rmd.Prot));

                    rmd.Updates.Add((addr, pte.Value));
                    rmd.Next++;
                    return 0;
                }
            }
            """
        },
    };

    /// <summary>
    /// arm64's change_page_range() (arch/arm64/mm/pageattr.c, v6.12), line for line, with the masks one caller of
    /// __change_memory_common() passes in its page_change_data (constants there, as each caller spells them).
    /// </summary>
    private static string Arm64ChangePageRange(string className, string clearMask, string setMask) => $$"""
        public static class {{className}}
        {
            public static int change_page_range(PtePointer ptep, ulong addr, Mm mm)
            {
                Arm64Kernel.Entry pte = PtepGet(ptep);

                pte = ClearPteBit(pte, new PgProt({{clearMask}}));
                pte = SetPteBit(pte, new PgProt({{setMask}}));

                SetPteAt(mm, addr, ptep, pte);
                return 0;
            }
        }
        """;

    [Theory]
    [MemberData(nameof(Corpus))]
    public Task Every_analyzer_reports_exactly_the_expected_diagnostics(string origin, string reason, string port)
    {
        Assert.False(string.IsNullOrWhiteSpace(origin));
        Assert.False(string.IsNullOrWhiteSpace(reason));
        Assert.Equal(reason.StartsWith("none", StringComparison.Ordinal), !port.Contains("{|PG", StringComparison.Ordinal));
        var test = new AllAnalyzersTest { TestCode = Usings + port, ReferenceAssemblies = new ReferenceAssemblies("net10.0") };
        test.TestState.AdditionalReferences.AddRange(GeneratorHarness.References);
        foreach (var (name, text) in Arm64Sources.Value)
        {
            test.TestState.Sources.Add((name, text));
        }

        return test.RunAsync();
    }

    [Fact]
    public void The_corpus_has_at_least_ten_callbacks_beyond_the_seeds()
    {
        var origins = Corpus.Select(row => (string)row[0]).ToList();
        Assert.True(origins.Count >= 10);
        // And ten more of the kernel KERNEL.md pins (v6.12): arm64's pageattr.c and KVM's stage-2 walkers among them.
        Assert.True(origins.Count(o => o.StartsWith("v6.12 ", StringComparison.Ordinal)) >= 10);
        Assert.Contains(origins, o => o.Contains("arch/arm64/mm/pageattr.c", StringComparison.Ordinal));
        Assert.Contains(origins, o => o.Contains("arch/arm64/kvm/hyp/pgtable.c", StringComparison.Ordinal));
        Assert.Equal(origins.Count, origins.Distinct().Count());
        Assert.DoesNotContain(origins, o => o.Contains("tdx", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// The arm64 geometries the arm64 ports read their entries through (stage 1 for the kernel's own tables, stage 2 for
    /// KVM's), the bit names of arch/arm64/include/asm/pgtable-hwdef.h and kvm_pgtable.h, and what the generator makes of
    /// them, as they are in a real build.
    /// </summary>
    private const string Arm64Geometries = """
        using PamtGen;
        using PamtGen.Formats;

        [PageTableGeometry(PageShift = 12, Levels = 4, VirtualAddressBits = 48)]
        [Arm64Stage1Granule4KEntryFormat]
        public static partial class Arm64Kernel;

        [PageTableGeometry(PageShift = 12, Levels = 4, VirtualAddressBits = 48)]
        [Arm64Stage2Granule4KEntryFormat]
        public static partial class KvmStage2;

        public static class Arm64Bits
        {
            public const ulong PteValid = 1UL << 0, PteRdonly = 1UL << 7, PteWrite = 1UL << 51, PtePxn = 1UL << 53;
            // PROT_NS_SHARED: BIT(prot_ns_shared) in a realm, the top bit of the IPA (here of a 48-bit one).
            public const ulong ProtNsShared = 1UL << 47;
            public const ulong KvmPteLeafAttrLoS2Af = 1UL << 10, KvmPteLeafAttrLoS2S2apW = 1UL << 7;
        }
        """;

    private static readonly Lazy<(string Name, string Text)[]> Arm64Sources = new(() =>
        [("Arm64Geometries.cs", Arm64Geometries), .. GeneratorHarness.Run(Arm64Geometries).GeneratedTrees.Select(t => (Path.GetFileName(t.FilePath), t.ToString()))]);

    /// <summary>Every PamtGen analyzer at once, so a port's markup is the whole set of diagnostics.</summary>
    private sealed class AllAnalyzersTest : CSharpAnalyzerTest<PteNoneCheckAnalyzer, DefaultVerifier>
    {
        protected override IEnumerable<DiagnosticAnalyzer> GetDiagnosticAnalyzers() => RepositorySources.Analyzers;
    }
}
