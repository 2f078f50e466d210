using System.Runtime.CompilerServices;

namespace PamtGen;

/// <summary>
/// One address space (<c>struct mm_struct</c>), for the model usually the kernel's <c>init_mm</c>:
/// a root table from the allocator, the geometry, and <c>page_table_lock</c>, which is taken only
/// while a missing table is installed. A generated geometry class has its own kind of address space,
/// <c>X86_64.AddressSpace</c>, derived from this one, whose operations run its unrolled walkers; code written for any
/// geometry calls the same operations on this class (<see cref="ApplyToPageRange{TFn}(ulong, ulong, ref TFn)"/>,
/// <see cref="MapRange(ulong, ulong, ulong, ulong, MapRangeOptions, TlbGather?)"/>, <see cref="Translate"/>, ...), and gets the runtime's one walk (<see cref="PageTableWalk"/>) for an address space
/// that is not a generated one.
/// </summary>
public partial class Mm
{
    private readonly List<string> _warnings = [];

    /// <summary>pgd_alloc(): creates the address space and allocates its root table; throws when that allocation fails.</summary>
    public Mm(Geometry geometry, PageAllocator allocator)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(allocator);
        if (allocator.PageShift != geometry.PageShift)
        {
            throw new ArgumentException(
                $"the allocator hands out {allocator.PageSize}-byte pages but {geometry} uses {geometry.PageSize}-byte pages", nameof(allocator));
        }

