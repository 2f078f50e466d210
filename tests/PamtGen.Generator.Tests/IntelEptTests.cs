using PamtGen.Generator.Probe;

namespace PamtGen.Generator.Tests;

/// <summary>
/// Intel EPT as the SDM defines it (vol. 3C, 29.3.2 and 29.3.3, table 28-7 for the exit qualification): an entry is
/// present when R, W or X is set; W without R and the memory types 2, 3, 7 are misconfigurations (exit reason 49), told
/// apart from violations (48); permissions are the AND over every level; EPTP bit 6 makes guest page-table accesses
/// writes. Each fact holds for the generated Translate and the runtime's loop alike.
/// </summary>
public class IntelEptTests
{
    private const ulong Va = 0x40_0000;
    private const ulong R = 0x1, W = 0x2, X = 0x4, Wb = 6 << 3, EptA = 0x100, EptD = 0x200, Ux = 0x400;
    private const ulong P = 0x1, Rw = 0x2, Us = 0x4, A = 0x20, D = 0x40;
    private static readonly GuestMemorySlot Slot = new(0x1000_0000, 0x100_0000, 0x8000_0000);

    [Fact]
    public void An_entry_is_present_with_any_of_r_w_x_and_execute_only_pages_translate_fetches_only()
    {
        var ept = new IntelEpt.AddressSpace(PageAllocator.Synthetic(1 << 12));
        Assert.Equal(0, BlockMapping.MapRange(ept, 0x20_0000, 0x8000_0000, 0x1000, X | Wb, MapRangeOptions.PagesOnly, new TlbGather()));
        Assert.True(ept.TryGetEntry(PageTableLevel.Pgd, 0x20_0000, out ulong pml4e));
        Assert.Equal(0x507UL, pml4e & 0xfff); // R, W, X, A and user-execute, as KVM's make_nonleaf_spte() with MBEC
        foreach (bool generated in new[] { true, false })
        {
            Assert.True(Translate(ept, 0x20_0010, Access.Execute, generated).Ok);
            var read = Translate(ept, 0x20_0010, Access.Read, generated);
            Assert.Equal((FaultReason.Read, PamtGen.Permissions.KernelExecute | PamtGen.Permissions.UserExecute), (read.Fault, read.Permissions));
        }

        // 0 in bits 2:0 is not present, whatever else the entry holds.
        Assert.True(ept.SetEntry(PageTableLevel.Pte, 0x20_0000, 0x8000_0000 | Wb | EptA | EptD));
        Assert.Equal(FaultReason.NotPresent, Translate(ept, 0x20_0000, Access.Execute, generated: true).Fault);
        Assert.False(((IntelEpt.Entry)new Pte(0x8000_0000 | Wb)).IsValid(PageTableLevel.Pte));
        Assert.True(((IntelEpt.Entry)new Pte(0x8000_0000 | W | R)).IsValid(PageTableLevel.Pte));

        // MapRange refuses attributes that make no present page.
        Assert.Equal(-Errno.EINVAL, BlockMapping.MapRange(ept, 0x40_0000, 0x8000_1000, 0x1000, Wb, MapRangeOptions.PagesOnly, new TlbGather()));
    }

