using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PamtGen;

/// <summary>
/// One address space (<c>struct mm_struct</c>), for the model usually the kernel's <c>init_mm</c>:
/// a root table from the allocator, the geometry, and <c>page_table_lock</c>, which is taken only
/// while a missing table is installed. A generated geometry class has its own kind of address space,
/// <c>X86_64.AddressSpace</c>, derived from this one, and its walkers take only that kind; this class is
/// what the runtime's reference walkers and PTE callbacks use.
/// </summary>
public class Mm
{
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
        Pgd = (geometry.RootTables == 1 ? allocator.AllocPageTable(geometry.PtrsPerTable) : allocator.AllocPageTables(geometry.RootTables, geometry.PtrsPerTable))
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

    /// <summary>The entry slot <paramref name="index"/> of a table page, as the raw value.</summary>
    internal static ref ulong EntryAt(Page table, int index) => ref table.Words[index];

    /// <summary>The entry slot <paramref name="index"/> of a PTE table, as a <see cref="Pte"/>.</summary>
    internal static ref Pte PteAt(Page table, int index) => ref Unsafe.As<ulong, Pte>(ref table.Words[index]);

    /// <summary>pXd_page_vaddr(): the table an upper-level entry points to, its address read through the geometry's format.</summary>
    internal Page TableOf(ulong entry) => Allocator.PfnToPage(Geometry.TableAddress(entry) >> Geometry.PageShift);

    /// <summary>
    /// __pte_alloc_kernel() and __pmd_alloc()/__pud_alloc()/__p4d_alloc(): when the entry at
    /// <paramref name="index"/> of <paramref name="table"/> is none, allocate a zeroed table and
    /// install it under <see cref="PageTableLock"/> as the format's table entry; if another thread installed one first,
    /// free ours. False when the allocation fails (the caller returns -ENOMEM).
    /// </summary>
    internal bool PopulateIfNone(PageTableLevel level, Page table, int index)
    {
        ref ulong entry = ref EntryAt(table, index);
        if (Volatile.Read(ref entry) != 0)
        {
            return true;
        }

        var fresh = Allocator.AllocPageTable(Geometry.PtrsPerTable);
        if (fresh is null)
        {
            return false;
        }

        bool installed;
        lock (PageTableLock)
        {
            installed = Volatile.Read(ref entry) == 0;
            if (installed)
            {
                Volatile.Write(ref entry, Geometry.MakeTableEntry(fresh.PhysAddr));
            }
        }

        if (!installed)
        {
            Allocator.FreePage(fresh);
        }
        else
        {
            TableJournal?.Add((level, table, index));
        }

        return true;
    }

    /// <summary>
    /// When set, every table this mm installs is recorded (its parent slot), so a transactional walk can free the
    /// tables it allocated. Set and cleared by that walk; not for concurrent walks of one mm.
    /// </summary>
    internal List<(PageTableLevel Level, Page Parent, int Index)>? TableJournal { get; set; }

    /// <summary>
    /// free_pte_range()/pmd_free() and their cousins: if the entry at <paramref name="index"/> of <paramref name="parent"/>,
    /// read as a <paramref name="level"/> entry, points to a table that holds no entry, clear it and free the table. True when freed.
    /// </summary>
    internal bool FreeTableIfEmpty(PageTableLevel level, Page parent, int index)
    {
        ref ulong entry = ref EntryAt(parent, index);
        ulong value = Volatile.Read(ref entry);
        if (!Geometry.IsTableEntry(level, value))
        {
            return false;
        }

        var child = TableOf(value);
        foreach (ulong childEntry in child.TableEntries)
        {
            if (childEntry != 0)
            {
                return false;
            }
        }

        lock (PageTableLock)
        {
            Volatile.Write(ref entry, 0UL);
        }

        Allocator.FreePage(child);
        return true;
    }

    /// <summary>
    /// Finds the slot of the entry at <paramref name="level"/> that translates <paramref name="addr"/>,
    /// never allocating. For a folded level it is the slot of the level it is folded into. False when an
    /// entry above is not a table (none, a leaf, or invalid); then <paramref name="blockedAt"/> is the level that stopped it.
    /// </summary>
    public bool TryGetEntrySlot(PageTableLevel level, ulong addr, out Page table, out int index, out PageTableLevel blockedAt)
    {
        table = Pgd;
        index = Geometry.Index(PageTableLevel.Pgd, addr);
        blockedAt = level;
        for (var current = PageTableLevel.Pgd; current < level; current++)
        {
            if (!Geometry.ChecksEntry(current))
            {
                continue; // the next level is folded into this one: same slot
            }

            ulong entry = Volatile.Read(ref EntryAt(table, index));
            if (!Geometry.IsTableEntry(current, entry))
            {
                blockedAt = current;
                return false;
            }

            table = TableOf(entry);
            index = Geometry.Index(current + 1, addr);
        }

        return true;
    }

