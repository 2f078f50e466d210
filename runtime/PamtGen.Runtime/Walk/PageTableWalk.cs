using System.Runtime.CompilerServices;

namespace PamtGen;

/// <summary>What a walk visits (KVM's <c>enum kvm_pgtable_walk_flags</c>).</summary>
[Flags]
public enum TableVisits
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>Every entry the walk does not descend into: none, leaf or bad (KVM_PGTABLE_WALK_LEAF).</summary>
    Leaf = 1,

    /// <summary>A table entry, before the walk descends into its table (KVM_PGTABLE_WALK_TABLE_PRE).</summary>
    TablePre = 2,

    /// <summary>A table entry, after the walk came back from its table (KVM_PGTABLE_WALK_TABLE_POST).</summary>
    TablePost = 4,
}

/// <summary>How a walk decides which entries lead to a table it descends into: whose rules it follows.</summary>
public enum WalkView
{
    /// <summary>
    /// The hardware's: a valid table entry without reserved bits, whose address holds a page table (translation, kernel
    /// virtual address accesses, the TLB model, block mapping, snapshots). A table entry whose address holds none is
    /// visited as a leaf.
    /// </summary>
    Hardware = 0,

    /// <summary>
    /// The kernel's page-range walkers' (apply_to_page_range(), free_pgd_range()): not none, not pXd_leaf(), not pXd_bad(),
    /// as the format's architecture defines them. They follow such an entry blindly: one whose address holds no page
    /// table is a kernel BUG.
    /// </summary>
    Kernel = 1,

    /// <summary>
    /// walk_page_range_novma()'s (mm/pagewalk.c): at the pgd and p4d levels an entry that is not none and not pXd_bad(),
    /// at pud and pmd one that is pXd_present() and not pXd_leaf(); followed blindly, as <see cref="Kernel"/>.
    /// </summary>
    PageWalk = 2,
}

/// <summary>
/// One entry as the walk visits it (KVM's <c>struct kvm_pgtable_visit_ctx</c>): its level, the part of the walk's range
/// it covers, its table slot and its value. A visit that writes the entry leaves the value it wrote in <see cref="Old"/>,
/// and the walk then descends by <see cref="Old"/>: a visit that installs a table gets it walked, one that replaces a
/// table by a leaf does not (KVM's walker reads the entry again after a visit; on one CPU the two are the same).
/// </summary>
public struct WalkContext
{
    /// <summary>The entry's level, as the kernel's checks name it (the top table's entries are p4d entries on 4 levels).</summary>
    public PageTableLevel Level { get; internal set; }

    /// <summary>The first address of the walk's range in this entry (the entry's start, or the range's start in the first one).</summary>
    public ulong Address { get; internal set; }

    /// <summary>Where the walk's range in this entry ends: the entry's end, or the range's end (0: the top of the address space).</summary>
    public ulong End { get; internal set; }

    /// <summary>The bytes the whole entry maps (its level's size).</summary>
    public ulong Size { get; internal set; }

    /// <summary>The first address the whole entry maps.</summary>
    public readonly ulong EntryStart => Address & ~(Size - 1);

    /// <summary>True when the walk's range covers the whole entry.</summary>
    public readonly bool CoversEntry => Address == EntryStart && End - Address == Size;

    /// <summary>The table the entry is in.</summary>
    public Page Table { get; internal set; }

    /// <summary>The entry's place in <see cref="Table"/>.</summary>
    public int Index { get; internal set; }

    /// <summary>The entry as read; a visit that writes the entry sets it to what it wrote.</summary>
    public ulong Old { get; set; }

    /// <summary>Set by a visit to keep the walk out of the table below this entry (walk_page_range()'s "no callback below").</summary>
    public bool SkipChildren { get; set; }

    /// <summary>The entry's place in <see cref="Geometry.EntryLevels"/>: 0 for the top table's.</summary>
    public int Position { get; internal set; }

    /// <summary>The geometry of the tables walked.</summary>
    public Geometry Geometry { get; internal set; }

    /// <summary>The PTE at this slot as a callback gets it, going through <paramref name="memory"/>.</summary>
    public PtePointer PtePointer<TMemory>(ref TMemory memory)
        where TMemory : struct, IPageTableMemory => new(PointerTable(ref memory), Index);

    /// <summary>The table as this walk's entry pointers name it (made once per table for a memory other than the model's).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal object PointerTable<TMemory>(ref TMemory memory)
        where TMemory : struct, IPageTableMemory =>
        typeof(TMemory) == typeof(ModelMemory) ? Table : _pointerTable ??= CompilerServices.GeneratedWalkers.PointerTable(Table, ref memory);

    private object? _pointerTable;
}

