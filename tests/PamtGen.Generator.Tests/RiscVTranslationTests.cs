using PamtGen.Generator.Probe;

namespace PamtGen.Generator.Tests;

/// <summary>
/// RISC-V's translation, case by case, as the privileged specification (20240411, "Sv32" address translation process, which
/// Sv39, Sv48 and Sv57 follow) states it: each case through the generated walk and the runtime's loop, with the exception
/// code (scause) the fault raises. The random reference comparison is in <see cref="TranslationTests"/>.
/// </summary>
public class RiscVTranslationTests
{
    private const ulong V = 0x1, R = 0x2, W = 0x4, X = 0x8, U = 0x10, A = 0x40, D = 0x80;
    private const ulong Va = 0x1000_0000, Pa = 0x8000_0000;

    public static TheoryData<bool> Walks => new() { true, false };

    [Theory]
    [MemberData(nameof(Walks))]
    public void U_pages_are_U_modes_and_S_modes_only_with_SUM_and_never_for_fetches(bool generated)
    {
        var mm = Space(PageTableLevel.Pte, Pa, V | R | W | X | U | A | D);
        Assert.True(Translate(mm, Va, Access.Read | Access.User, generated).Ok);
        Assert.True(Translate(mm, Va, Access.Write | Access.User, generated).Ok);
        Assert.True(Translate(mm, Va, Access.Execute | Access.User, generated).Ok);
        Assert.Equal((FaultReason.Read, 13), Fault(Translate(mm, Va, Access.Read, generated)));
        Assert.Equal((FaultReason.Write, 15), Fault(Translate(mm, Va, Access.Write, generated)));
        Assert.True(Translate(mm, Va, Access.Read, generated, TranslateOptions.SupervisorUserMemory).Ok);
        Assert.True(Translate(mm, Va, Access.Write, generated, TranslateOptions.SupervisorUserMemory).Ok);
        Assert.Equal((FaultReason.Execute, 12), Fault(Translate(mm, Va, Access.Execute, generated, TranslateOptions.SupervisorUserMemory)));

        var kernel = Space(PageTableLevel.Pte, Pa, V | R | W | X | A | D); // no U: S-mode's alone
        Assert.True(Translate(kernel, Va, Access.Execute, generated).Ok);
        Assert.Equal((FaultReason.User, 13), Fault(Translate(kernel, Va, Access.Read | Access.User, generated)));
    }

    [Theory]
    [MemberData(nameof(Walks))]
    public void MXR_lets_loads_read_an_execute_only_page(bool generated)
    {
        var mm = Space(PageTableLevel.Pte, Pa, V | X | A | D);
        Assert.Equal((FaultReason.Read, 13), Fault(Translate(mm, Va, Access.Read, generated)));
        var read = Translate(mm, Va, Access.Read, generated, TranslateOptions.MakeExecutableReadable);
        Assert.True(read.Ok);
        Assert.Equal(Pa, read.OutputAddress);
        Assert.Equal((FaultReason.Write, 15), Fault(Translate(mm, Va, Access.Write, generated, TranslateOptions.MakeExecutableReadable)));
    }

    [Theory]
    [MemberData(nameof(Walks))]
    public void Reserved_bits_and_encodings_fault_at_their_level(bool generated)
    {
        // W without R, at a page and at a megapage.
        Assert.Equal((FaultReason.ReservedBits, PageTableLevel.Pte), Where(Translate(Space(PageTableLevel.Pte, Pa, V | W | A | D), Va, Access.Write, generated)));
        Assert.Equal((FaultReason.ReservedBits, PageTableLevel.Pmd), Where(Translate(Space(PageTableLevel.Pmd, Pa, V | W | X | A | D), Va, Access.Read, generated)));

        // Bits 63:54 without Svnapot and Svpbmt: bit 54, PBMT (62:61) and N (63).
        foreach (int bit in new[] { 54, 60, 61, 63 })
        {
            Assert.Equal((FaultReason.ReservedBits, PageTableLevel.Pte), Where(Translate(Space(PageTableLevel.Pte, Pa, V | R | A | D | (1UL << bit)), Va, Access.Read, generated)));
        }

        // D, A and U of a non-leaf entry.
        foreach (ulong bit in new[] { A, D, U })
        {
            var mm = Space(PageTableLevel.Pte, Pa, V | R | A | D);
            Assert.True(mm.TryGetEntry(PageTableLevel.Pmd, Va, out ulong table));
            Assert.True(mm.SetEntry(PageTableLevel.Pmd, Va, table | bit));
            Assert.Equal((FaultReason.ReservedBits, PageTableLevel.Pmd), Where(Translate(mm, Va, Access.Read, generated)));
        }

        // A misaligned megapage: PPN[0] not zero.
        var misaligned = Space(PageTableLevel.Pmd, Pa, V | R | A | D);
        Assert.True(misaligned.TryGetEntry(PageTableLevel.Pmd, Va, out ulong megapage));
        Assert.True(misaligned.SetEntry(PageTableLevel.Pmd, Va, megapage | (1UL << 10)));
        Assert.Equal((FaultReason.ReservedBits, PageTableLevel.Pmd), Where(Translate(misaligned, Va, Access.Read, generated)));
    }

