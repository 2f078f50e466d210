using PamtGen.Generator.Probe;

namespace PamtGen.Generator.Tests;

/// <summary>
/// x86 nested paging as AMD's CPUs check it (APM vol. 2, 15.25.5 and 15.25.6): every nested access is a user access, a
/// guest page-table access is a nested user write, and a nested page fault reports its cause in EXITINFO1. Each fact
/// holds for the generated Translate and the runtime's loop alike.
/// </summary>
public class AmdNestedPagingTests
{
    private const ulong Va = 0x40_0000;
    private const ulong P = 0x1, Rw = 0x2, Us = 0x4, A = 0x20, D = 0x40;
    private const ulong Final = 1UL << 32, GuestTable = 1UL << 33;
    private static readonly GuestMemorySlot Slot = new(0x1000_0000, 0x100_0000, 0x8000_0000);

    [Fact]
    public void Nested_tables_installed_as_the_kernel_installs_its_own_0x63_fault_on_the_first_guest_table_access()
    {
        // x86-64's own format installs tables as _KERNPG_TABLE (no U/S): as nested tables the CPU walks none of them.
        var stage2 = new X86_64FourLevel.AddressSpace(PageAllocator.Synthetic(1 << 12));
        var guest = new GuestPhysicalSpace(stage2, [Slot], 12, P | Rw | Us | A | D, MapRangeOptions.PagesOnly);
        Assert.True(stage2.TryGetEntry(PageTableLevel.Pgd, Slot.GuestPhysical, out ulong pml4e));
        Assert.Equal(0x63UL, pml4e & 0xfff);
        var stage1 = new X86_64FourLevel.AddressSpace(guest.Allocator);
        var data = guest.Allocator.AllocPage(Gfp.Zero)!;
        Assert.True(stage1.SetEntry(PageTableLevel.Pte, Va, data.PhysAddr | P | Rw | A | D));
        foreach (bool generated in new[] { true, false })
        {
            var t = Translate(stage1, Va, Access.Read, generated);
            Assert.Equal(
                (TranslationStage.Stage2, FaultReason.User, PageTableLevel.Pte, true, stage1.Pgd.PhysAddr, P | Rw | Us | GuestTable), // permissions combine at the leaf
                (t.Stage, t.Fault, t.Level, t.DuringStage1Walk, t.FaultAddress, t.AmdExitInfo1));
        }

        // The same guest over the nested format (tables 0x67, P, R/W, U/S, A, D) translates.
        var (npt, vm) = Guest();
        var page = npt.Allocator.AllocPage(Gfp.Zero)!;
        Assert.True(vm.SetEntry(PageTableLevel.Pte, Va, page.PhysAddr | P | Rw | A | D));
        Assert.True(npt.Stage2.TryGetEntry(PageTableLevel.Pgd, Slot.GuestPhysical, out pml4e));
        Assert.Equal(0x67UL, pml4e & 0xfff);
        Assert.Equal(npt.HostAddress(page.PhysAddr)!.Value + 8, Translate(vm, Va + 8, Access.Read, generated: true).OutputAddress);
        Assert.Equal(Translate(vm, Va + 8, Access.Write, generated: true), Translate(vm, Va + 8, Access.Write, generated: false));

        // A reserved bit in a nested entry (PS in the PML4E) on the way to a guest table: RSV beside P, R/W and U/S.
        Assert.True(npt.Stage2.SetEntry(PageTableLevel.Pgd, Slot.GuestPhysical, pml4e | 0x80));
        foreach (bool generated in new[] { true, false })
        {
            var t = Translate(vm, Va, Access.Read, generated);
            Assert.Equal((FaultReason.ReservedBits, npt.Stage2.Geometry.EntryLevels[0], P | Rw | Us | 0x8 | GuestTable), (t.Fault, t.Level, t.AmdExitInfo1));
        }
    }