        Geometry = geometry;
        Allocator = allocator;
        // A concatenated root (arm64 stage 2) is RootTables physically contiguous tables aligned to their total size.
        Pgd = new ModelMemory(allocator).AllocTable(geometry.PtrsPerTable, geometry.RootTables)
            ?? throw new InsufficientMemoryException("pgd_alloc: the root page table could not be allocated");
    }

    /// <summary>The geometry of this address space's tables.</summary>
    public Geometry Geometry { get; }

    /// <summary>The allocator tables and pages come from.</summary>
    public PageAllocator Allocator { get; }

    /// <summary>mm-&gt;pgd: the root table.</summary>
    public Page Pgd { get; }

    /// <summary>mm-&gt;page_table_lock: serialises the installation of missing tables.</summary>
    public Lock PageTableLock { get; } = new();

    /// <summary>The TLB model of this address space, once <see cref="TrackTlb"/> attached it; null before (no TLB state is kept).</summary>
    public Tlb? Tlb { get; private set; }

    /// <summary>
    /// The kernel's WARN()s on this address space, in order: WARN_ON_ONCE(pXd_leaf()) and WARN_ON_ONCE(pXd_bad()) of the
    /// page-range walkers, and the pXd_ERROR() line of pXd_clear_bad(). The kernel logs them and goes on; so does the model.
    /// </summary>
    public IReadOnlyList<string> Warnings
    {
        get
        {
            lock (_warnings)
            {
                return _warnings.ToArray();
            }
        }
    }

    /// <summary>
    /// Attaches a <see cref="PamtGen.Tlb"/> that follows every entry change made through set_pte_at(), pte_clear(),
    /// pte_update() and the block-mapping operations from now on (<paramref name="strict"/>: break-before-make and missing
    /// invalidations are BUGs). Returns it; a second call returns the same one with its strictness set.
    /// </summary>
    public Tlb TrackTlb(bool strict = false)
    {
        Tlb ??= new Tlb(this, strict);
        Tlb.Strict = strict;
        return Tlb;
    }

    /// <summary>WARN(): records the message, as the kernel logs it and goes on.</summary>
    internal void Warn(string message)
    {
        lock (_warnings)
        {
            _warnings.Add(message);
        }
    }

    /// <summary>pXd_page_vaddr(): the table an upper-level entry points to; the kernel follows it blindly, so an address holding no table is a BUG.</summary>
    internal Page TableOf<TMemory>(PageTableLevel level, ulong va, ulong entry, ref TMemory memory)
        where TMemory : struct, IPageTableMemory =>
        memory.TableAt(Geometry.TableAddress(entry))
            ?? throw PageTableWalk.NoTable(Geometry, new WalkContext { Level = level, Address = va, Size = Geometry.Size(level), Old = entry });

    /// <summary>
    /// __pte_alloc_kernel() and __pmd_alloc()/__pud_alloc()/__p4d_alloc(): when the entry at <paramref name="index"/> of
    /// <paramref name="table"/> is none, allocate a zeroed table and install it under <see cref="PageTableLock"/> as the
    /// format's table entry, after smp_wmb() (the table's zeroes before its entry); if another thread installed one first,
    /// free ours. <paramref name="entry"/> is the entry afterwards. False when the allocation fails (the caller returns
    /// -ENOMEM). With a <paramref name="journal"/>, the install is recorded for a rollback.
    /// </summary>
    internal bool PopulateIfNone<TMemory>(PageTableLevel level, Page table, int index, ulong va, ref TMemory memory, CompilerServices.Journal? journal, out ulong entry)
        where TMemory : struct, IPageTableMemory
    {
        entry = memory.Read(table, index, MemoryOrder.Once);
        if (entry != 0)
        {
            return true;
        }

        var fresh = memory.AllocTable(Geometry.PtrsPerTable);
        if (fresh is null)
        {
            return false;
        }

        bool installed;
        lock (PageTableLock)
        {
            entry = memory.Read(table, index, MemoryOrder.Once);
            installed = entry == 0;
            if (installed)
            {
                memory.Barrier(BarrierKind.Write); // smp_wmb(): see pmd_install()
                entry = Geometry.MakeTableEntry(fresh.PhysAddr);
                journal?.Wrote(table, index, level, va, 0);
                memory.Write(table, index, entry, MemoryOrder.Once); // pmd_populate_kernel()
                journal?.Allocated(fresh);
            }
        }

        if (!installed)
        {
            memory.FreeTable(fresh);
        }

        return true;
    }

    /// <summary>
    /// free_pte_range()/pmd_free() and their cousins: if the entry at <paramref name="index"/> of <paramref name="parent"/>,
    /// read as a <paramref name="level"/> entry, leads the kernel to a table that holds no entry, clear it and free the
    /// table. True when freed.
    /// </summary>
    internal bool FreeTableIfEmpty<TMemory>(PageTableLevel level, Page parent, int index, ulong va, ref TMemory memory)
        where TMemory : struct, IPageTableMemory
    {
        ulong value = memory.Read(parent, index, MemoryOrder.Once);
        if (!Geometry.KernelDescends(level, value))
        {
            return false;
        }

        var child = TableOf(level, va, value, ref memory);
        int entries = Geometry.PtrsPerTable;
        for (int i = 0; i < entries; i++)
        {
            if (memory.Read(child, i, MemoryOrder.Once) != 0)
            {
                return false;
            }
        }

        lock (PageTableLock)
        {
            memory.Write(parent, index, 0, MemoryOrder.Once);
        }

        memory.FreeTable(child);
        return true;
    }

    /// <summary>
    /// The entry at <paramref name="level"/> that translates <paramref name="addr"/>, as the hardware reaches it: false when
    /// an entry above is not a table it would follow (none, a leaf, or bad); then <paramref name="entry"/> is that entry
    /// and <paramref name="blockedAt"/> its level. For a folded level it is the entry of the level it is folded into.
    /// </summary>
    public bool TryGetEntry(PageTableLevel level, ulong addr, out ulong entry, out PageTableLevel blockedAt)
    {
        var memory = ModelMemory.Of(this);
        var found = Lookup(level, addr, ref memory);
        (entry, blockedAt) = (found.Value, found.Level);
        return found.Reached;
    }

    /// <summary>The entry at <paramref name="level"/> that translates <paramref name="addr"/>; false when an entry above is not a table.</summary>
    public bool TryGetEntry(PageTableLevel level, ulong addr, out ulong entry) => TryGetEntry(level, addr, out entry, out _);

    /// <summary>The slot of the entry at <paramref name="level"/> for <paramref name="addr"/>, found by the one walk (hardware view).</summary>
    internal LookupVisitor Lookup<TMemory>(PageTableLevel level, ulong addr, ref TMemory memory)
        where TMemory : struct, IPageTableMemory
    {
        var target = Geometry.EntryLevels[EntryPositionOf(level)];
        var visitor = new LookupVisitor(target);
        PageTableWalk.Walk(Geometry, Pgd, addr, addr + 1, ref visitor, ref memory);
        return visitor;
    }

    /// <summary>
    /// virt_to_kpte(): the PTE that maps kernel address <paramref name="addr"/>, as a pointer to read and write it with
    /// <see cref="Pgtable"/>'s helpers; null when no PTE table covers the address (an entry above is none, a block or bad).
    /// </summary>
    public PtePointer? VirtToKpte(ulong addr)
    {
        var memory = ModelMemory.Of(this);
        return TryGetPte(addr, ref memory, out var pte) ? pte : null;
    }

    /// <summary>The PTE of <paramref name="addr"/> as a callback gets it, through <paramref name="memory"/>; false when no PTE table covers it.</summary>
    internal bool TryGetPte<TMemory>(ulong addr, ref TMemory memory, out PtePointer pte)
        where TMemory : struct, IPageTableMemory
    {
        var found = Lookup(PageTableLevel.Pte, addr, ref memory);
        pte = found.Reached ? new PtePointer(CompilerServices.GeneratedWalkers.PointerTable(found.Table!, ref memory), found.Index) : default;
        return found.Reached;
    }

    /// <summary>The place in <see cref="Geometry.EntryLevels"/> of the level whose checks read <paramref name="level"/>'s entries.</summary>
    private int EntryPositionOf(PageTableLevel level)
    {
        for (var checking = level; ; checking++)
        {
            int position = Geometry.EntryLevelPosition(checking);
            if (position >= 0)
            {
                return position;
            }
        }
    }

    /// <summary>
    /// Installs <paramref name="value"/> as the entry at <paramref name="level"/> for <paramref name="addr"/>, allocating the
    /// tables above it (a test's way to plant any entry, a hostile one included; the TLB model is not told). False when a
    /// table allocation fails or an entry above is there but not a table the hardware would follow.
    /// </summary>
    public bool SetEntry(PageTableLevel level, ulong addr, ulong value)
    {
        var memory = ModelMemory.Of(this);
        var visitor = new SetEntryVisitor(this, Geometry.EntryLevels[EntryPositionOf(level)], value);
        return PageTableWalk.Walk(Geometry, Pgd, addr, addr + 1, ref visitor, ref memory) == 0 && visitor.Written;
    }

    /// <summary>
    /// *(T *)addr: the value at kernel virtual address <paramref name="addr"/>, through the page tables.
    /// An address no table maps is an oops; the value must be naturally aligned (so it never crosses a page).
    /// </summary>
    public ref T Deref<T>(ulong addr) where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        if (size > 8 || (size & (size - 1)) != 0 || (addr & (ulong)(size - 1)) != 0)
        {
            throw new ArgumentException($"0x{addr:x} is not a naturally aligned {size}-byte address", nameof(addr));
        }

        ulong pfn = TranslateToPfn(addr);
        if (!Allocator.IsAllocated(pfn))
        {
            // MapRange maps physical ranges that are not the model's pages (guest RAM, device memory): there is nothing to read.
            throw new KernelOopsException(addr, "read or write", $"maps physical address 0x{pfn << Geometry.PageShift:x}, which is not model memory");
        }

        var page = Allocator.PfnToPage(pfn);
        if (page.Purpose == PagePurpose.PageTable)
        {
            // The kernel may write a table through its linear map; the model keeps every table access on its memory interface.
            throw new KernelOopsException(addr, "read or write", $"maps the page-table page at pfn 0x{pfn:x}: the model reaches tables only through their memory (IPageTableMemory), not by address");
        }

        var bytes = page.Bytes;
        int offset = (int)(addr & (Geometry.PageSize - 1));
        if (offset + size > bytes.Length)
        {
            throw new KernelOopsException(addr, "access beyond the mapped page");
        }

        return ref Unsafe.As<byte, T>(ref bytes[offset]);
    }

    /// <summary>
    /// Translates <paramref name="va"/> as the MMU does (docs/TRANSLATION.md): the TLB model first when this space tracks
    /// one (a hit reads no entry; a miss walks and fills it; a fault drops what it holds for the address), then one entry
    /// per level with the format's permission model. For a space whose tables live in guest-physical memory
    /// (<see cref="GuestPhysicalSpace"/>) every table read and the output go through stage 2. A generated address space
    /// walks with its geometry's unrolled code; any other with <see cref="Translator"/>'s loop.
    /// </summary>
    public Translation Translate(ulong va, Access access, TranslateOptions options = TranslateOptions.None) => TranslateWith(va, access, options, generated: true);

    internal Translation TranslateWith(ulong va, Access access, TranslateOptions options, bool generated)
    {
        var tlb = (options & TranslateOptions.BypassTlb) == 0 ? Tlb : null;
        if (tlb is not null && tlb.TryLookup(va, access, options, out var hit))
        {
            return hit;
        }

        Translation result;
        if (Allocator.Guest is { } guest)
        {
            var memory = new CompilerServices.GuestTables(guest, Geometry.EntrySize, options, generated);
            var stage1 = generated ? WalkGuestTables(va, access, options, ref memory) : Translator.Walk(Geometry, Pgd, va, access, options, ref memory);
            result = stage1.IsFault ? stage1 : Translator.Combine(stage1, memory.OutputOf(stage1.OutputAddress, access, stage1.Permissions), guest.Stage2AsUser(stage1.Permissions));
        }
        else if (generated)
        {
            result = WalkTables(va, access, options);
        }
        else
        {
            var memory = new ModelMemory(Allocator, Agent.WalkerOf(0));
            result = Translator.Walk(Geometry, Pgd, va, access, options, ref memory);
        }

        tlb?.Record(va, result);
        return result;
    }

    /// <summary>The walk of a single-stage translation: <see cref="Translator"/>'s loop here; a generated address space unrolls it.</summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    protected internal virtual Translation WalkTables(ulong va, Access access, TranslateOptions options)
    {
        var memory = new ModelMemory(Allocator, Agent.WalkerOf(0));
        return Translator.Walk(Geometry, Pgd, va, access, options, ref memory);
    }

    /// <summary>The stage-1 walk over tables in guest-physical memory: <see cref="Translator"/>'s loop here; a generated address space unrolls it.</summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    protected internal virtual Translation WalkGuestTables(ulong va, Access access, TranslateOptions options, ref CompilerServices.GuestTables memory) =>
        Translator.Walk(Geometry, Pgd, va, access, options, ref memory);

    /// <summary>An <c>atomic_t</c> at <paramref name="addr"/>, as a reference usable with <see cref="Interlocked"/>.</summary>
    public ref int AtomicAt(ulong addr) => ref Deref<int>(addr);

    /// <summary>True when a page (or a huge leaf) maps <paramref name="addr"/>.</summary>
    public bool IsMapped(ulong addr) => TryGetLeaf(addr, out _, out _);

    /// <summary>
    /// Every non-none entry of every table, top-down in address order: the full state of the tables, for comparing two
    /// runs, walked as the hardware would (a table entry is followed when it is a valid table entry without reserved bits
    /// whose address holds a page table). Each item names the level whose check reads the entry, the first virtual address
    /// it covers (within the low <see cref="Geometry.VirtualAddressBits"/>), its value and what it is. Never throws, whatever
    /// the tables hold.
    /// </summary>
    public IReadOnlyList<EntryState> Snapshot()
    {
        var visitor = new SnapshotVisitor([]);
        var memory = ModelMemory.Of(this);
        PageTableWalk.Walk(Geometry, Pgd, 0, Window, ref visitor, ref memory);
        return visitor.Entries;
    }

    /// <summary>
    /// The leaves mapping [<paramref name="start"/>, <paramref name="end"/>) (pages and blocks the hardware would use, in
    /// address order): each with its level, the first virtual address it maps, the physical address it maps it to, its
    /// size and its raw entry. An <paramref name="end"/> of 0 (the default) is the end of the translated window.
    /// </summary>
    public IReadOnlyList<MappedLeaf> Leaves(ulong start = 0, ulong end = 0)
    {
        end = end == 0 ? Window : end;
        if (start >= end && end != 0)
        {
            return [];
        }

        var visitor = new LeavesVisitor([]);
        var memory = ModelMemory.Of(this);
        PageTableWalk.Walk(Geometry, Pgd, start, end, ref visitor, ref memory);
        return visitor.Found;
    }

    /// <summary>The translated window's end: 2^VirtualAddressBits (0 for 64 bits, the top of the address space).</summary>
    private ulong Window => Geometry.VirtualAddressBits >= 64 ? 0 : 1UL << Geometry.VirtualAddressBits;

    /// <summary>The leaf that maps <paramref name="addr"/>, a page or a block, and its level; false when none does (or the hardware would fault on it).</summary>
    internal bool TryGetLeaf(ulong addr, out PageTableLevel level, out ulong leaf)
    {
        var memory = ModelMemory.Of(this);
        var found = Lookup(PageTableLevel.Pte, addr, ref memory);
        level = found.Level;
        leaf = found.Value;
        return Geometry.IsUsableLeaf(level, leaf);
    }

    private ulong TranslateToPfn(ulong addr)
    {
        if (!TryGetLeaf(addr, out var level, out ulong leaf))
        {
            throw new KernelOopsException(addr, "read or write");
        }

        // In a block, the page is the offset below the level's size.
        return (Geometry.LeafAddress(level, leaf) + (addr & (Geometry.Size(level) - 1))) >> Geometry.PageShift;
    }

    /// <summary>The lookup of one address down to a level: where the walk stopped, the slot and the value there.</summary>
    internal struct LookupVisitor(PageTableLevel target) : ITableVisitor
    {
        private readonly PageTableLevel _target = target;
        public PageTableLevel Level = target;
        public Page? Table;
        public int Index;
        public ulong Value;
        public bool Reached;

        public static TableVisits Visits => TableVisits.Leaf | TableVisits.TablePre;

        public static WalkView View => WalkView.Hardware;

        public int Visit<TMemory>(ref WalkContext context, TableVisits visit, ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            if (context.Level != _target && visit == TableVisits.TablePre)
            {
                return 0; // a table above the target level: the walk goes on down
            }

            (Level, Table, Index, Value, Reached) = (context.Level, context.Table, context.Index, context.Old, context.Level == _target);
            context.SkipChildren = true;
            return 0;
        }
    }

    /// <summary>Mm.SetEntry: none entries above the target become tables, the target entry is written, whatever it held.</summary>
    private struct SetEntryVisitor(Mm mm, PageTableLevel target, ulong value) : ITableVisitor
    {
        public bool Written;

        public static TableVisits Visits => TableVisits.Leaf | TableVisits.TablePre;

        public static WalkView View => WalkView.Hardware;

        public int Visit<TMemory>(ref WalkContext context, TableVisits visit, ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            if (context.Level == target)
            {
                memory.Write(context.Table, context.Index, value, MemoryOrder.Once);
                context.Old = value;
                context.SkipChildren = true;
                Written = true;
                return 0;
            }

            if (visit == TableVisits.TablePre)
            {
                return 0;
            }

            if (context.Old != 0)
            {
                return -Errno.EEXIST; // a leaf or a bad entry above the target: no table to plant in
            }

            if (!mm.PopulateIfNone(context.Level, context.Table, context.Index, context.Address, ref memory, null, out ulong entry))
            {
                return -Errno.ENOMEM;
            }

            context.Old = entry;
            return 0;
        }
    }

    /// <summary>Mm.Snapshot: every non-none entry, with what the hardware makes of it.</summary>
    private readonly struct SnapshotVisitor(List<EntryState> entries) : ITableVisitor
    {
        public List<EntryState> Entries => entries;

        public static TableVisits Visits => TableVisits.Leaf | TableVisits.TablePre;

        public static WalkView View => WalkView.Hardware;

        public int Visit<TMemory>(ref WalkContext context, TableVisits visit, ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            if (context.Old == 0)
            {
                return 0;
            }

            var kind = visit == TableVisits.TablePre ? EntryClass.Table
                : IsUsableLeaf(context) ? EntryClass.Leaf
                : EntryClass.Bad;
            entries.Add(new EntryState(context.Level, context.EntryStart, context.Old, kind));
            return 0;
        }
    }

    /// <summary>Mm.Leaves: the leaves the hardware would use.</summary>
    private readonly struct LeavesVisitor(List<MappedLeaf> found) : ITableVisitor
    {
        public List<MappedLeaf> Found => found;

        public static TableVisits Visits => TableVisits.Leaf;

        public static WalkView View => WalkView.Hardware;

        public int Visit<TMemory>(ref WalkContext context, TableVisits visit, ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            if (context.Old != 0 && IsUsableLeaf(context))
            {
                found.Add(new MappedLeaf(context.Level, context.EntryStart, context.Geometry.LeafAddress(context.Level, context.Old), context.Size, context.Old));
            }

            return 0;
        }
    }

    /// <summary>True when the visited entry is a valid leaf without reserved bits: what the hardware would translate through.</summary>
    private static bool IsUsableLeaf(in WalkContext context) => context.Geometry.IsUsableLeaf(context.Level, context.Old);
}