    [Theory]
    [MemberData(nameof(Walks))]
    public void A_pointer_at_the_last_level_grants_nothing(bool generated)
    {
        var mm = Space(PageTableLevel.Pte, Pa, V | A | D); // R = W = X = 0 in a level-0 PTE: step 5's page fault
        Assert.Equal((FaultReason.Read, 13), Fault(Translate(mm, Va, Access.Read, generated)));
        Assert.Equal((FaultReason.Write, 15), Fault(Translate(mm, Va, Access.Write, generated)));
        Assert.Equal((FaultReason.Execute, 12), Fault(Translate(mm, Va, Access.Execute, generated, TranslateOptions.UpdateAccessedDirty)));
        Assert.True(mm.TryGetEntry(PageTableLevel.Pte, Va, out ulong pte));
        Assert.Equal(V | A | D, pte & 0x3ff); // nothing was updated
    }

    [Theory]
    [MemberData(nameof(Walks))]
    public void Svade_faults_on_A_and_D_after_the_permissions_and_Svadu_sets_them_in_the_leaf_only(bool generated)
    {
        var mm = Space(PageTableLevel.Pte, Pa, V | R | W);
        Assert.Equal((FaultReason.AccessFlag, 13), Fault(Translate(mm, Va, Access.Read, generated)));
        Assert.Equal((FaultReason.User, 13), Fault(Translate(mm, Va, Access.Read | Access.User, generated))); // the permission check comes first

        var clean = Space(PageTableLevel.Pte, Pa, V | R | W | A);
        Assert.True(Translate(clean, Va, Access.Read, generated).Ok);
        Assert.Equal((FaultReason.DirtyFlag, 15), Fault(Translate(clean, Va, Access.Write, generated)));

        var tables = mm.Snapshot().Where(e => e.Level != PageTableLevel.Pte).ToArray();
        var load = Translate(mm, Va, Access.Read, generated, TranslateOptions.UpdateAccessedDirty);
        Assert.True(load.Ok);
        Assert.False(load.Dirty);
        Assert.True(mm.TryGetEntry(PageTableLevel.Pte, Va, out ulong afterLoad));
        Assert.Equal(V | R | W | A, afterLoad & 0x3ff);
        var store = Translate(mm, Va, Access.Write, generated, TranslateOptions.UpdateAccessedDirty);
        Assert.True(store.Ok);
        Assert.True(store.Dirty);
        Assert.True(mm.TryGetEntry(PageTableLevel.Pte, Va, out ulong afterStore));
        Assert.Equal(V | R | W | A | D, afterStore & 0x3ff);
        Assert.Equal(tables, mm.Snapshot().Where(e => e.Level != PageTableLevel.Pte).ToArray()); // non-leaf A and D are reserved: never set
    }

    [Theory]
    [InlineData("RiscVSv39", PageTableLevel.Pud, 1UL << 30)]
    [InlineData("RiscVSv48", PageTableLevel.P4d, 1UL << 39)]
    [InlineData("RiscVSv57", PageTableLevel.Pgd, 1UL << 48)]
    public void The_largest_superpage_of_each_mode_translates(string name, PageTableLevel level, ulong size)
    {
        var mm = ProbeGeometries.AddressSpaceOf(name, PageAllocator.Synthetic(64, 12));
        ulong va = size, pa = size * 2;
        Assert.True(mm.SetEntry(level, va, (pa >> 2) | V | R | A | D));
        foreach (bool generated in new[] { true, false })
        {
            var result = Translate(mm, va + 0x1234, Access.Read, generated);
            Assert.Equal((true, level, size, pa + 0x1234), (result.Ok, result.Level, result.Size, result.OutputAddress));
        }
    }