    /// <summary>
    /// Installs <paramref name="value"/> as the entry at <paramref name="level"/> for <paramref name="addr"/>,
    /// allocating the tables above it (a test's way to plant a huge leaf entry). False when a table
    /// allocation fails or an entry above is there but not a table.
    /// </summary>
    public bool SetEntry(PageTableLevel level, ulong addr, ulong value)
    {
        Page table = Pgd;
        int index = Geometry.Index(PageTableLevel.Pgd, addr);
        for (var current = PageTableLevel.Pgd; current < level; current++)
        {
            if (!Geometry.ChecksEntry(current))
            {
                continue;
            }

            ulong above = EntryAt(table, index);
            if ((above != 0 && !Geometry.IsTableEntry(current, above)) || !PopulateIfNone(current, table, index))
            {
                return false;
            }

            table = TableOf(EntryAt(table, index));
            index = Geometry.Index(current + 1, addr);
        }

        Volatile.Write(ref EntryAt(table, index), value);
        return true;
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

        var bytes = Allocator.PfnToPage(pfn).Bytes;
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
            var stage1 = generated ? WalkGuestTables(va, access, options, ref memory) : WalkWithLoop(va, access, options, ref memory);
            result = stage1.IsFault ? stage1 : Translator.Combine(stage1, guest.Stage2.TranslateWith(stage1.OutputAddress, access & ~Access.User, options, generated));
        }
        else
        {
            var memory = new CompilerServices.ModelTables(Allocator);
            result = generated ? WalkTables(va, access, options) : WalkWithLoop(va, access, options, ref memory);
        }

        tlb?.Record(va, result);
        return result;
    }

    /// <summary>The walk of a single-stage translation: <see cref="Translator"/>'s loop here; a generated address space unrolls it.</summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    protected internal virtual Translation WalkTables(ulong va, Access access, TranslateOptions options)
    {
        var memory = new CompilerServices.ModelTables(Allocator);
        return WalkWithLoop(va, access, options, ref memory);
    }

    /// <summary>The stage-1 walk over tables in guest-physical memory: <see cref="Translator"/>'s loop here; a generated address space unrolls it.</summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    protected internal virtual Translation WalkGuestTables(ulong va, Access access, TranslateOptions options, ref CompilerServices.GuestTables memory) =>
        WalkWithLoop(va, access, options, ref memory);

    /// <summary>Translator's per-level loop from this space's root, over the tables as <paramref name="memory"/> reaches them.</summary>
    private Translation WalkWithLoop<TMemory>(ulong va, Access access, TranslateOptions options, ref TMemory memory)
        where TMemory : struct, CompilerServices.ITableMemory =>
        Translator.Walk(Geometry, Pgd.PhysAddr, va, access, options, ref memory);

    /// <summary>An <c>atomic_t</c> at <paramref name="addr"/>, as a reference usable with <see cref="Interlocked"/>.</summary>
    public ref int AtomicAt(ulong addr) => ref Deref<int>(addr);

    /// <summary>True when a page (or a huge leaf) maps <paramref name="addr"/>.</summary>
    public bool IsMapped(ulong addr) => TryGetLeaf(addr, out _, out _);

    /// <summary>
    /// Every non-none entry of every table, top-down in address order: the full state of the tables,
    /// for comparing two runs. Each item names the level whose check reads the entry, the first
    /// virtual address it covers (within the low <see cref="Geometry.VirtualAddressBits"/>) and its value.
    /// </summary>
    public IReadOnlyList<EntryState> Snapshot()
    {
        var entries = new List<EntryState>();
        SnapshotTable(PageTableLevel.Pgd, Pgd, 0, entries);
        return entries;
    }

    private void SnapshotTable(PageTableLevel level, Page table, ulong baseAddr, List<EntryState> entries)
    {
        // The level whose entries this table holds: the lowest level folded into it.
        var checking = level;
        while (checking < PageTableLevel.Pte && !Geometry.ChecksEntry(checking))
        {
            checking++;
        }

        for (int i = 0; i < Geometry.PtrsPer(level); i++)
        {
            ulong value = EntryAt(table, i);
            if (value == 0)
            {
                continue;
            }

            ulong addr = baseAddr + ((ulong)i << Geometry.Shift(level));
            entries.Add(new EntryState(checking, addr, value));
            if (Geometry.IsTableEntry(checking, value))
            {
                SnapshotTable(checking + 1, TableOf(value), addr, entries);
            }
        }
    }

    /// <summary>The leaf that maps <paramref name="addr"/>, a page or a block, and its level; false when none does.</summary>
    internal bool TryGetLeaf(ulong addr, out PageTableLevel level, out ulong leaf)
    {
        // The walk stops at the pte, or at the first entry above it that is not a table: a block, or nothing.
        TryGetEntrySlot(PageTableLevel.Pte, addr, out _, out _, out level);
        TryGetEntrySlot(level, addr, out var table, out int index, out _);
        leaf = Volatile.Read(ref EntryAt(table, index));
        return Geometry.IsLeafEntry(level, leaf);
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
}

/// <summary>One non-none entry of a page table, as <see cref="Mm.Snapshot"/> lists them.</summary>
/// <param name="Level">The level whose check reads the entry.</param>
/// <param name="Address">The first virtual address the entry covers.</param>
/// <param name="Value">The raw entry.</param>
public readonly record struct EntryState(PageTableLevel Level, ulong Address, ulong Value)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Level} 0x{Address:x}: 0x{Value:x}";
}