/// <summary>What an entry is to the hardware, as <see cref="Mm.Snapshot"/> lists it.</summary>
public enum EntryClass
{
    /// <summary>A valid table entry the hardware follows (its address holds a page table).</summary>
    Table = 0,

    /// <summary>A valid leaf without reserved bits: a page, or a block.</summary>
    Leaf = 1,

    /// <summary>Neither: not valid, reserved bits set, or a table entry whose address holds no page table. Walks skip, refuse or fault on it.</summary>
    Bad = 2,
}

/// <summary>One non-none entry of a page table, as <see cref="Mm.Snapshot"/> lists them.</summary>
/// <param name="Level">The level whose check reads the entry.</param>
/// <param name="Address">The first virtual address the entry covers.</param>
/// <param name="Value">The raw entry.</param>
/// <param name="Class">What the entry is to the hardware.</param>
public readonly record struct EntryState(PageTableLevel Level, ulong Address, ulong Value, EntryClass Class = EntryClass.Table)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Level} 0x{Address:x}: 0x{Value:x}{(Class == EntryClass.Bad ? " (bad)" : "")}";
}

/// <summary>One leaf of the tables, as <see cref="Mm.Leaves"/> lists them.</summary>
/// <param name="Level">The leaf's level (a page at the pte level, a block above).</param>
/// <param name="VirtualAddress">The first virtual address it maps.</param>
/// <param name="OutputAddress">The physical address that address maps to.</param>
/// <param name="Size">The bytes it maps.</param>
/// <param name="Entry">The raw entry.</param>
public readonly record struct MappedLeaf(PageTableLevel Level, ulong VirtualAddress, ulong OutputAddress, ulong Size, ulong Entry)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Level} [0x{VirtualAddress:x} +0x{Size:x}) -> 0x{OutputAddress:x} (0x{Entry:x})";
}