/// <summary>
/// A visitor of <see cref="PageTableWalk"/>: which entries it visits, by whose rules the walk descends, and the visit
/// itself. A non-zero return stops the walk and is returned (KVM's visitors return -errno, as pte_fn_t does).
/// Visitors are structs, so the walk is specialized for each and its visit inlines.
/// </summary>
public interface ITableVisitor
{
    /// <summary>The visits this visitor wants.</summary>
    static abstract TableVisits Visits { get; }

    /// <summary>Whose rules decide where the walk descends.</summary>
    static abstract WalkView View { get; }

    /// <summary>Visits the entry in <paramref name="context"/>, the <paramref name="visit"/> it is, with the walk's memory.</summary>
    int Visit<TMemory>(ref WalkContext context, TableVisits visit, ref TMemory memory)
        where TMemory : struct, IPageTableMemory;
}

/// <summary>
/// The one walk of the page tables in the runtime, shaped as KVM's <c>__kvm_pgtable_walk()</c> (arch/arm64/kvm/hyp/pgtable.c)
/// and aarch64-paging's <c>walk_range</c>: over a range, table by table down the geometry's entry levels, each entry read
/// once through the memory interface and handed to a visitor as a leaf, or as a table before (TABLE_PRE) and after
/// (TABLE_POST) its table is walked. Every runtime operation on the tables is a visitor of it: the reference walkers
/// (apply_to_page_range(), apply_to_existing_page_range(), walk_page_range()), table reclaim, block mapping (map, unmap,
/// split, collapse), lookups and snapshots, the TLB model's enumeration and the per-level translation loop.
/// </summary>
public static class PageTableWalk
{
    /// <summary>Walks [<paramref name="start"/>, <paramref name="end"/>) of <paramref name="mm"/> in the model's own memory.</summary>
    public static int Walk<TVisitor>(Mm mm, ulong start, ulong end, ref TVisitor visitor)
        where TVisitor : struct, ITableVisitor
    {
        ArgumentNullException.ThrowIfNull(mm);
        var memory = ModelMemory.Of(mm);
        return Walk(mm.Geometry, mm.Pgd, start, end, ref visitor, ref memory);
    }

