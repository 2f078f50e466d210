using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PamtGen.Generator.Probe;
using PamtGen.Generator.Tests.Analyzers;
using PamtGen.Testing;

namespace PamtGen.Generator.Tests;

/// <summary>
/// The runtime reads and writes tables in one place (docs/ARCHITECTURE.md): the storage of a table page is touched only
/// by ModelMemory, the tables are descended only by PageTableWalk (plus the lookups of one table an entry names, listed
/// here with what each is), and a walker run on another memory sees only that memory.
/// </summary>
public class OneWalkTests
{
    /// <summary>The members that are a page's storage, and the files allowed to name them.</summary>
    private static readonly string[] StorageMembers = ["Words", "Storage", "_words"];

    private static readonly string[] StorageFiles = ["runtime/PamtGen.Runtime/PageAlloc/Page.cs", "runtime/PamtGen.Runtime/Memory/ModelMemory.cs"];

    /// <summary>
    /// Every call of TableAt (the table an entry names) outside the walk and the memories, by file: each finds one table
    /// to read or free as a unit, none is a descent of its own.
    /// </summary>
    private static readonly Dictionary<string, int> TableLookups = new(StringComparer.Ordinal)
    {
        ["runtime/PamtGen.Runtime/Walk/PageTableWalk.cs"] = 2, // the walk's descent, and its re-read after a visit that wrote
        ["runtime/PamtGen.Runtime/PageTables/Mm.cs"] = 1, // pXd_page_vaddr() (TableOf), for the generated walkers and table reclaim
        ["runtime/PamtGen.Runtime/PageTables/BlockMapping.cs"] = 4, // Collapse's one table; the subtree a leaf replaces, walked by PageTableWalk; a split's table; a freed table
        ["runtime/PamtGen.Runtime/PageTables/Tlb.cs"] = 1, // the subtree a changed entry led to, walked by PageTableWalk
        ["runtime/PamtGen.Runtime/Translation/Translator.cs"] = 1, // GuestTables.TableAt: the guest allocator's lookup
        ["runtime/PamtGen.Runtime/Memory/ModelMemory.cs"] = 1, // the memory's own TableAt
    };