    [Fact]
    public void MapRange_refuses_attributes_that_make_no_leaf()
    {
        var mm = new RiscVSv39.AddressSpace(PageAllocator.Synthetic(64, 12));
        Assert.Equal(-Errno.EINVAL, mm.MapRange(Va, Pa, 0x20_0000, RiscVSv39.Entry.Page(0).WithWrite(true), out var writeOnly));
        Assert.Equal((RefusalReason.InvalidAttributes, PageTableLevel.Pud), (writeOnly.Reason, writeOnly.Level));
        Assert.Contains("reserved bits or encoding", writeOnly.Message, StringComparison.Ordinal);
        Assert.Equal(-Errno.EINVAL, mm.MapRange(Va, Pa, 0x1000, RiscVSv39.Entry.Page(0).WithUser(true), out var noRights));
        Assert.Equal(RefusalReason.InvalidAttributes, noRights.Reason);
        Assert.Empty(mm.Snapshot()); // nothing was written
        Assert.Equal(0, mm.MapRange(Va, Pa, 0x20_0000, RiscVSv39.Entry.Page(0).WithRead(true).WithWrite(true).WithAccessed(true).WithDirty(true)));
        var megapage = mm.Translate(Va + 0x1000, Access.Write);
        Assert.Equal((true, PageTableLevel.Pmd, Pa + 0x1000), (megapage.Ok, megapage.Level, megapage.OutputAddress));
    }

    [Fact]
    public void A_g_stage_checks_every_access_as_U_mode_and_reports_guest_page_faults_with_htval()
    {
        var (guest, vs) = TwoStage(MapRangeOptions.PagesOnly);
        var data = guest.Allocator.AllocPage(Gfp.Zero)!;
        Assert.True(vs.SetEntry(PageTableLevel.Pte, Va, (data.PhysAddr >> 2) | V | R | W | X | A | D));
        foreach (bool generated in new[] { true, false })
        {
            var ok = Translate(vs, Va + 8, Access.Read, generated);
            Assert.True(ok.Ok, ok.ToString());
            Assert.Equal(guest.HostAddress(data.PhysAddr)!.Value + 8, ok.OutputAddress);
            Assert.Equal((3 * 3) + 3 + 3, ok.EntriesRead); // n*m + n + m
        }

        // The G-stage leaf of the data page loses U: every access to it is a guest-page fault, whatever the VS-stage allows.
        var gStage = guest.Stage2;
        Assert.True(gStage.TryGetEntry(PageTableLevel.Pte, data.PhysAddr, out ulong leaf));
        Assert.True(gStage.SetEntry(PageTableLevel.Pte, data.PhysAddr, leaf & ~U));
        foreach (var (access, cause) in new[] { (Access.Read, 21), (Access.Write, 23), (Access.Execute, 20) })
        {
            foreach (bool generated in new[] { true, false })
            {
                var fault = Translate(vs, Va + 0x40, access, generated);
                Assert.Equal((TranslationStage.Stage2, FaultReason.User, cause, (data.PhysAddr + 0x40) >> 2, false), (fault.Stage, fault.Fault, fault.RiscVCause, fault.RiscVHtval, fault.DuringStage1Walk));
            }
        }

        Assert.True(gStage.SetEntry(PageTableLevel.Pte, data.PhysAddr, leaf));

        // The VS-stage's own table reads are G-stage reads: its root without U at the G-stage faults the walk, with the
        // original access's cause and the root entry's guest-physical address.
        ulong root = vs.Pgd.PhysAddr;
        Assert.True(gStage.TryGetEntry(PageTableLevel.Pte, root, out ulong rootLeaf));
        Assert.True(gStage.SetEntry(PageTableLevel.Pte, root, rootLeaf & ~U));
        ulong entry = root + (((Va >> 30) & 511) * 8);
        var walk = Translate(vs, Va, Access.Write, generated: true);
        Assert.Equal((TranslationStage.Stage2, true, 23, entry >> 2), (walk.Stage, walk.DuringStage1Walk, walk.RiscVCause, walk.RiscVHtval));
        Assert.Equal(walk, Translate(vs, Va, Access.Write, generated: false));
    }