    /// <summary>
    /// Walks [<paramref name="start"/>, <paramref name="end"/>) (an <paramref name="end"/> of 0 is the top of the address
    /// space) from the root table <paramref name="root"/> of <paramref name="geometry"/>, every access through
    /// <paramref name="memory"/>. The range is the caller's to check; its addresses above the geometry's virtual-address
    /// bits are ignored, as the index helpers ignore them.
    /// </summary>
    public static int Walk<TVisitor, TMemory>(Geometry geometry, Page root, ulong start, ulong end, ref TVisitor visitor, ref TMemory memory)
        where TVisitor : struct, ITableVisitor
        where TMemory : struct, IPageTableMemory
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(root);
        return WalkTable(geometry, 0, root, start, end, ref visitor, ref memory);
    }

    /// <summary>
    /// Walks one table, the <paramref name="position"/>-th of the geometry's entry levels, over [<paramref name="addr"/>,
    /// <paramref name="end"/>) (which lies in it): a subtree, for an operation that starts below the root (the TLB
    /// model's enumeration of a table an entry pointed to).
    /// </summary>
    internal static int WalkTable<TVisitor, TMemory>(Geometry g, int position, Page table, ulong addr, ulong end, ref TVisitor visitor, ref TMemory memory)
        where TVisitor : struct, ITableVisitor
        where TMemory : struct, IPageTableMemory
    {
        var level = g.EntryLevels[position];
        if (level == PageTableLevel.Pte)
        {
            return WalkPteTable(g, position, table, addr, end, ref visitor, ref memory);
        }

        var real = g.TableLevel(level); // a real level: its boundaries are pXd_addr_end()'s, never a folded level's "end"
        ulong size = g.Size(real);
        var context = new WalkContext
        {
            Level = level,
            Size = size,
            Table = table,
            Position = position,
            Geometry = g,
        };
        for (int index = g.Index(real, addr); ; index++)
        {
            ulong next = AddrEnd(addr, size, end);
            context.Address = addr;
            context.End = next;
            context.Index = index;
            context.Old = memory.Read(table, index, MemoryOrder.Once);
            context.SkipChildren = false;
            if (TMemory.CanFault && memory.Faulted)
            {
                return FaultedRead;
            }

            int err = VisitEntry(g, ref context, ref visitor, ref memory);
            if (err != 0)
            {
                return err;
            }

            if ((addr = next) == end)
            {
                return 0;
            }
        }
    }

    /// <summary>
    /// A pte table: every entry a leaf visit. Its own loop, apart from the upper levels', so that the context never has its
    /// address taken by a call (when the visit inlines) and stays in registers: this loop is the walk's time.
    /// </summary>
    private static int WalkPteTable<TVisitor, TMemory>(Geometry g, int position, Page table, ulong addr, ulong end, ref TVisitor visitor, ref TMemory memory)
        where TVisitor : struct, ITableVisitor
        where TMemory : struct, IPageTableMemory
    {
        if ((TVisitor.Visits & TableVisits.Leaf) == 0)
        {
            return 0; // nothing below a pte table to walk, and no visit at its level
        }

        ulong size = g.Size(PageTableLevel.Pte);
        var context = new WalkContext
        {
            Level = PageTableLevel.Pte,
            Size = size,
            Table = table,
            Position = position,
            Geometry = g,
        };
        for (int index = g.Index(PageTableLevel.Pte, addr); ; index++)
        {
            ulong next = AddrEnd(addr, size, end);
            context.Address = addr;
            context.End = next;
            context.Index = index;
            context.Old = memory.Read(table, index, MemoryOrder.Once);
            if (TMemory.CanFault && memory.Faulted)
            {
                return FaultedRead;
            }

            int err = visitor.Visit(ref context, TableVisits.Leaf, ref memory);
            if (err != 0)
            {
                return err;
            }

            if ((addr = next) == end)
            {
                return 0;
            }
        }
    }

    /// <summary>pXd_addr_end() of a real level of entries of <paramref name="size"/> bytes: the "- 1" on both sides keeps the comparison right when the boundary wraps to 0 at the top.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong AddrEnd(ulong addr, ulong size, ulong end)
    {
        ulong boundary = (addr + size) & ~(size - 1);
        return boundary - 1 < end - 1 ? boundary : end;
    }

    /// <summary>What a walk returns when its memory faulted on a read (the visitor reads the fault from the memory).</summary>
    public const int FaultedRead = int.MinValue;

    /// <summary>__kvm_pgtable_visit() above the pte level: the pre or leaf visit, the descent when the entry (as the visit left it) leads to a table, the post visit.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // out of the loop over the entries, which at the pte level is the walk's time
    private static int VisitEntry<TVisitor, TMemory>(Geometry g, ref WalkContext context, ref TVisitor visitor, ref TMemory memory)
        where TVisitor : struct, ITableVisitor
        where TMemory : struct, IPageTableMemory
    {
        bool table = Descends(g, TVisitor.View, context.Level, context.Old);
        Page? child = table ? memory.TableAt(g.TableAddress(context.Old)) : null;
        if (table && child is null && TVisitor.View == WalkView.Hardware)
        {
            table = false; // the hardware finds no table there: the entry is visited as what it is, a leaf of the walk
        }

        var visit = table ? TableVisits.TablePre : TableVisits.Leaf;
        if ((TVisitor.Visits & visit) != 0)
        {
            ulong before = context.Old;
            int err = visitor.Visit(ref context, visit, ref memory);
            if (err != 0)
            {
                return err;
            }

            if (context.Old != before)
            {
                // The visit wrote the entry: descend by what it wrote (a table it installed, none for a table it replaced).
                table = Descends(g, TVisitor.View, context.Level, context.Old);
                child = table ? memory.TableAt(g.TableAddress(context.Old)) : null;
                table &= child is not null || TVisitor.View != WalkView.Hardware;
            }
        }

        if (!table || context.SkipChildren)
        {
            return 0;
        }

        if (child is null)
        {
            throw NoTable(g, context);
        }

        int below = WalkTable(g, context.Position + 1, child, context.Address, context.End, ref visitor, ref memory); // the context is this table's: a walk below has its own
        if (below != 0)
        {
            return below;
        }

        return (TVisitor.Visits & TableVisits.TablePost) != 0 ? visitor.Visit(ref context, TableVisits.TablePost, ref memory) : 0;
    }

    /// <summary>Whether an entry leads to a table under <paramref name="view"/> (the table's memory aside).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Descends(Geometry g, WalkView view, PageTableLevel level, ulong entry) => view switch
    {
        WalkView.Hardware => g.IsTableEntry(level, entry) && (entry & g.ReservedBits(level, leaf: false)) == 0 && !g.HasReservedEncoding(entry),
        WalkView.Kernel => g.KernelDescends(level, entry),
        _ => level < PageTableLevel.Pud
            ? entry != 0 && !g.PxdBad(level, entry)
            : g.PxdPresent(level, entry) && !g.PxdLeaf(level, entry),
    };

    /// <summary>The kernel follows a table entry to whatever memory its address names; the model has no such memory to walk.</summary>
    internal static KernelBugException NoTable(Geometry g, in WalkContext context) =>
        new($"the {context.Level.ToString().ToLowerInvariant()} entry 0x{context.Old:x} for 0x{context.EntryStart:x} points to physical address 0x{g.TableAddress(context.Old):x}, which holds no page table: the kernel would walk whatever memory is there",
            g.TableAddress(context.Old) >> g.PageShift);
}
