namespace PamtGen;

/// <summary>
/// A range of guest-physical memory and the host-physical memory behind it (KVM's memory slot): stage 2 maps
/// [<paramref name="GuestPhysical"/>, +<paramref name="Size"/>) to [<paramref name="HostPhysical"/>, +<paramref name="Size"/>).
/// </summary>
/// <param name="GuestPhysical">The first guest-physical address.</param>
/// <param name="Size">The bytes.</param>
/// <param name="HostPhysical">The first host-physical address.</param>
public readonly record struct GuestMemorySlot(ulong GuestPhysical, ulong Size, ulong HostPhysical);

/// <summary>
/// Guest-physical memory backed by a stage-2 address space: its slots are mapped in <see cref="Stage2"/> (with the largest
/// blocks that fit), and its <see cref="Allocator"/> hands out guest pages whose content is the host memory stage 2 maps
/// them to. A stage-1 address space created over that allocator keeps its tables in guest-physical memory, and its
/// <see cref="Mm.Translate"/> is two-stage: every stage-1 table entry is read at the host address stage 2 gives its
/// guest-physical address, and the output goes through stage 2 too. Host memory behind the slots is not the model's
/// allocator's: its content exists where it was written (or allocated as a guest page), and reads as zero elsewhere.
/// </summary>
public sealed class GuestPhysicalSpace
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, (ulong[] Content, int Offset)> _host = new();
    private readonly GuestMemorySlot[] _slots;

    /// <summary>
    /// Maps <paramref name="slots"/> in <paramref name="stage2"/> with leaves carrying <paramref name="attributes"/> (the
    /// format's field bits; the largest leaves <paramref name="options"/> allow) and creates the guest-physical allocator
    /// of <paramref name="guestPageShift"/> pages over them. Throws <see cref="ArgumentException"/> for slots that are not
    /// aligned to both page sizes, overlap, or overlap the host allocator's RAM (which holds stage 2's own tables), and
    /// <see cref="InvalidOperationException"/> when stage 2 cannot map them (its -errno named), leaving stage 2 as it was.
    /// </summary>
    public GuestPhysicalSpace(Mm stage2, IEnumerable<GuestMemorySlot> slots, int guestPageShift, ulong attributes, MapRangeOptions options = default)
    {
        ArgumentNullException.ThrowIfNull(stage2);
        ArgumentNullException.ThrowIfNull(slots);
        if (stage2.Allocator.Guest is not null)
        {
            throw new ArgumentException("stage 2 must live in host memory, not in another guest's", nameof(stage2));
        }

        Stage2 = stage2;
        GuestPageShift = guestPageShift;
        _slots = slots.OrderBy(s => s.GuestPhysical).ToArray();
        ulong alignment = Math.Max(1UL << guestPageShift, stage2.Geometry.PageSize);
        foreach (var slot in _slots)
        {
            if (slot.Size == 0 || ((slot.GuestPhysical | slot.Size | slot.HostPhysical) & (alignment - 1)) != 0)
            {
                throw new ArgumentException($"{slot}: a slot is a non-empty range aligned to 0x{alignment:x} (both page sizes)", nameof(slots));
            }

            foreach (var ram in stage2.Allocator.Ram)
            {
                ulong start = ram.Start << stage2.Geometry.PageShift, end = ram.End << stage2.Geometry.PageShift;
                if (slot.HostPhysical < end && start < slot.HostPhysical + slot.Size)
                {
                    throw new ArgumentException($"{slot}: its host memory overlaps the host allocator's RAM [0x{start:x}, 0x{end:x}), where stage 2 keeps its tables", nameof(slots));
                }
            }
        }

        // The allocator checks that the guest ranges do not overlap; build it before touching stage 2.
        Allocator = new PageAllocator(_slots.Select(s => new PfnRange(s.GuestPhysical >> guestPageShift, (s.GuestPhysical + s.Size) >> guestPageShift)), guestPageShift)
        {
            Guest = this,
            Backing = Back,
        };
        var gather = new TlbGather();
        for (int i = 0; i < _slots.Length; i++)
        {
            int err = BlockMapping.MapRange(stage2, _slots[i].GuestPhysical, _slots[i].HostPhysical, _slots[i].Size, attributes, options, gather);
            if (err != 0)
            {
                for (int j = i - 1; j >= 0; j--)
                {
                    BlockMapping.UnmapRange(stage2, _slots[j].GuestPhysical, _slots[j].Size, gather);
                }

                gather.Flush(stage2);
                throw new InvalidOperationException($"stage 2 could not map {_slots[i]}: error {err}");
            }
        }

        gather.Flush(stage2);
    }

    /// <summary>The stage-2 address space (guest-physical to host-physical).</summary>
    public Mm Stage2 { get; }

    /// <summary>The guest pages' allocator: guest-physical frames of the slots, with their content in host memory.</summary>
    public PageAllocator Allocator { get; }

    /// <summary>PAGE_SHIFT of the guest's pages (the stage-1 geometry's).</summary>
    public int GuestPageShift { get; }

    /// <summary>The memory slots, by guest-physical address.</summary>
    public IReadOnlyList<GuestMemorySlot> Slots => _slots;

    /// <summary>
    /// True when stage 2 checks every access as a user access: a RISC-V G-stage (every G-stage access is checked as a U-mode
    /// access, so its leaves need U) and AMD's nested page tables (APM vol. 2, 15.25.5: every nested access is a user
    /// access, so every nested entry on the way needs U/S); otherwise as privileged accesses (arm64 stage 2 makes no EL0/EL1
    /// distinction, and Intel EPT checks a fetch by the mode of its linear address, <see cref="Stage2AsUser"/>).
    /// </summary>
    public bool ChecksAccessesAsUser => Stage2.Geometry.Format.Declaration.Permissions is PermissionModel.RiscV or PermissionModel.X86;

    /// <summary>
    /// Whether stage 2 checks the access to a stage-1 output that stage 1 allowed with <paramref name="stage1"/> as a user
    /// access: always where <see cref="ChecksAccessesAsUser"/>; on Intel EPT when the linear address is a user-mode address
    /// (U/S = 1 at every guest level: stage 1 grants user accesses), which decides whether a fetch needs UserExecute under
    /// mode-based execute control; never otherwise.
    /// </summary>
    internal bool Stage2AsUser(Permissions stage1) =>
        ChecksAccessesAsUser
        || (Stage2.Geometry.Format.Declaration.Permissions == PermissionModel.IntelEpt && (stage1 & (Permissions.UserRead | Permissions.UserWrite | Permissions.UserExecute)) != 0);

    /// <summary>
    /// The stage-2 access a stage-1 walk makes to read one of its entries with <paramref name="options"/>: a write for AMD's
    /// nested page tables, which check every guest page-table access as a user write (as QEMU's and KVM's models of the
    /// nested walk do: the walker may set A/D in the entry it reads), so a guest table needs a writable nested mapping; on
    /// Intel EPT a write when EPT accessed and dirty flags are enabled (EPTP bit 6, <see cref="TranslateOptions.UpdateAccessedDirty"/>:
    /// SDM 29.3.3.2 treats every guest paging-structure access as a write then), a read otherwise; a read elsewhere (arm64
    /// S1PTW, a RISC-V implicit VS-stage read). The walker's own updates of an entry are writes everywhere.
    /// </summary>
    public Access TableReadAccess(TranslateOptions options) => Stage2.Geometry.Format.Declaration.Permissions switch
    {
        PermissionModel.X86 => Access.Write,
        PermissionModel.IntelEpt when (options & TranslateOptions.UpdateAccessedDirty) != 0 => Access.Write,
        _ => Access.Read,
    };

    /// <summary>
    /// The stage-2 translation of guest-physical <paramref name="gpa"/> for <paramref name="access"/> (its kind: read, write
    /// or fetch), as the MMU makes it for a stage-1 walk's entry or its output: a user access when <paramref name="asUser"/>
    /// (<see cref="ChecksAccessesAsUser"/>, <see cref="Stage2AsUser"/>), a privileged one otherwise, without the stage-1 controls (RISC-V's SUM and MXR
    /// are vsstatus's, not the G-stage's). An address above stage 2's input width faults at its top level (a RISC-V
    /// guest-page fault: the GPA must be zero above the Sv39x4/Sv48x4/Sv57x4 width), never reaching an alias.
    /// </summary>
    internal Translation TranslateStage2(ulong gpa, Access access, bool asUser, TranslateOptions options, bool generated)
    {
        var g = Stage2.Geometry;
        var checkedAs = (access & ~Access.User) | (asUser ? Access.User : 0);
        if (g.VirtualAddressBits < 64 && gpa >> g.VirtualAddressBits != 0)
        {
            return new Translation(FaultReason.NotPresent, TranslationStage.Stage1, g.EntryLevels[0], 0, 0, Permissions.None, false, checkedAs, 0, gpa);
        }

        return Stage2.TranslateWith(gpa, checkedAs, options & ~(TranslateOptions.SupervisorUserMemory | TranslateOptions.MakeExecutableReadable), generated);
    }

    /// <summary>Where stage 2 sends <paramref name="gpa"/> now, read from its tables without a translation (no permission, no count, no TLB); null when unmapped.</summary>
    public ulong? HostAddress(ulong gpa) =>
        Stage2.TryGetLeaf(gpa, out var level, out ulong leaf)
            ? Stage2.Geometry.LeafAddress(level, leaf) + (gpa & (Stage2.Geometry.Size(level) - 1))
            : null;

    /// <summary>The entry at host-physical <paramref name="hpa"/> of a table of <paramref name="entrySize"/>-byte entries (one 64-bit slot per entry, as a table page keeps them); memory nothing was written to reads as zero.</summary>
    internal ulong ReadHost(ulong hpa, int entrySize) =>
        TryHostSlot(hpa, entrySize, out var content, out int slot) ? Volatile.Read(ref content[slot]) : 0;

    /// <summary>Writes the entry at host-physical <paramref name="hpa"/>; a write to memory no guest page holds is lost, as the model keeps none there.</summary>
    internal void WriteHost(ulong hpa, int entrySize, ulong value)
    {
        if (TryHostSlot(hpa, entrySize, out var content, out int slot))
        {
            Volatile.Write(ref content[slot], value);
        }
    }

    /// <summary>Compare-exchanges the entry at host-physical <paramref name="hpa"/>; returns what it held (zero where no guest page is).</summary>
    internal ulong CompareExchangeHost(ulong hpa, int entrySize, ulong value, ulong comparand) =>
        TryHostSlot(hpa, entrySize, out var content, out int slot) ? Interlocked.CompareExchange(ref content[slot], value, comparand) : 0;

    /// <summary>Where the host memory at <paramref name="hpa"/> is kept: the guest page content behind it, and the entry's slot in it.</summary>
    private bool TryHostSlot(ulong hpa, int entrySize, out ulong[] content, out int slot)
    {
        int pageBytes = 1 << GuestPageShift;
        int index = (int)(hpa & (ulong)(pageBytes - 1)) / entrySize;
        lock (_lock)
        {
            if (_host.TryGetValue(hpa >> GuestPageShift, out var page) && page.Offset + index < page.Content.Length)
            {
                (content, slot) = (page.Content, page.Offset + index);
                return true;
            }
        }

        (content, slot) = (null!, 0);
        return false;
    }

    /// <summary>
    /// The content of the <paramref name="pages"/> guest pages at <paramref name="gfn"/> (several for a concatenated root):
    /// the host memory stage 2 maps them to, one array whose part of each page is found by that page's host address.
    /// </summary>
    private ulong[] Back(ulong gfn, int words, int pages)
    {
        var content = new ulong[words];
        lock (_lock)
        {
            for (int i = 0; i < pages; i++)
            {
                ulong hpa = HostAddress((gfn + (ulong)i) << GuestPageShift)
                    ?? throw new KernelBugException($"guest frame 0x{gfn + (ulong)i:x} is not mapped by stage 2", gfn + (ulong)i);
                _host[hpa >> GuestPageShift] = (content, i * (words / pages));
            }
        }

        return content;
    }
}