    [Fact]
    public void The_vs_stages_accessed_update_is_a_g_stage_write()
    {
        var (guest, vs) = TwoStage(MapRangeOptions.PagesOnly);
        var data = guest.Allocator.AllocPage(Gfp.Zero)!;
        Assert.True(vs.SetEntry(PageTableLevel.Pte, Va, (data.PhysAddr >> 2) | V | R | W));
        Assert.True(vs.TryGetEntry(PageTableLevel.Pmd, Va, out ulong pmd));
        ulong pteTable = vs.Geometry.TableAddress(pmd);
        Assert.True(guest.Stage2.TryGetEntry(PageTableLevel.Pte, pteTable, out ulong gLeaf));
        Assert.True(guest.Stage2.SetEntry(PageTableLevel.Pte, pteTable, gLeaf & ~W)); // the G-stage maps the VS pte table read-only

        Assert.Equal((TranslationStage.Stage1, FaultReason.AccessFlag), Where2(Translate(vs, Va, Access.Read, generated: true))); // Svade: the VS leaf's A is clear
        foreach (bool generated in new[] { true, false })
        {
            var update = Translate(vs, Va, Access.Read, generated, TranslateOptions.UpdateAccessedDirty);
            Assert.Equal((TranslationStage.Stage2, FaultReason.Write, true, 21), (update.Stage, update.Fault, update.DuringStage1Walk, update.RiscVCause));
        }

        Assert.True(guest.Stage2.SetEntry(PageTableLevel.Pte, pteTable, gLeaf));
        Assert.True(Translate(vs, Va, Access.Write, generated: true, TranslateOptions.UpdateAccessedDirty).Ok);
        Assert.True(vs.TryGetEntry(PageTableLevel.Pte, Va, out ulong pte));
        Assert.Equal(V | R | W | A | D, pte & 0x3ff);
    }

    [Fact]
    public void The_g_stage_root_is_four_concatenated_tables_and_a_gpa_above_41_bits_faults()
    {
        var host = PageAllocator.Synthetic(1 << 10, 12);
        var gStage = new RiscVSv39x4.AddressSpace(host);
        Assert.Equal(4, gStage.Pgd.Pages);
        Assert.Equal(0UL, gStage.Pgd.PhysAddr & 0x3fff); // 16 KiB aligned
        ulong high = (1UL << 40) + 0x20_0000; // above Sv39's reach, inside Sv39x4's: the fourth root table
        var guest = new GuestPhysicalSpace(gStage, [new GuestMemorySlot(0x1000_0000, 0x100_0000, 0x8000_0000), new GuestMemorySlot(high, 0x20_0000, 0x9000_0000)], 12, V | R | W | X | U | A | D);
        Assert.Equal(0x9000_0123UL, gStage.Translate(high + 0x123, Access.Read | Access.User).OutputAddress);
        var vs = new RiscVSv39.AddressSpace(guest.Allocator);
        Assert.True(vs.SetEntry(PageTableLevel.Pte, Va, (high >> 2) | V | R | A | D));
        Assert.True(vs.SetEntry(PageTableLevel.Pte, Va + 0x1000, ((1UL << 41) >> 2) | V | R | A | D)); // a GPA of 2^41: beyond the G-stage
        foreach (bool generated in new[] { true, false })
        {
            Assert.Equal(0x9000_0010UL, Translate(vs, Va + 0x10, Access.Read, generated).OutputAddress);
            var beyond = Translate(vs, Va + 0x1010, Access.Read, generated);
            Assert.Equal((TranslationStage.Stage2, FaultReason.NotPresent, PageTableLevel.Pud, 21, ((1UL << 41) + 0x10) >> 2), (beyond.Stage, beyond.Fault, beyond.Level, beyond.RiscVCause, beyond.RiscVHtval));
        }
    }

    /// <summary>An Sv39 VS-stage whose tables live in guest-physical memory behind an Sv39x4 G-stage mapping every access, U-mode's included.</summary>
    private static (GuestPhysicalSpace Guest, Mm Vs) TwoStage(MapRangeOptions options)
    {
        var gStage = new RiscVSv39x4.AddressSpace(PageAllocator.Synthetic(1 << 10, 12));
        var guest = new GuestPhysicalSpace(gStage, [new GuestMemorySlot(0x1000_0000, 0x100_0000, 0x8000_0000)], 12, V | R | W | X | U | A | D, options);
        Assert.True(guest.ChecksAccessesAsUser);
        return (guest, new RiscVSv39.AddressSpace(guest.Allocator));
    }

    private static (TranslationStage Stage, FaultReason Reason) Where2(Translation t) => (t.Stage, t.Fault);

    /// <summary>An Sv39 space with one leaf at <paramref name="level"/> for <see cref="Va"/>: <paramref name="bits"/> beside the address.</summary>
    private static Mm Space(PageTableLevel level, ulong pa, ulong bits)
    {
        var mm = new RiscVSv39.AddressSpace(PageAllocator.Synthetic(64, 12));
        Assert.True(mm.SetEntry(level, Va, (pa >> 2) | bits));
        return mm;
    }

    private static Translation Translate(Mm mm, ulong va, Access access, bool generated, TranslateOptions options = default) =>
        generated ? mm.Translate(va, access, options) : Translator.Translate(mm, va, access, options);

    private static (FaultReason Reason, int Cause) Fault(Translation t) => (t.Fault, t.RiscVCause);

    private static (FaultReason Reason, PageTableLevel Level) Where(Translation t) => (t.Fault, t.Level);
}
