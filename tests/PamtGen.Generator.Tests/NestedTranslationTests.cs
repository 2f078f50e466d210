using static PamtGen.Pgtable;

namespace PamtGen.Generator.Tests;

/// <summary>
/// Two-stage translation: a stage-1 address space whose tables live in guest-physical memory over a stage-2 address
/// space, for every pair of shipped geometries; the entries read, the faults of each stage, the TLB in front of both.
/// </summary>
public class NestedTranslationTests
{
    /// <summary>The guest's RAM: 16 MiB at guest-physical 256 MiB, behind host-physical 2 GiB (outside the host allocator's RAM).</summary>
    private static readonly GuestMemorySlot Slot = new(0x1000_0000, 0x100_0000, 0x8000_0000);

    public static TheoryData<string, string> Pairs()
    {
        var data = new TheoryData<string, string>();
        foreach (string stage1 in ProbeGeometries.Names)
        {
            // x86's own format is no stage 2: its tables (0x63) lack the U/S every nested access needs (the test below); AMD's
            // nested format and Intel EPT are.
            foreach (string stage2 in ProbeGeometries.Names.Where(n => !ProbeGeometries.GeometryOf(n).Format.Name.StartsWith("x86", StringComparison.Ordinal) || n is "AmdNpt" or "IntelEpt"))
            {
                data.Add(stage1, stage2);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void With_page_leaves_in_both_stages_and_nothing_cached_a_walk_reads_n_times_m_plus_n_plus_m_entries(string stage1Name, string stage2Name)
    {
        var (guest, stage1) = Guest(stage1Name, stage2Name, MapRangeOptions.PagesOnly);
        var g1 = stage1.Geometry;
        var data = guest.Allocator.AllocPage(Gfp.Zero)!;
        ulong va = 0x40_0000 & ~(g1.PageSize - 1);
        Assert.True(stage1.SetEntry(PageTableLevel.Pte, va, g1.MakeKernelPageEntry(data.PhysAddr)));
        int n = g1.EntryLevels.Count, m = guest.Stage2.Geometry.EntryLevels.Count;
        foreach (var result in new[] { stage1.Translate(va + 8, Access.Read), Translator.Translate(stage1, va + 8, Access.Read) })
        {
            Assert.True(result.Ok, result.ToString());
            Assert.Equal((n * m) + n + m, result.EntriesRead);
            Assert.Equal(guest.HostAddress(data.PhysAddr)!.Value + 8, result.OutputAddress);
            Assert.Equal(Math.Min(g1.PageSize, guest.Stage2.Geometry.PageSize), result.Size);
        }

        // The guest's page and the host memory behind it are one: what the guest writes is what stage 2's output holds.
        data.Bytes[8] = 0x5a;
        Assert.True(guest.HostAddress(data.PhysAddr + 8) == stage1.Translate(va + 8, Access.Read).OutputAddress);
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void With_the_walkers_updates_a_walk_reads_the_same_entries_and_both_translations_agree(string stage1Name, string stage2Name)
    {
        foreach (var access in new[] { Access.Read, Access.Write })
        {
            var results = new List<Translation>();
            foreach (bool generated in new[] { true, false })
            {
                var (guest, stage1) = Guest(stage1Name, stage2Name, MapRangeOptions.PagesOnly);
                var g1 = stage1.Geometry;
                var data = guest.Allocator.AllocPage(Gfp.Zero)!;
                ulong va = 0x40_0000 & ~(g1.PageSize - 1);
                ulong hardware = g1.HardwareUpdatedBits(PageTableLevel.Pte); // x86 A and D, arm64 AF, RISC-V A and D: all for the walker to set
                Assert.True(stage1.SetEntry(PageTableLevel.Pte, va, g1.MakeKernelPageEntry(data.PhysAddr) & ~hardware));
                foreach (var level in g1.EntryLevels.Where(l => l != PageTableLevel.Pte))
                {
                    Assert.True(stage1.TryGetEntry(level, va, out ulong table));
                    Assert.True(stage1.SetEntry(level, va, table & ~hardware)); // x86's table A too (ignored elsewhere)
                }

                var result = generated ? stage1.Translate(va + 8, access, TranslateOptions.UpdateAccessedDirty) : Translator.Translate(stage1, va + 8, access, TranslateOptions.UpdateAccessedDirty);
                int n = g1.EntryLevels.Count, m = guest.Stage2.Geometry.EntryLevels.Count;
                Assert.Equal((n * m) + n + m, result.EntriesRead);
                Assert.True(stage1.TryGetEntry(PageTableLevel.Pte, va, out ulong leaf));
                Assert.NotEqual(0UL, leaf & hardware); // the walker did update the leaf (A, AF)
                results.Add(result);
            }

            Assert.Equal(results[0], results[1]);
        }
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void An_access_stage_2_refuses_on_its_output_updates_nothing_in_stage_1(string stage1Name, string stage2Name)
    {
        foreach (bool generated in new[] { true, false })
        {
            var (guest, stage1) = Guest(stage1Name, stage2Name, MapRangeOptions.PagesOnly);
            var g1 = stage1.Geometry;
            const ulong Unbacked = 0x4000_0000; // guest-physical 1 GiB: outside the slot, so stage 2 maps nothing there
            ulong va = 0x40_0000 & ~(g1.PageSize - 1);
            ulong hardware = g1.HardwareUpdatedBits(PageTableLevel.Pte);
            Assert.True(stage1.SetEntry(PageTableLevel.Pte, va, g1.MakeKernelPageEntry(Unbacked) & ~hardware));
            var before = g1.EntryLevels.Select(l => stage1.TryGetEntry(l, va, out ulong e) ? e : 0).ToArray();
            int m = guest.Stage2.Geometry.EntryLevels.Count;
            foreach (var access in new[] { Access.Write, Access.Read })
            {
                var t = generated ? stage1.Translate(va + 8, access, TranslateOptions.UpdateAccessedDirty) : Translator.Translate(stage1, va + 8, access, TranslateOptions.UpdateAccessedDirty);
                Assert.Equal((TranslationStage.Stage2, FaultReason.NotPresent, false, Unbacked + 8), (t.Stage, t.Fault, t.DuringStage1Walk, t.FaultAddress));
                Assert.True(t.EntriesRead <= (g1.EntryLevels.Count * (m + 1)) + m, $"{t.EntriesRead} entries read");
                Assert.Equal(before, g1.EntryLevels.Select(l => stage1.TryGetEntry(l, va, out ulong e) ? e : 0).ToArray()); // no A, AF or D written
            }
        }
    }

    [Fact]
    public void Each_stage_reports_its_own_faults()
    {
        var (guest, stage1) = Guest("X86_64FourLevel", "Arm64Stage2Ipa40", default);
        var data = guest.Allocator.AllocPage(Gfp.Zero)!;
        Assert.True(stage1.SetEntry(PageTableLevel.Pte, 0x40_0000, stage1.Geometry.MakeKernelPageEntry(data.PhysAddr)));

        // Stage 1 not present: the fault names stage 1 and the level; its reads include stage 2's.
        var missing = stage1.Translate(0x8000_0000, Access.Read);
        // Stage 2 maps the slot with 2 MiB blocks: 2 reads for each of the 2 stage-1 entries read.
        Assert.Equal((TranslationStage.Stage1, FaultReason.NotPresent, PageTableLevel.Pud, (2 * 2) + 2), (missing.Stage, missing.Fault, missing.Level, missing.EntriesRead));

        // The output's guest-physical address is not mapped at stage 2.
        Assert.True(stage1.SetEntry(PageTableLevel.Pte, 0x40_1000, stage1.Geometry.MakeKernelPageEntry(0x4000_0000)));
        var unbacked = stage1.Translate(0x40_1234, Access.Read);
        Assert.Equal((TranslationStage.Stage2, FaultReason.NotPresent, 0x4000_0234UL, false), (unbacked.Stage, unbacked.Fault, unbacked.FaultAddress, unbacked.DuringStage1Walk));

        // Stage 2 read-only for the data page: a write faults at stage 2, a read does not.
        var s2 = guest.Stage2;
        Assert.Equal(PageTableLevel.Pmd, s2.Translate(data.PhysAddr, Access.Read).Level); // the slot is mapped with 2 MiB blocks
        Assert.Equal(0, BlockMapping.Split(s2, data.PhysAddr, PageTableLevel.Pmd));
        Assert.True(s2.TryGetEntry(PageTableLevel.Pte, data.PhysAddr, out ulong s2Pte));
        Assert.True(s2.SetEntry(PageTableLevel.Pte, data.PhysAddr, s2Pte & ~(1UL << 7))); // S2AP[1]: no write
        Assert.Equal((TranslationStage.Stage2, FaultReason.Write), (stage1.Translate(0x40_0000, Access.Write).Stage, stage1.Translate(0x40_0000, Access.Write).Fault));
        Assert.True(stage1.Translate(0x40_0000, Access.Read).Ok);

        // Stage 2 loses the page holding the stage-1 root: the fault is stage 2's, taken during the stage-1 walk, on the entry's address.
        ulong root = stage1.Pgd.PhysAddr;
        Assert.Equal(0, BlockMapping.UnmapRange(s2, root, stage1.Geometry.PageSize));
        var walk = stage1.Translate(0x40_0000, Access.Read);
        Assert.Equal((TranslationStage.Stage2, FaultReason.NotPresent, PageTableLevel.Pte, root, true), (walk.Stage, walk.Fault, walk.Level, walk.FaultAddress, walk.DuringStage1Walk));
        Assert.Equal(walk, Translator.Translate(stage1, 0x40_0000, Access.Read));
    }

    [Fact]
    public void The_walkers_own_update_of_a_stage_1_entry_is_a_stage_2_write()
    {
        var (guest, stage1) = Guest("X86_64FourLevel", "Arm64Stage2Ipa40", MapRangeOptions.PagesOnly);
        var data = guest.Allocator.AllocPage(Gfp.Zero)!;
        Assert.True(stage1.SetEntry(PageTableLevel.Pte, 0x40_0000, data.PhysAddr | 0x3)); // present, writable, Accessed clear
        var pteSlot = stage1.VirtToKpte(0x40_0000)!.Value;
        Assert.True(stage1.TryGetEntry(PageTableLevel.Pmd, 0x40_0000, out ulong pmd));
        ulong pteTable = stage1.Geometry.TableAddress(pmd); // guest-physical
        ulong pteAddress = pteTable + (((0x40_0000UL >> 12) & 511) * 8);
        Assert.True(guest.Stage2.TryGetEntry(PageTableLevel.Pte, pteTable, out ulong s2Entry));
        Assert.True(guest.Stage2.SetEntry(PageTableLevel.Pte, pteTable, s2Entry & ~(1UL << 7))); // stage 2 maps the guest's pte table read-only

        // A lookup reads the entry and succeeds; the walker that must set Accessed in it takes a stage-2 write fault.
        Assert.True(stage1.Translate(0x40_0000, Access.Read).Ok);
        foreach (var result in new[] { stage1.Translate(0x40_0000, Access.Read, TranslateOptions.UpdateAccessedDirty), Translator.Translate(stage1, 0x40_0000, Access.Read, TranslateOptions.UpdateAccessedDirty) })
        {
            Assert.Equal(
                (TranslationStage.Stage2, FaultReason.Write, pteAddress, true),
                (result.Stage, result.Fault, result.FaultAddress, result.DuringStage1Walk));
        }

        Assert.Equal(0x3UL, PtepGet(pteSlot).Value & 0x23); // nothing written
        Assert.True(guest.Stage2.SetEntry(PageTableLevel.Pte, pteTable, s2Entry));
        Assert.True(stage1.Translate(0x40_0000, Access.Write, TranslateOptions.UpdateAccessedDirty).Ok);
        Assert.Equal(0x63UL, PtepGet(pteSlot).Value & 0x63); // Accessed and Dirty set through stage 2
    }

    [Fact]
    public void The_tlbs_of_both_stages_answer_without_reading()
    {
        var (guest, stage1) = Guest("Arm64Granule4K", "AmdNpt", MapRangeOptions.PagesOnly);
        var data = guest.Allocator.AllocPage(Gfp.Zero)!;
        Assert.True(stage1.SetEntry(PageTableLevel.Pte, 0x40_0000, stage1.Geometry.MakeKernelPageEntry(data.PhysAddr)));
        int cold = stage1.Translate(0x40_0000, Access.Read).EntriesRead;

        // A stage-2 TLB caches guest-physical translations: the stage-1 walk then reads only its own 4 entries.
        var stage2Tlb = guest.Stage2.TrackTlb();
        stage1.Translate(0x40_0000, Access.Read);
        Assert.Equal(4, stage1.Translate(0x40_0000, Access.Read).EntriesRead);
        Assert.Equal(24, cold);
        Assert.True(stage2Tlb.Hits >= 5);

        // A stage-1 TLB caches the combined translation: nothing read at all.
        var tlb = stage1.TrackTlb();
        var first = stage1.Translate(0x40_0010, Access.Read);
        var again = stage1.Translate(0x40_0020, Access.Read);
        Assert.Equal((0, first.OutputAddress + 0x10), (again.EntriesRead, again.OutputAddress));
        Assert.Equal(1, tlb.Hits);
    }

    [Fact]
    public void A_guest_slot_that_overlaps_the_host_allocator_or_is_misaligned_is_refused()
    {
        var host = PageAllocator.Synthetic(1 << 12);
        var stage2 = new Probe.Arm64Stage2Ipa40.AddressSpace(host);
        Assert.Throws<ArgumentException>(() => new GuestPhysicalSpace(stage2, [new GuestMemorySlot(0, 0x10_0000, 0x10_0000)], 12, 0x7fc));
        Assert.Throws<ArgumentException>(() => new GuestPhysicalSpace(stage2, [new GuestMemorySlot(0x800, 0x10_0000, 0x8000_0000)], 12, 0x7fc));
        Assert.Empty(stage2.Snapshot()); // nothing was mapped
    }

    /// <summary>A guest with <see cref="Slot"/> over a stage 2 of <paramref name="stage2Name"/>, and a stage-1 address space of <paramref name="stage1Name"/> in it.</summary>
    private static (GuestPhysicalSpace Guest, Mm Stage1) Guest(string stage1Name, string stage2Name, MapRangeOptions options)
    {
        var g2 = ProbeGeometries.GeometryOf(stage2Name);
        var stage2 = ProbeGeometries.AddressSpaceOf(stage2Name, PageAllocator.Synthetic(1 << 12, g2.PageShift));
        var guest = new GuestPhysicalSpace(stage2, [Slot], ProbeGeometries.GeometryOf(stage1Name).PageShift, UserReadWriteExecute(g2), options);
        return (guest, ProbeGeometries.AddressSpaceOf(stage1Name, guest.Allocator));
    }

    /// <summary>Leaf bits granting every access at stage 2 (checked as privileged accesses; as user accesses by a RISC-V G-stage and AMD's nested tables).</summary>
    internal static ulong UserReadWriteExecute(Geometry g) => g.Format.Name switch
    {
        var n when n.StartsWith("x86", StringComparison.Ordinal) => 0x67, // P, R/W, U/S, A, D: every nested access is a user access
        var n when n.StartsWith("arm64 stage 1", StringComparison.Ordinal) => 0x740, // AP = 01 (EL0 read/write), SH, AF
        var n when n.StartsWith("RISC-V", StringComparison.Ordinal) => 0xde, // R, W, X, U, A, D: a G-stage checks every access as U-mode
        "Intel EPT" => 0x437, // R, W, X, write-back, user-execute
        _ => 0x7fc, // MemAttr, S2AP = 11, SH, AF
    };
}
