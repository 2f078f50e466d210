using PamtGen;

namespace NestedPaging;

/// <summary>One architecture's pieces: its geometries and the leaf bits KVM and a guest kernel would write.</summary>
/// <param name="Name">For the report.</param>
/// <param name="NewStage2">A stage-2 address space whose tables come from the host allocator.</param>
/// <param name="NewStage1">The guest's stage-1 address space, its tables from the guest-physical allocator.</param>
/// <param name="Stage2ReadWrite">Stage-2 leaf bits for guest RAM: read, write, execute, normal memory, accessed.</param>
/// <param name="Stage2Write">The bit that grants writes at stage 2 (arm64 S2AP[1], x86 R/W): dirty logging clears it.</param>
/// <param name="GuestData">The guest kernel's leaf bits for its linear map of RAM (accessed and, on x86, dirty set: the walker writes nothing).</param>
public sealed record Architecture(string Name, Func<PageAllocator, Mm> NewStage2, Func<PageAllocator, Mm> NewStage1, ulong Stage2ReadWrite, ulong Stage2Write, ulong GuestData)
{
    /// <summary>arm64: a 4-level 4K-granule stage 1 over KVM's 3-level stage 2 with 2 concatenated root tables.</summary>
    public static Architecture Arm64 { get; } = new(
        "arm64 (stage 1: 4 levels, 4K granule; stage 2: 3 levels from level 1, 2 concatenated root tables)",
        host => new Arm64Stage2.AddressSpace(host),
        guest => new Arm64Guest.AddressSpace(guest),
        Stage2ReadWrite: Arm64Stage2.Entry.Page(0).WithMemAttr(0xf).WithS2AccessPermissions(3).WithShareability(3).WithAccessFlag(true).Value,
        Stage2Write: Arm64Stage2.Entry.Page(0).WithS2AccessPermissions(2).Value,
        GuestData: Arm64Guest.Entry.Page(0).WithShareability(3).WithAccessFlag(true).WithPrivilegedExecuteNever(true).WithUnprivilegedExecuteNever(true).Value);

    /// <summary>x86-64: a 4-level guest over AMD's 4-level nested page tables (the same format).</summary>
    public static Architecture X86 { get; } = new(
        "x86-64 (guest: 4 levels; nested page tables: 4 levels)",
        host => new X86Npt.AddressSpace(host),
        guest => new X86Guest.AddressSpace(guest),
        Stage2ReadWrite: X86Npt.Entry.Page(0).WithWritable(true).WithUser(true).WithAccessed(true).WithDirty(true).Value,
        Stage2Write: X86Npt.Entry.Page(0).WithWritable(true).Value,
        GuestData: X86Guest.Entry.Page(0).WithWritable(true).WithAccessed(true).WithDirty(true).WithNoExecute(true).Value);
}

/// <summary>
/// A virtual machine on the model: guest RAM (memory slots backed by host memory at <see cref="HostBase"/> + the
/// guest-physical address) mapped by a stage 2, and the guest kernel's stage 1 living in that RAM. Dirty logging is
/// KVM's: write-protect stage 2 (kvm_mmu_wp_memory_region()), and on a stage-2 write fault split the block down to the
/// page, mark the page dirty (mark_page_dirty()), give the page its write permission back and invalidate
/// (kvm_pgtable_stage2_relax_perms(), then TLBI IPAS2E1 and VMALLE1, since combined entries are tagged by VA).
/// </summary>
public sealed class Vm
{
    /// <summary>Where guest RAM lives in host-physical memory: this plus its guest-physical address (above the host allocator's RAM).</summary>
    public const ulong HostBase = 1UL << 40;

    private readonly Architecture _arch;
    private readonly HashSet<ulong> _dirty = [];
    private readonly HashSet<ulong> _dirtyTables = [];

    /// <summary>Maps <paramref name="ram"/> (guest-physical ranges) at stage 2 with leaves no larger than <paramref name="largestLeaf"/>.</summary>
    public Vm(Architecture arch, IEnumerable<(ulong Start, ulong End)> ram, PageTableLevel largestLeaf = PageTableLevel.Pgd)
    {
        _arch = arch;
        Host = PageAllocator.Synthetic(1 << 20);
        Stage2 = arch.NewStage2(Host);
        var slots = ram
            .Select(r => (Start: (r.Start + 0xfff) & ~0xfffUL, End: r.End & ~0xfffUL))
            .Where(r => r.End > r.Start)
            .Select(r => new GuestMemorySlot(r.Start, r.End - r.Start, HostBase + r.Start))
            .ToArray();
        Guest = new GuestPhysicalSpace(Stage2, slots, 12, arch.Stage2ReadWrite, new MapRangeOptions(LargestLeaf: largestLeaf));
        Stage1 = arch.NewStage1(Guest.Allocator);
    }

    /// <summary>The host's allocator: stage 2's tables come from it.</summary>
    public PageAllocator Host { get; }

    /// <summary>The stage-2 address space.</summary>
    public Mm Stage2 { get; }

    /// <summary>Guest-physical memory.</summary>
    public GuestPhysicalSpace Guest { get; }

    /// <summary>The guest kernel's address space.</summary>
    public Mm Stage1 { get; }