    [Fact]
    public void A_guest_table_mapped_read_only_in_the_nested_tables_faults_even_for_a_guest_read()
    {
        var (guest, stage1) = Guest();
        var data = guest.Allocator.AllocPage(Gfp.Zero)!;
        Assert.True(stage1.SetEntry(PageTableLevel.Pte, Va, data.PhysAddr | P | Rw | A | D));
        Assert.True(stage1.TryGetEntry(PageTableLevel.Pmd, Va, out ulong pmd));
        ulong pteTable = stage1.Geometry.TableAddress(pmd);
        Assert.True(guest.Stage2.TryGetEntry(PageTableLevel.Pte, pteTable, out ulong nestedLeaf));
        Assert.True(guest.Stage2.SetEntry(PageTableLevel.Pte, pteTable, nestedLeaf & ~Rw));
        foreach (bool generated in new[] { true, false })
        {
            var t = Translate(stage1, Va, Access.Read, generated);
            Assert.Equal(
                (TranslationStage.Stage2, FaultReason.Write, PageTableLevel.Pte, true, pteTable + (((Va >> 12) & 511) * 8), P | Rw | Us | GuestTable),
                (t.Stage, t.Fault, t.Level, t.DuringStage1Walk, t.FaultAddress, t.AmdExitInfo1));
        }

        // The data page itself may be read-only: the final access is checked by its own kind.
        Assert.True(guest.Stage2.SetEntry(PageTableLevel.Pte, pteTable, nestedLeaf));
        Assert.True(guest.Stage2.TryGetEntry(PageTableLevel.Pte, data.PhysAddr, out ulong dataLeaf));
        Assert.True(guest.Stage2.SetEntry(PageTableLevel.Pte, data.PhysAddr, dataLeaf & ~Rw));
        foreach (bool generated in new[] { true, false })
        {
            Assert.True(Translate(stage1, Va, Access.Read, generated).Ok);
            var write = Translate(stage1, Va + 0x10, Access.Write, generated);
            Assert.Equal(
                (TranslationStage.Stage2, FaultReason.Write, false, data.PhysAddr + 0x10, P | Rw | Us | Final),
                (write.Stage, write.Fault, write.DuringStage1Walk, write.FaultAddress, write.AmdExitInfo1));
        }
    }

    [Fact]
    public void Exitinfo1_carries_the_nested_error_code_of_the_final_access()
    {
        var (guest, stage1) = Guest();
        var data = guest.Allocator.AllocPage(Gfp.Zero)!;
        Assert.True(stage1.SetEntry(PageTableLevel.Pte, Va, data.PhysAddr | P | Rw | Us | A | D));
        Assert.True(guest.Stage2.TryGetEntry(PageTableLevel.Pte, data.PhysAddr, out ulong dataLeaf));
        (ulong Leaf, Access Access, FaultReason Reason, ulong ExitInfo1)[] cases =
        [
            (0, Access.Read, FaultReason.NotPresent, Us | Final), // not present: P = 0; U/S = 1 for a kernel access too
            (0, Access.Write, FaultReason.NotPresent, Rw | Us | Final),
            (dataLeaf & ~Us, Access.Read, FaultReason.User, P | Us | Final), // a nested entry without U/S: a protection fault
            (dataLeaf | (1UL << 63), Access.Execute, FaultReason.Execute, P | Us | 0x10 | Final), // NX in the nested leaf, I/D
        ];
        foreach (var c in cases)
        {
            Assert.True(guest.Stage2.SetEntry(PageTableLevel.Pte, data.PhysAddr, c.Leaf));
            foreach (bool generated in new[] { true, false })
            {
                var t = Translate(stage1, Va + 0x20, c.Access, generated);
                Assert.Equal((TranslationStage.Stage2, c.Reason, data.PhysAddr + 0x20, c.ExitInfo1), (t.Stage, t.Fault, t.FaultAddress, t.AmdExitInfo1));
            }
        }

        // Stage-1 faults are the guest's #PF, no #VMEXIT: EXITINFO1 is 0.
        Assert.Equal(0UL, Translate(stage1, Va + 0x1000, Access.Read, generated: true).AmdExitInfo1);
    }

    /// <summary>An x86-64 guest whose tables live behind AMD nested page tables mapping the slot with 4 KiB user pages.</summary>
    private static (GuestPhysicalSpace Guest, Mm Stage1) Guest()
    {
        var npt = new AmdNpt.AddressSpace(PageAllocator.Synthetic(1 << 12));
        var guest = new GuestPhysicalSpace(npt, [Slot], 12, P | Rw | Us | A | D, MapRangeOptions.PagesOnly);
        Assert.True(guest.ChecksAccessesAsUser);
        Assert.Equal(Access.Write, guest.TableReadAccess(TranslateOptions.None));
        return (guest, new X86_64FourLevel.AddressSpace(guest.Allocator));
    }

    private static Translation Translate(Mm mm, ulong va, Access access, bool generated) =>
        generated ? mm.Translate(va, access) : Translator.Translate(mm, va, access);
}
