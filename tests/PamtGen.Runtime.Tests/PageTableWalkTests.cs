namespace PamtGen.Runtime.Tests;

/// <summary>The one walk (docs/ARCHITECTURE.md): the order of its visits, the descent by what a visit left, the views.</summary>
public class PageTableWalkTests
{
    private const ulong Va = 0x4000_0000;

    [Fact]
    public void Visits_come_pre_order_with_posts_after_the_table_and_only_where_asked()
    {
        var mm = Mapped(out _);
        var all = new Recorder(new List<string>());
        Assert.Equal(0, PageTableWalk.Walk(mm, Va, Va + (2 * 4096), ref all));
        Assert.Equal(["pre P4d 0x40000000", "pre Pud 0x40000000", "pre Pmd 0x40000000", "leaf Pte 0x40000000", "leaf Pte 0x40001000", "post Pmd 0x40000000", "post Pud 0x40000000", "post P4d 0x40000000"], all.Seen);

        var leaves = new LeafRecorder(new List<string>());
        Assert.Equal(0, PageTableWalk.Walk(mm, Va + 4096, Va + (3 * 4096), ref leaves));
        Assert.Equal(["leaf Pte 0x40001000 end 0x40002000", "leaf Pte 0x40002000 end 0x40003000"], leaves.Seen);
    }

    [Fact]
    public void A_visit_that_writes_the_entry_steers_the_descent_and_skip_children_stops_it()
    {
        var mm = Mapped(out _);
        var memory = ModelMemory.Of(mm);

        // Clearing the pmd entry in its pre visit: the walk does not go below it.
        var clear = new ClearAt(PageTableLevel.Pmd, new List<string>());
        Assert.Equal(0, PageTableWalk.Walk(mm.Geometry, mm.Pgd, Va, Va + 4096, ref clear, ref memory));
        Assert.Equal(["pre P4d", "pre Pud", "pre Pmd", "post Pud", "post P4d"], clear.Seen);
        Assert.False(mm.TryGetEntry(PageTableLevel.Pte, Va, out _));

        // Skipping the children of the pud entry: neither the pmd table nor its ptes are visited, the post visit still is.
        mm = Mapped(out _);
        var skip = new SkipAt(PageTableLevel.Pud, new List<string>());
        Assert.Equal(0, PageTableWalk.Walk(mm, Va, Va + 4096, ref skip));
        Assert.Equal(["pre P4d", "pre Pud", "post P4d"], skip.Seen);

        // A non-zero return stops the walk and is what it returns.
        var stop = new ClearAt(PageTableLevel.Pte, new List<string>()) { Return = -Errno.EIO };
        Assert.Equal(-Errno.EIO, PageTableWalk.Walk(mm, Va, Va + (4 * 4096), ref stop));
        Assert.Equal(["pre P4d", "pre Pud", "pre Pmd", "leaf Pte"], stop.Seen);
    }

    [Fact]
    public void The_hardware_view_visits_a_table_entry_without_a_table_as_a_leaf_and_the_kernel_view_is_a_bug()
    {
        var mm = Mapped(out _);
        Assert.True(mm.SetEntry(PageTableLevel.Pmd, Va, mm.Geometry.MakeTableEntry(1UL << 40)));
        var hardware = new Recorder(new List<string>());
        Assert.Equal(0, PageTableWalk.Walk(mm, Va, Va + 4096, ref hardware));
        Assert.Contains("leaf Pmd 0x40000000", hardware.Seen);
        var kernel = new KernelRecorder();
        var bug = Assert.Throws<KernelBugException>(() => PageTableWalk.Walk(mm, Va, Va + 4096, ref kernel));
        Assert.Contains("points to physical address 0x10000000000, which holds no page table", bug.Message, StringComparison.Ordinal);
    }

    /// <summary>Two pages mapped at <see cref="Va"/> through a full path of tables, x86-64 4 levels.</summary>
    private static Mm Mapped(out PageAllocator allocator)
    {
        allocator = PageAllocator.Synthetic(64);
        var mm = new Mm(Geometry.X86_64FourLevel, allocator);
        Assert.Equal(0, ReferenceWalkers.ApplyToPageRange(mm, Va, 4 * 4096, static (PtePointer pte, ulong addr, Mm m) =>
        {
            Pgtable.SetPteAt(m, addr, pte, new Pte(m.Geometry.MakeKernelPageEntry(addr)));
            return 0;
        }, mm));
        return mm;
    }

    private static string Name(TableVisits visit) => visit switch
    {
        TableVisits.TablePre => "pre",
        TableVisits.TablePost => "post",
        _ => "leaf",
    };

    private readonly struct Recorder(List<string> seen) : ITableVisitor
    {
        public List<string> Seen => seen;

        public static TableVisits Visits => TableVisits.Leaf | TableVisits.TablePre | TableVisits.TablePost;

        public static WalkView View => WalkView.Hardware;

        public int Visit<TMemory>(ref WalkContext context, TableVisits visit, ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            seen.Add($"{Name(visit)} {context.Level} 0x{context.Address:x}");
            return 0;
        }
    }

    private readonly struct LeafRecorder(List<string> seen) : ITableVisitor
    {
        public List<string> Seen => seen;

        public static TableVisits Visits => TableVisits.Leaf;

        public static WalkView View => WalkView.Hardware;

        public int Visit<TMemory>(ref WalkContext context, TableVisits visit, ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            seen.Add($"{Name(visit)} {context.Level} 0x{context.Address:x} end 0x{context.End:x}");
            return 0;
        }
    }

    private struct KernelRecorder : ITableVisitor
    {
        public static TableVisits Visits => TableVisits.Leaf;

        public static WalkView View => WalkView.Kernel;

        public readonly int Visit<TMemory>(ref WalkContext context, TableVisits visit, ref TMemory memory)
            where TMemory : struct, IPageTableMemory => 0;
    }

    /// <summary>Clears the entry at its level in the pre (or leaf) visit, and returns <see cref="Return"/> there.</summary>
    private struct ClearAt(PageTableLevel level, List<string> seen) : ITableVisitor
    {
        public int Return;

        public readonly List<string> Seen => seen;

        public static TableVisits Visits => TableVisits.Leaf | TableVisits.TablePre | TableVisits.TablePost;

        public static WalkView View => WalkView.Hardware;

        public readonly int Visit<TMemory>(ref WalkContext context, TableVisits visit, ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            seen.Add($"{Name(visit)} {context.Level}");
            if (context.Level != level || visit == TableVisits.TablePost)
            {
                return 0;
            }

            memory.Write(context.Table, context.Index, 0, MemoryOrder.Once);
            context.Old = 0; // what the visit wrote: the walk descends by it
            return Return;
        }
    }

    private readonly struct SkipAt(PageTableLevel level, List<string> seen) : ITableVisitor
    {
        public List<string> Seen => seen;

        public static TableVisits Visits => TableVisits.Leaf | TableVisits.TablePre | TableVisits.TablePost;

        public static WalkView View => WalkView.Hardware;

        public int Visit<TMemory>(ref WalkContext context, TableVisits visit, ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            seen.Add($"{Name(visit)} {context.Level}");
            context.SkipChildren |= context.Level == level && visit == TableVisits.TablePre;
            return 0;
        }
    }
}
