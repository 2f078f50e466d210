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