    [Theory]
    [InlineData(W | Wb, 49UL)] // W without R
    [InlineData(R | (2 << 3), 49UL)] // memory type 2, reserved
    [InlineData(R | (3 << 3), 49UL)]
    [InlineData(R | (7 << 3), 49UL)]
    [InlineData(R | (4 << 3), 0UL)] // WT: a memory type, translates
    [InlineData(R | (1 << 3), 0UL)] // WC
    [InlineData(0UL, 48UL)] // not present: a violation
    public void Misconfigurations_are_told_apart_from_violations(ulong leafBits, ulong exitReason)
    {
        var (guest, stage1) = Guest(TranslateOptions.None);
        var data = guest.Allocator.AllocPage(Gfp.Zero)!;
        Assert.True(stage1.SetEntry(PageTableLevel.Pte, Va, data.PhysAddr | P | Rw | A | D));
        ulong hpa = guest.HostAddress(data.PhysAddr)!.Value;
        Assert.True(guest.Stage2.SetEntry(PageTableLevel.Pte, data.PhysAddr, hpa | leafBits));
        foreach (bool generated in new[] { true, false })
        {
            var t = Translate(stage1, Va + 8, Access.Read, generated);
            Assert.Equal(exitReason, (ulong)t.IntelExitReason);
            if (exitReason == 49)
            {
                Assert.Equal((TranslationStage.Stage2, FaultReason.ReservedBits, 0UL), (t.Stage, t.Fault, t.IntelExitQualification));
            }
            else if (exitReason == 48)
            {
                // A read of the final address (bit 0), nothing allowed (bits 5:3 = 0), linear address valid (7), final (8).
                Assert.Equal((data.PhysAddr + 8, 0x181UL), (t.FaultAddress, t.IntelExitQualification));
            }
            else
            {
                Assert.Equal(hpa + 8, t.OutputAddress);
            }
        }

        // Bits 6:3 of a table entry are reserved: a misconfiguration on the way to the page.
        Assert.True(guest.Stage2.TryGetEntry(PageTableLevel.Pmd, data.PhysAddr, out ulong pde));
        Assert.True(guest.Stage2.SetEntry(PageTableLevel.Pmd, data.PhysAddr, pde | Wb));
        Assert.Equal(49, Translate(stage1, Va + 8, Access.Read, generated: true).IntelExitReason);
    }

    [Fact]
    public void A_violation_reports_the_access_and_the_and_of_the_permissions_of_every_level()
    {
        var (guest, stage1) = Guest(TranslateOptions.None);
        var data = guest.Allocator.AllocPage(Gfp.Zero)!;
        Assert.True(stage1.SetEntry(PageTableLevel.Pte, Va, data.PhysAddr | P | Rw | Us | A | D));
        foreach (var level in stage1.Geometry.EntryLevels.Where(l => l != PageTableLevel.Pte))
        {
            Assert.True(stage1.TryGetEntry(level, Va, out ulong table));
            Assert.True(stage1.SetEntry(level, Va, table | Us)); // a user-mode linear address: U/S at every guest level
        }

        ulong hpa = guest.HostAddress(data.PhysAddr)!.Value;
        Assert.True(guest.Stage2.SetEntry(PageTableLevel.Pte, data.PhysAddr, hpa | R | W | X | Wb | Ux));
        Assert.True(guest.Stage2.TryGetEntry(PageTableLevel.Pmd, data.PhysAddr, out ulong pde));
        Assert.True(guest.Stage2.SetEntry(PageTableLevel.Pmd, data.PhysAddr, pde & ~W)); // the PDE takes W away from the whole 2 MiB
        foreach (bool generated in new[] { true, false })
        {
            var write = Translate(stage1, Va, Access.Write, generated);
            // Write (bit 1); readable, executable (3, 5), not writable (4); user-executable (6); valid linear address, final (7, 8).
            Assert.Equal((48, FaultReason.Write, 0x1eaUL), (write.IntelExitReason, write.Fault, write.IntelExitQualification));
            Assert.True(Translate(stage1, Va, Access.Read, generated).Ok);
        }

        // Mode-based execute control: a fetch from a user-mode linear address needs bit 10 at every level, a supervisor one bit 2.
        Assert.True(guest.Stage2.SetEntry(PageTableLevel.Pte, data.PhysAddr, hpa | R | W | X | Wb));
        foreach (bool generated in new[] { true, false })
        {
            var user = Translate(stage1, Va, Access.Execute | Access.User, generated, TranslateOptions.ModeBasedExecute);
            Assert.Equal((48, FaultReason.User, 0x1acUL), (user.IntelExitReason, user.Fault, user.IntelExitQualification)); // W still taken away by the PDE; a fetch the supervisor half allows is a User fault
            // The kernel's fetch from the same user page is a fetch from a user-mode linear address too (U/S = 1 at every guest level).
            Assert.Equal(FaultReason.User, Translate(stage1, Va, Access.Execute, generated, TranslateOptions.ModeBasedExecute).Fault);
            Assert.True(Translate(stage1, Va, Access.Execute | Access.User, generated).Ok); // without MBEC bit 2 decides
        }

        // A supervisor-mode address (U/S = 0 in the guest's PTE): bit 2 decides under MBEC.
        Assert.True(stage1.SetEntry(PageTableLevel.Pte, Va, data.PhysAddr | P | Rw | A | D));
        Assert.True(Translate(stage1, Va, Access.Execute, generated: true, TranslateOptions.ModeBasedExecute).Ok);
    }