    /// <summary>Translations that walked the tables (every one but a TLB hit), faults included.</summary>
    public long Walks { get; private set; }

    /// <summary>Entries those walks read, at both stages.</summary>
    public long EntriesRead { get; private set; }

    /// <summary>Stage-2 write faults taken while dirty logging.</summary>
    public long WriteFaults { get; private set; }

    /// <summary>Stage-2 blocks split while dirty logging, by level.</summary>
    public Dictionary<PageTableLevel, int> Splits { get; } = [];

    /// <summary>The guest frames written since dirty logging started (the dirty bitmap).</summary>
    public IReadOnlyCollection<ulong> DirtyPages => _dirty;

    /// <summary>Those of <see cref="DirtyPages"/> that the stage-1 walk itself wrote: guest page tables (x86 only, none on arm64, whose walker reads them).</summary>
    public IReadOnlyCollection<ulong> DirtyTablePages => _dirtyTables;

    /// <summary>The guest kernel maps [<paramref name="gpa"/>, +<paramref name="size"/>) at <paramref name="va"/> with pages (its linear map).</summary>
    public void MapLinear(ulong va, ulong gpa, ulong size)
    {
        int err = BlockMapping.MapRange(Stage1, va, gpa, size, _arch.GuestData, MapRangeOptions.PagesOnly);
        if (err != 0)
        {
            throw new InvalidOperationException($"the guest's linear map of 0x{gpa:x} +0x{size:x} failed: {err}");
        }
    }

    /// <summary>Stage-2 leaves by level, from the tables.</summary>
    public Dictionary<PageTableLevel, int> Stage2Leaves() =>
        Stage2.Snapshot().Where(e => Stage2.Geometry.IsLeafEntry(e.Level, e.Value)).GroupBy(e => e.Level).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>kvm_mmu_wp_memory_region(): every slot read-only at stage 2 (a permission change: no break-before-make), then one invalidation of everything.</summary>
    public void StartDirtyLogging()
    {
        var gather = new TlbGather();
        foreach (var slot in Guest.Slots)
        {
            // Replace keeps the blocks as they are: the same output, the same sizes, without the write bit.
            int err = BlockMapping.MapRange(Stage2, slot.GuestPhysical, slot.HostPhysical, slot.Size, _arch.Stage2ReadWrite & ~_arch.Stage2Write, new MapRangeOptions(Replace: true), gather);
            if (err != 0)
            {
                throw new InvalidOperationException($"write-protecting {slot} failed: {err}");
            }
        }

        gather.Flush(Stage2);
        Stage1.Tlb?.InvalidateAll();
    }

    /// <summary>The guest accesses <paramref name="va"/>: translated as the MMU does; a stage-2 write fault is handled as KVM does and the access retried.</summary>
    public Translation Access(ulong va, Access access)
    {
        while (true)
        {
            var result = Stage1.Translate(va, access);
            Walks += result.EntriesRead > 0 ? 1 : 0;
            EntriesRead += result.EntriesRead;
            if (result is { Stage: TranslationStage.Stage2, Fault: FaultReason.Write })
            {
                if (result.DuringStage1Walk)
                {
                    // AMD's nested walker writes the guest's page tables (every guest-table access is a nested user write):
                    // KVM logs them dirty as it logs the guest's own writes.
                    _dirtyTables.Add(result.FaultAddress >> Stage2.Geometry.PageShift);
                }

                HandleWriteFault(result.FaultAddress);
                continue;
            }

            return result;
        }
    }

    /// <summary>user_mem_abort() with dirty logging: split down to the page, mark it dirty, make it writable, invalidate.</summary>
    private void HandleWriteFault(ulong gpa)
    {
        WriteFaults++;
        ulong page = gpa & ~(Stage2.Geometry.PageSize - 1);
        var gather = new TlbGather();
        for (var level = Stage2.Translate(page, PamtGen.Access.Read, TranslateOptions.BypassTlb).Level; level != PageTableLevel.Pte; level = Stage2.Translate(page, PamtGen.Access.Read, TranslateOptions.BypassTlb).Level)
        {
            int split = BlockMapping.Split(Stage2, page, level, gather);
            if (split != 0)
            {
                throw new InvalidOperationException($"splitting the {level} block at 0x{page:x} failed: {split}");
            }

            Splits[level] = Splits.GetValueOrDefault(level) + 1;
        }

        ulong hpa = Guest.HostAddress(page) ?? throw new InvalidOperationException($"0x{page:x} is not guest RAM");
        int err = BlockMapping.MapRange(Stage2, page, hpa, Stage2.Geometry.PageSize, _arch.Stage2ReadWrite, new MapRangeOptions(Replace: true, LargestLeaf: PageTableLevel.Pte), gather);
        if (err != 0)
        {
            throw new InvalidOperationException($"restoring write to 0x{page:x} failed: {err}");
        }

        _dirty.Add(page >> Stage2.Geometry.PageShift);
        gather.Flush(Stage2); // TLBI IPAS2E1 for the page
        Stage1.Tlb?.InvalidateAll(); // and VMALLE1: combined stage-1+2 entries are tagged by VA
    }
}