    [Fact]
    public void Only_ModelMemory_touches_the_storage_of_a_table_page()
    {
        var offenders = new List<string>();
        foreach (string folder in new[] { "runtime", "generator", "samples" })
        {
            foreach (string file in RepositorySources.Files(folder))
            {
                string relative = Path.GetRelativePath(TestRepository.Root, file).Replace('\\', '/');
                if (StorageFiles.Contains(relative))
                {
                    continue;
                }

                var root = CSharpSyntaxTree.ParseText(File.ReadAllText(file)).GetRoot();
                offenders.AddRange(root.DescendantNodes().OfType<IdentifierNameSyntax>()
                    .Where(id => StorageMembers.Contains(id.Identifier.ValueText))
                    .Select(id => $"{relative}:{id.GetLocation().GetLineSpan().StartLinePosition.Line + 1}: {id.Parent}"));
            }
        }

        Assert.Empty(offenders);

        // The generated code has no way around the interface either: it names no storage member.
        foreach (string snapshot in Directory.EnumerateFiles(Path.Combine(TestRepository.Root, "tests", "PamtGen.Generator.Tests", "Snapshots"), "*.g.cs"))
        {
            string text = File.ReadAllText(snapshot);
            Assert.DoesNotContain(".Words", text, StringComparison.Ordinal);
            Assert.DoesNotContain("TableEntries", text, StringComparison.Ordinal);
            Assert.Contains("memory.Read(", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_runtime_descends_the_tables_only_in_PageTableWalk()
    {
        var found = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string file in RepositorySources.Files("runtime"))
        {
            string relative = Path.GetRelativePath(TestRepository.Root, file).Replace('\\', '/');
            var root = CSharpSyntaxTree.ParseText(File.ReadAllText(file)).GetRoot();
            int calls = root.DescendantNodes().OfType<InvocationExpressionSyntax>().Count(call => call.Expression switch
            {
                MemberAccessExpressionSyntax member => member.Name.Identifier.ValueText == "TableAt",
                IdentifierNameSyntax name => name.Identifier.ValueText == "TableAt",
                _ => false,
            });
            if (calls > 0)
            {
                found[relative] = calls;
            }

            // A descent is a method that calls itself with a table: only the walk does that.
            if (!relative.EndsWith("/PageTableWalk.cs", StringComparison.Ordinal))
            {
                foreach (var method in root.DescendantNodes().OfType<MethodDeclarationSyntax>())
                {
                    bool takesTable = method.ParameterList.Parameters.Any(p => p.Type?.ToString() is "Page" or "Page?");
                    bool recurses = method.DescendantNodes().OfType<InvocationExpressionSyntax>()
                        .Any(call => call.Expression is IdentifierNameSyntax or GenericNameSyntax && Name(call.Expression) == method.Identifier.ValueText);
                    Assert.False(takesTable && recurses, $"{relative}: {method.Identifier} recurses over tables: a descent of its own; make it a PageTableWalk visitor");
                }
            }
        }

        Assert.Equal(TableLookups.OrderBy(p => p.Key, StringComparer.Ordinal), found.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void A_walk_on_another_memory_sees_only_that_memory(string name)
    {
        // The shadow keeps every entry in a dictionary of its own: anything that read or wrote the pages' storage instead
        // would see zeros, or leave the storage non-zero. The model's own memory stays all zero throughout.
        var g = ProbeGeometries.GeometryOf(name);
        var allocator = PageAllocator.Synthetic(1 << 11, g.PageShift);
        var mm = ProbeGeometries.AddressSpaceOf(name, allocator);
        var shadow = new ShadowMemory(allocator);
        ulong va = 0xffff_c900_0000_0000UL & ((1UL << g.VirtualAddressBits) - 1), size = 700 * g.PageSize;
        var map = new MapFn(mm);
        Assert.Equal(0, Generated.Apply(name, mm, va, size, ref map, ref shadow, create: true));
        Assert.Equal(700, map.Mapped);
        var sum = new SumFn();
        Assert.Equal(0, Generated.Apply(name, mm, va, size, ref sum, ref shadow, create: false));
        Assert.Equal(700, sum.Count);
        Assert.Equal(map.Sum, sum.Sum); // what the callbacks wrote through their pointers, read back through the walk's memory
        var leaves = new CountLeaves();
        Assert.Equal(0, PageTableWalk.Walk(g, mm.Pgd, va, va + size, ref leaves, ref shadow));
        Assert.Equal(700, leaves.Count);
        Assert.True(shadow.Writes > 700 && shadow.Reads > 1400, $"{shadow.Writes} writes, {shadow.Reads} reads through the shadow");

        var model = new ModelMemory(allocator);
        var tables = allocator.LeakReport().Where(p => model.TableAt(p.Pfn << g.PageShift) is not null).ToList();
        Assert.True(tables.Count >= 2); // the root and the pte tables (and those between)
        Assert.All(tables, p => Assert.All(Enumerable.Range(0, g.PtrsPerTable), i => Assert.Equal(0UL, model.Read(model.TableAt(p.Pfn << g.PageShift)!, i, MemoryOrder.Once))));
        Assert.Empty(mm.Snapshot()); // the model's own view: the root, empty
    }

    public static TheoryData<string> Names => ProbeGeometries.Theory();

    private static string Name(ExpressionSyntax expression) => expression switch
    {
        GenericNameSyntax generic => generic.Identifier.ValueText,
        IdentifierNameSyntax id => id.Identifier.ValueText,
        _ => "",
    };

    /// <summary>A memory that keeps the entries apart from the pages: tables are the allocator's pages, their content is here.</summary>
    private struct ShadowMemory(PageAllocator allocator) : IPageTableMemory
    {
        private readonly Dictionary<(ulong Pfn, int Index), ulong> _entries = [];
        private readonly int[] _counts = new int[2];

        public readonly int Reads => _counts[0];

        public readonly int Writes => _counts[1];

        public static bool CanFault => false;

        public readonly Agent Agent => default;

        public readonly Translation Fault => default;

        public readonly bool Faulted => false;

        public readonly int ExtraReads => 0;

        public readonly Page? TableAt(ulong address) => new ModelMemory(allocator).TableAt(address);

        public readonly ulong Read(Page table, int index, MemoryOrder order)
        {
            _counts[0]++;
            return _entries.GetValueOrDefault((table.Pfn, index));
        }

        public readonly void Write(Page table, int index, ulong value, MemoryOrder order)
        {
            _counts[1]++;
            _entries[(table.Pfn, index)] = value;
        }

        public readonly ulong CompareExchange(Page table, int index, ulong value, ulong comparand)
        {
            ulong old = Read(table, index, MemoryOrder.Once);
            if (old == comparand)
            {
                Write(table, index, value, MemoryOrder.Once);
            }

            return old;
        }

        public readonly void Barrier(BarrierKind barrier)
        {
        }

        public readonly Page? AllocTable(int entries, int concatenated = 1) => new ModelMemory(allocator).AllocTable(entries, concatenated);

        public readonly void FreeTable(Page table) => new ModelMemory(allocator).FreeTable(table);
    }

    private struct MapFn(Mm mm) : IPteFn
    {
        public int Mapped;

        public ulong Sum;

        public int Invoke(PtePointer pte, ulong addr)
        {
            Assert.True(Pgtable.PteNone(Pgtable.PtepGet(pte)));
            var entry = new Pte(mm.Geometry.MakeLeafEntry(PageTableLevel.Pte, (0x1000UL + (ulong)Mapped) << mm.Geometry.PageShift, ProbeGeometries.LeafFields(mm.Geometry)));
            Pgtable.SetPteAt(mm, addr, pte, entry);
            Mapped++;
            Sum += entry.Value;
            return 0;
        }
    }

    private struct SumFn : IPteFn
    {
        public int Count;

        public ulong Sum;

        public int Invoke(PtePointer pte, ulong addr)
        {
            Count++;
            Sum += Pgtable.PtepGet(pte).Value;
            return 0;
        }
    }

    private struct CountLeaves : ITableVisitor
    {
        public int Count;

        public static TableVisits Visits => TableVisits.Leaf;

        public static WalkView View => WalkView.Hardware;

        public int Visit<TMemory>(ref WalkContext context, TableVisits visit, ref TMemory memory)
            where TMemory : struct, IPageTableMemory
        {
            Count += context.Level == PageTableLevel.Pte && context.Geometry.IsLeafEntry(context.Level, context.Old) ? 1 : 0;
            return 0;
        }
    }

    /// <summary>The generated walkers' memory-generic entry points, by geometry name.</summary>
    private static class Generated
    {
        public static int Apply<TFn, TMemory>(string name, Mm mm, ulong addr, ulong size, ref TFn fn, ref TMemory memory, bool create)
            where TFn : struct, IPteFn
            where TMemory : struct, IPageTableMemory => name switch
        {
            "X86_64FourLevel" => create ? X86_64FourLevel.ApplyToPageRange((X86_64FourLevel.AddressSpace)mm, addr, size, ref fn, ref memory) : X86_64FourLevel.ApplyToExistingPageRange((X86_64FourLevel.AddressSpace)mm, addr, size, ref fn, ref memory),
            "X86_64FiveLevel" => create ? X86_64FiveLevel.ApplyToPageRange((X86_64FiveLevel.AddressSpace)mm, addr, size, ref fn, ref memory) : X86_64FiveLevel.ApplyToExistingPageRange((X86_64FiveLevel.AddressSpace)mm, addr, size, ref fn, ref memory),
            "X86NonPae" => create ? X86NonPae.ApplyToPageRange((X86NonPae.AddressSpace)mm, addr, size, ref fn, ref memory) : X86NonPae.ApplyToExistingPageRange((X86NonPae.AddressSpace)mm, addr, size, ref fn, ref memory),
            "Arm64Granule4K" => create ? Arm64Granule4K.ApplyToPageRange((Arm64Granule4K.AddressSpace)mm, addr, size, ref fn, ref memory) : Arm64Granule4K.ApplyToExistingPageRange((Arm64Granule4K.AddressSpace)mm, addr, size, ref fn, ref memory),
            "Arm64Granule16K" => create ? Arm64Granule16K.ApplyToPageRange((Arm64Granule16K.AddressSpace)mm, addr, size, ref fn, ref memory) : Arm64Granule16K.ApplyToExistingPageRange((Arm64Granule16K.AddressSpace)mm, addr, size, ref fn, ref memory),
            "Arm64Granule64K" => create ? Arm64Granule64K.ApplyToPageRange((Arm64Granule64K.AddressSpace)mm, addr, size, ref fn, ref memory) : Arm64Granule64K.ApplyToExistingPageRange((Arm64Granule64K.AddressSpace)mm, addr, size, ref fn, ref memory),
            "Arm64Stage2Ipa40" => create ? Arm64Stage2Ipa40.ApplyToPageRange((Arm64Stage2Ipa40.AddressSpace)mm, addr, size, ref fn, ref memory) : Arm64Stage2Ipa40.ApplyToExistingPageRange((Arm64Stage2Ipa40.AddressSpace)mm, addr, size, ref fn, ref memory),
            "RiscVSv39" => create ? RiscVSv39.ApplyToPageRange((RiscVSv39.AddressSpace)mm, addr, size, ref fn, ref memory) : RiscVSv39.ApplyToExistingPageRange((RiscVSv39.AddressSpace)mm, addr, size, ref fn, ref memory),
            "RiscVSv48" => create ? RiscVSv48.ApplyToPageRange((RiscVSv48.AddressSpace)mm, addr, size, ref fn, ref memory) : RiscVSv48.ApplyToExistingPageRange((RiscVSv48.AddressSpace)mm, addr, size, ref fn, ref memory),
            "RiscVSv57" => create ? RiscVSv57.ApplyToPageRange((RiscVSv57.AddressSpace)mm, addr, size, ref fn, ref memory) : RiscVSv57.ApplyToExistingPageRange((RiscVSv57.AddressSpace)mm, addr, size, ref fn, ref memory),
            "RiscVSv39x4" => create ? RiscVSv39x4.ApplyToPageRange((RiscVSv39x4.AddressSpace)mm, addr, size, ref fn, ref memory) : RiscVSv39x4.ApplyToExistingPageRange((RiscVSv39x4.AddressSpace)mm, addr, size, ref fn, ref memory),
            "AmdNpt" => create ? AmdNpt.ApplyToPageRange((AmdNpt.AddressSpace)mm, addr, size, ref fn, ref memory) : AmdNpt.ApplyToExistingPageRange((AmdNpt.AddressSpace)mm, addr, size, ref fn, ref memory),
            "IntelEpt" => create ? IntelEpt.ApplyToPageRange((IntelEpt.AddressSpace)mm, addr, size, ref fn, ref memory) : IntelEpt.ApplyToExistingPageRange((IntelEpt.AddressSpace)mm, addr, size, ref fn, ref memory),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a probe geometry"),
        };
    }
}