    [Fact]
    public void With_accessed_and_dirty_flags_enabled_guest_table_accesses_are_writes()
    {
        var (guest, stage1) = Guest(TranslateOptions.UpdateAccessedDirty);
        var data = guest.Allocator.AllocPage(Gfp.Zero)!;
        Assert.True(stage1.SetEntry(PageTableLevel.Pte, Va, data.PhysAddr | P | Rw | A | D));
        ulong pgd = stage1.Pgd.PhysAddr;
        ulong pgdHpa = guest.HostAddress(pgd)!.Value;

        // The guest's top table mapped read-only: a read walks it with EPT A/D off, faults with it on (qualification bits 0 and 1, not final).
        Assert.True(guest.Stage2.SetEntry(PageTableLevel.Pte, pgd, pgdHpa | R | X | Wb | EptA | EptD));
        foreach (bool generated in new[] { true, false })
        {
            Assert.True(Translate(stage1, Va, Access.Read, generated).Ok);
            var t = Translate(stage1, Va, Access.Read, generated, TranslateOptions.UpdateAccessedDirty);
            Assert.Equal((TranslationStage.Stage2, FaultReason.Write, true, pgd, 0xebUL), (t.Stage, t.Fault, t.DuringStage1Walk, t.FaultAddress, t.IntelExitQualification));
        }

        // Writable again: the walk sets A in every EPT entry it used and D in the leaves of the guest tables it wrote, and of the data.
        Assert.True(guest.Stage2.SetEntry(PageTableLevel.Pte, pgd, pgdHpa | R | W | X | Wb));
        Assert.True(Translate(stage1, Va, Access.Write, generated: true, TranslateOptions.UpdateAccessedDirty).Ok);
        Assert.True(guest.Stage2.TryGetEntry(PageTableLevel.Pte, pgd, out ulong pgdLeaf));
        Assert.Equal(EptA | EptD, pgdLeaf & (EptA | EptD));
        Assert.True(guest.Stage2.TryGetEntry(PageTableLevel.Pte, data.PhysAddr, out ulong dataLeaf));
        Assert.Equal(EptA | EptD, dataLeaf & (EptA | EptD));
    }

    /// <summary>An x86-64 guest whose tables live behind EPT mapping the slot with 4 KiB pages, R, W, X, write-back.</summary>
    private static (GuestPhysicalSpace Guest, Mm Stage1) Guest(TranslateOptions options)
    {
        var ept = new IntelEpt.AddressSpace(PageAllocator.Synthetic(1 << 12));
        var guest = new GuestPhysicalSpace(ept, [Slot], 12, R | W | X | Wb | Ux, MapRangeOptions.PagesOnly);
        Assert.False(guest.ChecksAccessesAsUser);
        Assert.Equal((options & TranslateOptions.UpdateAccessedDirty) != 0 ? Access.Write : Access.Read, guest.TableReadAccess(options));
        return (guest, new X86_64FourLevel.AddressSpace(guest.Allocator));
    }

    private static Translation Translate(Mm mm, ulong va, Access access, bool generated, TranslateOptions options = TranslateOptions.None) =>
        generated ? mm.Translate(va, access, options) : Translator.Translate(mm, va, access, options);
}
