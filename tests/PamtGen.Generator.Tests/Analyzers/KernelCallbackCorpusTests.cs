using System.Collections.Immutable;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;
using PamtGen.Generator.Analyzers;

namespace PamtGen.Generator.Tests.Analyzers;

/// <summary>
/// Real kernel pte_fn_t callbacks, callers of apply_to_page_range() and apply_to_existing_page_range() across mm/,
/// arch/ and drivers/, ported line for line to the runtime API (kernel helpers in C# casing; what the model has no
/// counterpart for, such as a TLB flush or lazy-MMU mode, is a comment in its place). Every PamtGen analyzer runs
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
    };

    [Theory]
    [MemberData(nameof(Corpus))]
    public Task Every_analyzer_reports_exactly_the_expected_diagnostics(string origin, string reason, string port)
    {
        Assert.False(string.IsNullOrWhiteSpace(origin));
        Assert.False(string.IsNullOrWhiteSpace(reason));
        Assert.Equal(reason.StartsWith("none", StringComparison.Ordinal), !port.Contains("{|PG", StringComparison.Ordinal));
        var test = new AllAnalyzersTest { TestCode = Usings + port, ReferenceAssemblies = new ReferenceAssemblies("net10.0") };
        test.TestState.AdditionalReferences.AddRange(GeneratorHarness.References);
        return test.RunAsync();
    }

    [Fact]
    public void The_corpus_has_at_least_ten_callbacks_beyond_the_seeds()
    {
        var origins = Corpus.Select(row => (string)row[0]).ToList();
        Assert.True(origins.Count >= 10);
        Assert.Equal(origins.Count, origins.Distinct().Count());
        Assert.DoesNotContain(origins, o => o.Contains("tdx", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Every PamtGen analyzer at once, so a port's markup is the whole set of diagnostics.</summary>
    private sealed class AllAnalyzersTest : CSharpAnalyzerTest<PteNoneCheckAnalyzer, DefaultVerifier>
    {
        protected override IEnumerable<DiagnosticAnalyzer> GetDiagnosticAnalyzers() => RepositorySources.Analyzers;
    }
}
