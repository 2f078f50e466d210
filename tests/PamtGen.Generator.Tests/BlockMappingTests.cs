using PamtGen.Generator.Probe;
using PamtGen.Testing;

namespace PamtGen.Generator.Tests;

/// <summary>
/// MapRange, UnmapRange, Split and Collapse against a reference written apart from them (disjoint intervals of
/// virtual pages, each with its physical start and fields), on random operation sequences with random alignments, sizes,
/// fields and options, for every shipped format; and exhaustive fault injection: after any failure the tables and the
/// allocated pages are exactly as before. CI runs 200 sequences per geometry, scaled by PAMTGEN_FUZZ_CASES (FuzzSize).
/// </summary>
public class BlockMappingTests
{
    private static readonly int Sequences =
        FuzzSize.Scaled(200);

    public static TheoryData<string> Names => ProbeGeometries.Theory();

    [Theory]
    [MemberData(nameof(Names))]
    public void Random_sequences_map_as_the_reference_says_and_leave_no_empty_or_unreachable_table(string name)
    {
        var outcomes = new Dictionary<string, int>();
        for (int sequence = 0; sequence < Sequences; sequence++)
        {
            var random = new Random((sequence * 7919) + name.Length);
            var g = ProbeGeometries.GeometryOf(name);
            var allocator = PageAllocator.Synthetic(1 << 14, g.PageShift);
            var mm = ProbeGeometries.AddressSpaceOf(name, allocator);
            var tlb = mm.TrackTlb(strict: true); // every operation must keep break-before-make and invalidate what it changed
            var world = new World(g, random);
            for (int step = 0; step < 24; step++)
            {
                string what = world.Step(mm, out int expected, out int actual);
                string where = $"{name} sequence {sequence} step {step}: {what}";
                Assert.True(expected == actual, $"{where}: returned {actual}, the reference says {expected}");
                world.Check(mm, where);
                Assert.True(tlb.Stale.Count == 0, $"{where}: left {tlb.Stale.Count} stale translations, first {tlb.Stale.FirstOrDefault()}");
                string key = what.Split(' ')[0] + ":" + actual;
                outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
            }
        }

        Assert.Contains(outcomes.Keys, k => k == "map:0");
        Assert.Contains(outcomes.Keys, k => k == "map:-17"); // -EEXIST
        Assert.Contains(outcomes.Keys, k => k == "unmap:0");
        Assert.Contains(outcomes.Keys, k => k == "split:0");
        Assert.Contains(outcomes.Keys, k => k == "collapse-after-split:0");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Every_failed_allocation_leaves_the_tables_and_the_allocator_as_they_were(string name)
    {
        var g = ProbeGeometries.GeometryOf(name);
        var block = g.EntryLevels.FirstOrDefault(l => l != PageTableLevel.Pte && g.HoldsLeaves(l) && g.Size(l) <= (1UL << 32));
        ulong span = block == default ? g.Size(PageTableLevel.Pmd) : g.Size(block);
        ulong va = Window(g) + span, pa = 1UL << 31 & ~(span - 1);

        // Each operation from the same starting state: a block mapping plus pages around it.
        (Mm Mm, PageAllocator Allocator) Setup()
        {
            var allocator = PageAllocator.Synthetic(1 << 12, g.PageShift);
            var mm = ProbeGeometries.AddressSpaceOf(name, allocator);
            Assert.Equal(0, BlockMapping.MapRange(mm, va, pa, span, ProbeGeometries.LeafFields(g)));
            Assert.Equal(0, BlockMapping.MapRange(mm, va + span, pa + span, 3 * g.PageSize, ProbeGeometries.LeafFields(g)));
            return (mm, allocator);
        }

        var operations = new (string Name, Func<Mm, int> Run)[]
        {
            ("map", mm => BlockMapping.MapRange(mm, va + (4 * span), pa, span + (5 * g.PageSize), ProbeGeometries.LeafFields(g))),
            ("map replace", mm => BlockMapping.MapRange(mm, va + (span / 2), pa, span, ProbeGeometries.LeafFields(g), new MapRangeOptions(Replace: true))),
            ("unmap", mm => BlockMapping.UnmapRange(mm, va + g.PageSize, span)),
            ("split", mm => BlockMapping.Split(mm, va, block == default ? PageTableLevel.Pmd : block)),
        };
        foreach (var (what, run) in operations)
        {
            if (block == default && what == "split")
            {
                Assert.Equal(-Errno.EINVAL, run(Setup().Mm));
                continue;
            }

            // Fail its first allocation, then its second, ... until it makes no k-th attempt and succeeds.
            for (long k = 1; ; k++)
            {
                var (mm, allocator) = Setup();
                var tables = mm.Snapshot();
                var pages = allocator.LeakReport();
                using var failure = allocator.FailNth(k);
                int err = run(mm);
                if (!failure.Injected)
                {
                    Assert.Equal(0, err);
                    Assert.Equal(k - 1, failure.Attempts); // each of its attempts failed once
                    Assert.True(k > 1, $"{name} {what} allocates nothing: the test would prove nothing");
                    break;
                }

                Assert.Equal(-Errno.ENOMEM, err);
                Assert.Equal(tables, mm.Snapshot());
                Assert.Equal(pages, allocator.LeakReport());
            }
        }
    }

    [Fact]
    public void MapRange_takes_the_largest_block_the_alignment_allows_and_respects_the_cap()
    {
        var allocator = PageAllocator.Synthetic(1 << 12);
        var mm = new X86_64FourLevel.AddressSpace(allocator);
        var rw = X86_64FourLevel.Entry.Page(0).WithWritable(true).WithPat(PageTableLevel.Pte, 1);

        // 1 GiB + 2 MiB + 4 KiB at a 1 GiB-aligned address: one 1 GiB leaf, one 2 MiB leaf, one page.
        Assert.Equal(0, X86_64FourLevel.MapRange(mm, 1UL << 30, 1UL << 32, (1UL << 30) + (2UL << 20) + 4096, rw));
        var leaves = mm.Snapshot().Where(e => X86_64FourLevel.Geometry.IsLeafEntry(e.Level, e.Value)).Select(e => e.Level).ToList();
        Assert.Equal([PageTableLevel.Pud, PageTableLevel.Pmd, PageTableLevel.Pte], leaves);

        // PAT moves to bit 12 in the blocks and stays at bit 7 in the page; the block maps the offset within it.
        var pud = new X86_64FourLevel.Entry(mm.Snapshot().Single(e => e.Level == PageTableLevel.Pud && X86_64FourLevel.Geometry.IsLeafEntry(e.Level, e.Value)).Value);
        Assert.Equal(0x1_0000_1083UL, pud.Value);
        Assert.Equal(1UL, pud.Pat(PageTableLevel.Pud));

        // The same range capped at 2 MiB, and pages only, elsewhere.
        Assert.Equal(0, X86_64FourLevel.MapRange(mm, 8UL << 30, 1UL << 32, 4UL << 20, rw, new MapRangeOptions(LargestLeaf: PageTableLevel.Pmd)));
        Assert.Equal(0, X86_64FourLevel.MapRange(mm, 16UL << 30, 1UL << 32, 2UL << 20, rw, MapRangeOptions.PagesOnly));
        Assert.Equal(2, mm.Snapshot().Count(e => e.Level == PageTableLevel.Pmd && e.Address >= 8UL << 30 && e.Address < 9UL << 30 && X86_64FourLevel.Geometry.IsLeafEntry(e.Level, e.Value)));
        Assert.Equal(512, mm.Snapshot().Count(e => e.Level == PageTableLevel.Pte && e.Address >= 16UL << 30));
    }

    /// <summary>The table pages of docs/PERFORMANCE.md's block-mapping figures, counted (the benchmark measures the time).</summary>
    [Fact]
    public void Sixteen_gib_take_one_table_page_besides_the_root_with_blocks_and_8209_with_pages()
    {
        var rw = X86_64FourLevel.Entry.Page(0).WithWritable(true);
        // Blocks: the root and one PDPT holding 16 leaves of 1 GiB. Pages: the root, one PDPT, 16 PDs, 8192 PTs.
        foreach (var (options, tables) in new[] { (default(MapRangeOptions), 1 + 1), (MapRangeOptions.PagesOnly, 1 + 1 + 16 + 8192) })
        {
            var allocator = PageAllocator.Synthetic(1 << 14);
            var mm = new X86_64FourLevel.AddressSpace(allocator);
            Assert.Equal(0, X86_64FourLevel.MapRange(mm, 1UL << 40, 1UL << 40, 16UL << 30, rw, options));
            Assert.Equal(tables, allocator.Stats.PageTablePages);
        }
    }

    [Fact]
    public void Misaligned_and_overlapping_ranges_are_refused_and_replace_replaces()
    {
        var allocator = PageAllocator.Synthetic(1 << 10);
        var mm = new Arm64Granule4K.AddressSpace(allocator);
        var normal = Arm64Granule4K.Entry.Page(0).WithAttrIndx(4).WithAccessFlag(true);
        Assert.Equal(-Errno.EINVAL, Arm64Granule4K.MapRange(mm, 0x1000 + 1, 0x4000_0000, 0x1000, normal));
        Assert.Equal(-Errno.EINVAL, Arm64Granule4K.MapRange(mm, 0x1000, 0x4000_0800, 0x1000, normal));
        Assert.Equal(-Errno.EINVAL, Arm64Granule4K.MapRange(mm, 0x1000, 0x4000_0000, 0, normal));
        Assert.Equal(-Errno.EINVAL, Arm64Granule4K.MapRange(mm, 0x1000, 1UL << 48, 0x1000, normal)); // beyond 48 output-address bits
        Assert.Equal(-Errno.EINVAL, Arm64Granule4K.UnmapRange(mm, 0x1000, 0x800));

        Assert.Equal(0, Arm64Granule4K.MapRange(mm, 0x20_0000, 0x4000_0000, 0x20_0000, normal)); // a 2 MiB block
        var before = mm.Snapshot();
        long tables = allocator.Stats.PageTablePages;
        Assert.Equal(-Errno.EEXIST, Arm64Granule4K.MapRange(mm, 0x1f_f000, 0x5000_0000, 0x2000, normal)); // its first page overlaps
        Assert.Equal(before, mm.Snapshot());
        Assert.Equal(tables, allocator.Stats.PageTablePages); // decided before anything was written: no table was allocated for 0x1ff000

        // Replace: the block's first page is remapped; the block is split and keeps the rest of its translation.
        Assert.Equal(0, Arm64Granule4K.MapRange(mm, 0x1f_f000, 0x5000_0000, 0x2000, normal, new MapRangeOptions(Replace: true)));
        Assert.True(mm.TryGetEntry(PageTableLevel.Pte, 0x20_0000, out ulong pte));
        Assert.Equal(0x5000_1000UL, new Arm64Granule4K.Entry(pte).OutputAddress(PageTableLevel.Pte));
        Assert.True(mm.TryGetEntry(PageTableLevel.Pte, 0x20_1000, out pte));
        Assert.Equal(0x4000_1000UL, new Arm64Granule4K.Entry(pte).OutputAddress(PageTableLevel.Pte));
    }

    [Fact]
    public void A_block_replaces_tables_that_map_nothing()
    {
        // apply_to_page_range() allocates the tables of a range even where its callback maps nothing.
        var allocator = PageAllocator.Synthetic(64);
        var mm = new X86_64FourLevel.AddressSpace(allocator);
        Assert.Equal(0, ReferenceWalkers.ApplyToPageRange(mm, 0x4000_0000, 0x2000, static (PtePointer pte, ulong addr, int _) => 0, 0));
        Assert.Equal(4, allocator.Stats.PageTablePages); // root, PDPT, PD, PT
        Assert.Equal(0, X86_64FourLevel.MapRange(mm, 0x4000_0000, 0x8000_0000, 1UL << 30, X86_64FourLevel.Entry.Page(0)));
        Assert.Equal(2, allocator.Stats.PageTablePages); // the PD and PT under the new 1 GiB leaf are freed
        Assert.Equal(-Errno.EEXIST, X86_64FourLevel.MapRange(mm, 0x4000_0000, 0x8000_0000, 1UL << 30, X86_64FourLevel.Entry.Page(0)));
    }

    [Fact]
    public void Split_and_collapse_round_trip_keeps_every_translation_and_frees_the_table()
    {
        var allocator = PageAllocator.Synthetic(1 << 10);
        var mm = new Arm64Stage2Ipa40.AddressSpace(allocator);
        var ram = Arm64Stage2Ipa40.Entry.Page(0).WithMemAttr(0xf).WithS2AccessPermissions(3).WithShareability(3);
        Assert.Equal(0, Arm64Stage2Ipa40.MapRange(mm, 0x80_4000_0000, 0x8000_0000, 1UL << 30, ram)); // a 1 GiB level-1 block, second root table
        long tables = allocator.Stats.PageTablePages;
        Assert.Equal(0, Arm64Stage2Ipa40.Split(mm, 0x80_4000_0000, PageTableLevel.Pud));
        Assert.Equal(0, Arm64Stage2Ipa40.Split(mm, 0x80_4020_0000, PageTableLevel.Pmd));
        Assert.Equal(tables + 2, allocator.Stats.PageTablePages);
        Assert.True(mm.TryGetEntry(PageTableLevel.Pte, 0x80_4021_3000, out ulong value));
        var page = new Arm64Stage2Ipa40.Entry(value);
        Assert.Equal(0x8021_3000UL, page.OutputAddress(PageTableLevel.Pte));
        Assert.Equal(0xfUL, page.MemAttr);
        Assert.Equal(3UL, page.S2AccessPermissions);

        // The hardware sets AF on one page: collapse merges it into the block. A page remapped elsewhere stops collapse.
        Assert.True(mm.SetEntry(PageTableLevel.Pte, 0x80_4021_3000, page.WithAccessFlag(true).Value));
        Assert.Equal(0, Arm64Stage2Ipa40.Collapse(mm, 0x80_4020_0000, PageTableLevel.Pmd));
        Assert.True(mm.TryGetEntry(PageTableLevel.Pmd, 0x80_4020_0000, out value));
        Assert.True(new Arm64Stage2Ipa40.Entry(value).AccessFlag);
        Assert.Equal(0, Arm64Stage2Ipa40.MapRange(mm, 0x80_4000_0000, 0x9000_0000, 0x1000, ram, new MapRangeOptions(Replace: true)));
        Assert.Equal(-Errno.EINVAL, Arm64Stage2Ipa40.Collapse(mm, 0x80_4000_0000, PageTableLevel.Pmd));
        Assert.Equal(-Errno.EINVAL, Arm64Stage2Ipa40.Collapse(mm, 0x80_4000_0000, PageTableLevel.Pud)); // its table holds a table, not leaves
        Assert.Equal(-Errno.EINVAL, Arm64Stage2Ipa40.Split(mm, 0x80_4000_0000, PageTableLevel.Pud)); // a table, not a block

        // Unmapping everything frees every table but the root.
        Assert.Equal(0, Arm64Stage2Ipa40.UnmapRange(mm, 0x80_4000_0000, 1UL << 30));
        Assert.Equal(2, allocator.Stats.PageTablePages);
        Assert.Empty(mm.Snapshot());
    }

    [Fact]
    public void Deref_through_a_mapping_of_memory_that_is_not_the_models_says_so()
    {
        var allocator = PageAllocator.Synthetic(64);
        var mm = new X86_64FourLevel.AddressSpace(allocator);
        var data = allocator.AllocPage(Gfp.Zero)!;
        Assert.Equal(0, X86_64FourLevel.MapRange(mm, 0x10_0000, data.PhysAddr, 4096, X86_64FourLevel.Entry.Page(0).WithWritable(true)));
        mm.AtomicAt(0x10_0008) = 5;
        Assert.Equal(5, data.AtomicAt(8));
        Assert.Equal(0, X86_64FourLevel.MapRange(mm, 0x20_0000, 0xfee0_0000, 4096, X86_64FourLevel.Entry.Page(0).WithCacheDisable(true))); // the local APIC
        var oops = Assert.Throws<KernelOopsException>(() => mm.AtomicAt(0x20_0000));
        Assert.Contains("maps physical address 0xfee00000, which is not model memory", oops.Message, StringComparison.Ordinal);
        Assert.Equal(1, allocator.Stats.DataPages); // mapping device memory allocated nothing
    }

    [Fact]
    public void Deref_of_a_page_table_page_is_refused_rather_than_going_around_its_memory()
    {
        var allocator = PageAllocator.Synthetic(64);
        var mm = new X86_64FourLevel.AddressSpace(allocator);
        Assert.Equal(0, X86_64FourLevel.MapRange(mm, 0x10_0000, mm.Pgd.PhysAddr, 4096, X86_64FourLevel.Entry.Page(0).WithWritable(true)));
        var oops = Assert.Throws<KernelOopsException>(() => mm.AtomicAt(0x10_0000));
        Assert.Contains($"maps the page-table page at pfn 0x{mm.Pgd.Pfn:x}", oops.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => mm.Pgd.Bytes.Length);
    }

    [Fact]
    public void Replace_rewrites_leaves_in_the_tables_that_stay_and_needs_no_allocation()
    {
        var allocator = PageAllocator.Synthetic(1 << 10);
        var mm = new X86_64FourLevel.AddressSpace(allocator);
        var rw = X86_64FourLevel.Entry.Page(0).WithWritable(true);
        Assert.Equal(0, mm.MapRange(0x4000_0000, 0x1_0000_0000, 64 * 4096, rw, MapRangeOptions.PagesOnly));
        Assert.Equal(0, mm.MapRange(0x4020_0000, 0x1_4020_0000, 2UL << 20, rw)); // and a 2 MiB block
        var tables = allocator.LeakReport();

        // The same ranges to other frames: every table stays, so nothing may be allocated (KVM's stage2_map_walker, aarch64-paging's map_range).
        using (var failure = allocator.FailAfter(0))
        {
            Assert.Equal(0, mm.MapRange(0x4000_0000, 0x2_0000_0000, 64 * 4096, rw, new MapRangeOptions(Replace: true, LargestLeaf: PageTableLevel.Pte)));
            Assert.Equal(0, mm.MapRange(0x4020_0000, 0x2_4020_0000, 2UL << 20, rw, new MapRangeOptions(Replace: true)));
            Assert.Equal(0, failure.Attempts);
        }

        Assert.Equal(tables, allocator.LeakReport()); // the same table pages, none freed and allocated again
        Assert.Equal(0x2_0000_3000UL, mm.Translate(0x4000_3000, Access.Read).OutputAddress);
        Assert.Equal(0x2_4030_0000UL, mm.Translate(0x4030_0000, Access.Read).OutputAddress);
        Assert.Equal([PageTableLevel.Pmd], mm.Leaves(0x4020_0000, 0x4040_0000).Select(l => l.Level));

        // A replace that does need a table (a block over part of which pages go) fails with -ENOMEM and changes nothing.
        var before = mm.Snapshot();
        using (allocator.FailAfter(0))
        {
            Assert.Equal(-Errno.ENOMEM, mm.MapRange(0x4020_0000, 0x3_0000_0000, 4096, rw, out var refusal, new MapRangeOptions(Replace: true)));
            Assert.Equal(RefusalReason.NoMemory, refusal.Reason);
        }

        Assert.Equal(before, mm.Snapshot());
    }

    [Fact]
    public void An_overlap_is_eexist_before_anything_is_written_even_over_an_unflushed_unmap()
    {
        var allocator = PageAllocator.Synthetic(1 << 10);
        var mm = new X86_64FourLevel.AddressSpace(allocator);
        mm.TrackTlb(strict: true);
        var rw = X86_64FourLevel.Entry.Page(0).WithWritable(true);
        Assert.Equal(0, mm.MapRange(0x4000_0000, 0x1_0000_0000, 16 * 4096, rw));
        Assert.Equal(0, mm.MapRange(0x4010_0000, 0x1_1000_0000, 4096, rw));

        // Unmap the first range into a gather and do not flush yet: its translations may still be cached.
        var gather = new TlbGather();
        Assert.Equal(0, mm.UnmapRange(0x4000_0000, 16 * 4096, gather));
        var before = mm.Snapshot();

        // A map over the unmapped range and the still-mapped page: the overlap is found before any entry is written, so the
        // strict TLB sees no write over a stale translation (which would be a BUG): the map touches nothing and says why.
        Assert.Equal(-Errno.EEXIST, mm.MapRange(0x4000_0000, 0x2_0000_0000, 0x10_1000, rw, out var refusal));
        Assert.Equal(new Refusal(-Errno.EEXIST, RefusalReason.Overlap, PageTableLevel.Pte, 0x4010_0000, mm.Snapshot().Single(e => e.Address == 0x4010_0000 && e.Level == PageTableLevel.Pte).Value), refusal);
        Assert.Equal(before, mm.Snapshot());
        gather.Flush(mm);
        Assert.Equal(0, mm.MapRange(0x4000_0000, 0x2_0000_0000, 16 * 4096, rw)); // after the flush the same map is fine
    }

    [Fact]
    public void Collapse_and_split_say_why_they_refuse()
    {
        var allocator = PageAllocator.Synthetic(1 << 12);
        var mm = new X86_64FourLevel.AddressSpace(allocator);
        var g = mm.Geometry;
        var rw = X86_64FourLevel.Entry.Page(0).WithWritable(true);
        const ulong Mib2 = 2UL << 20;

        Refusal Collapse(ulong va, PageTableLevel level)
        {
            int err = mm.Collapse(va, level, out var refusal);
            Assert.Equal(refusal.Error, err);
            return refusal;
        }

        Assert.Equal(RefusalReason.NotABlockLevel, Collapse(0x4000_0000, PageTableLevel.Pte).Reason);
        Assert.Equal(RefusalReason.NoEntry, Collapse(0x4000_0000, PageTableLevel.Pmd).Reason); // nothing mapped there

        // Not all leaves: the table holds a hole.
        Assert.Equal(0, mm.MapRange(0x4000_0000, 0x1_0000_0000, Mib2 - 4096, rw, MapRangeOptions.PagesOnly));
        var notAll = Collapse(0x4000_0000, PageTableLevel.Pmd);
        Assert.Equal((-Errno.EINVAL, RefusalReason.NotAllLeaves, PageTableLevel.Pte, 0x401f_f000UL), (notAll.Error, notAll.Reason, notAll.Level, notAll.Address));

        // Misaligned: the first leaf maps an address not aligned to 2 MiB.
        Assert.Equal(0, mm.MapRange(0x4020_0000, 0x1_0000_1000, Mib2, rw, MapRangeOptions.PagesOnly));
        Assert.Equal(RefusalReason.Misaligned, Collapse(0x4020_0000, PageTableLevel.Pmd).Reason);

        // Not contiguous: one page maps elsewhere.
        Assert.Equal(0, mm.MapRange(0x4040_0000, 0x1_0040_0000, Mib2, rw, MapRangeOptions.PagesOnly));
        Assert.Equal(0, mm.MapRange(0x4050_0000, 0x3_0000_0000, 4096, rw, new MapRangeOptions(Replace: true)));
        var gap = Collapse(0x4040_0000, PageTableLevel.Pmd);
        Assert.Equal((RefusalReason.NotContiguous, 0x4050_0000UL), (gap.Reason, gap.Address));

        // Fields differ: one page is read-only.
        Assert.Equal(0, mm.MapRange(0x4060_0000, 0x1_0060_0000, Mib2, rw, MapRangeOptions.PagesOnly));
        Assert.Equal(0, mm.MapRange(0x4070_0000, 0x1_0070_0000, 4096, X86_64FourLevel.Entry.Page(0), new MapRangeOptions(Replace: true)));
        var fields = Collapse(0x4060_0000, PageTableLevel.Pmd);
        Assert.Equal((RefusalReason.FieldsDiffer, 0x4070_0000UL), (fields.Reason, fields.Address));
        Assert.Equal($"the pte leaf 0x{fields.Entry:x} for 0x40700000 differs from the first leaf in its fields", fields.Message);

        // Not a table: the entry is already a block.
        Assert.Equal(0, mm.MapRange(0x4080_0000, 0x1_0080_0000, Mib2, rw));
        Assert.Equal(RefusalReason.NotATable, Collapse(0x4080_0000, PageTableLevel.Pmd).Reason);

        // Split: not a block, and a level whose block cannot be split (pte holds leaves, p4d holds none).
        int err = mm.Split(0x4040_0000, PageTableLevel.Pmd, out var split);
        Assert.Equal((-Errno.EINVAL, RefusalReason.NotABlock), (err, split.Reason));
        Assert.Equal(-Errno.EINVAL, mm.Split(0x4080_0000, PageTableLevel.P4d, out split));
        Assert.Equal(RefusalReason.LevelHoldsNoLeaves, split.Reason);
        Assert.Equal(0, mm.Split(0x4080_0000, PageTableLevel.Pmd, out split));
        Assert.False(split.Refused);
        Assert.True(g.IsLeafEntry(PageTableLevel.Pte, mm.Leaves(0x4080_0000, 0x4080_1000).Single().Entry));
    }

    [Fact]
    public void Leaves_lists_what_the_hardware_translates_through()
    {
        var allocator = PageAllocator.Synthetic(1 << 10);
        var mm = new X86_64FourLevel.AddressSpace(allocator);
        var rw = X86_64FourLevel.Entry.Page(0).WithWritable(true);
        Assert.Equal(0, mm.MapRange(0x4000_0000, 0x1_0000_0000, (1UL << 30) + (2UL << 20) + 4096, rw));
        Assert.True(mm.SetEntry(PageTableLevel.Pte, 0x8020_0000, 0x5000_0000)); // not present: no leaf
        var leaves = mm.Leaves();
        Assert.Equal(
            [
                new MappedLeaf(PageTableLevel.Pud, 0x4000_0000, 0x1_0000_0000, 1UL << 30, leaves[0].Entry),
                new MappedLeaf(PageTableLevel.Pmd, 0x8000_0000, 0x1_4000_0000, 2UL << 20, leaves[1].Entry),
            ],
            leaves);
        Assert.Equal([leaves[1]], mm.Leaves(0x8000_0000, 0x8020_0000));
        Assert.Equal(leaves.Select(l => l.Entry), leaves.Select(l => mm.Snapshot().Single(e => e.Address == l.VirtualAddress && e.Level == l.Level).Value));
    }

    private static ulong Window(Geometry g) => g.VirtualAddressBits >= 40 ? 1UL << 38 : g.VirtualAddressBits >= 39 ? 1UL << 36 : 1UL << 28; // 1 GiB aligned where 1 GiB blocks fit

    /// <summary>The reference: disjoint intervals of mapped virtual addresses, each with its physical start and its fields (as a page has them).</summary>
    private sealed class World(Geometry g, Random random)
    {
        private readonly List<(ulong Va, ulong End, ulong Pa, ulong Fields)> _mapped = [];
        private readonly ulong _window = Window(g);
        private readonly PageTableLevel[] _blocks = g.EntryLevels.Where(l => l != PageTableLevel.Pte && g.HoldsLeaves(l) && g.Size(l) <= 1UL << 30).ToArray();

        /// <summary>The span the sequence works in: a few of the largest blocks it uses.</summary>
        private ulong Span => 4 * (_blocks.Length > 0 ? g.Size(_blocks[0]) : g.Size(PageTableLevel.Pmd));

        public string Step(Mm mm, out int expected, out int actual)
        {
            ulong page = g.PageSize;
            var level = _blocks.Length > 0 && random.Next(3) != 0 ? _blocks[random.Next(_blocks.Length)] : PageTableLevel.Pte;
            ulong unit = g.Size(level);
            ulong va = _window + (AlignedOffset(unit) + (random.Next(4) == 0 ? (ulong)random.Next(1, 8) * page : 0));
            va = va + page > _window + Span ? _window : va;
            ulong size = (random.Next(3) == 0 ? (ulong)random.Next(1, 3) * unit : 0) + ((ulong)random.Next(random.Next(2) == 0 ? 1 : 0, 6) * page);
            size = Math.Max(size, page);
            size = Math.Min(size, _window + Span - va);
            switch (random.Next(10))
            {
                case < 5:
                {
                    ulong pa = (1UL << 30) + AlignedOffset(unit) + (va & (unit - 1));
                    ulong fields = RandomFields(mm);
                    bool replace = random.Next(4) == 0;
                    expected = !replace && _mapped.Any(m => m.Va < va + size && va < m.End) ? -Errno.EEXIST : 0;
                    actual = BlockMapping.MapRange(mm, va, pa, size, fields, new MapRangeOptions(replace, level == PageTableLevel.Pte && random.Next(3) == 0 ? PageTableLevel.Pte : PageTableLevel.Pgd));
                    if (actual == 0)
                    {
                        Remove(va, va + size);
                        _mapped.Add((va, va + size, pa, g.MoveLeafFields(PageTableLevel.Pte, fields, PageTableLevel.Pte)));
                    }

                    return $"map [0x{va:x} +0x{size:x}) -> 0x{pa:x}{(replace ? " replace" : "")}";
                }

                case < 8:
                    expected = 0;
                    actual = BlockMapping.UnmapRange(mm, va, size);
                    Remove(va, va + size);
                    return $"unmap [0x{va:x} +0x{size:x})";
                case 8:
                    va = InMapped(va);
                    expected = actual = _blocks.Length == 0 ? 0 : BlockMapping.Split(mm, va, level);
                    if (actual == 0 && _blocks.Length > 0 && random.Next(2) == 0)
                    {
                        // A block just split is a table of contiguous leaves with the same fields: it must collapse back.
                        Check(mm, $"split 0x{va:x} {level}");
                        expected = 0;
                        actual = BlockMapping.Collapse(mm, va, level);
                        return $"collapse-after-split 0x{va:x} {level}";
                    }

                    return $"split 0x{va:x} {level}";
                default:
                    // Where something is mapped, so that the tables a split or an unmap made get their chance to collapse back.
                    va = InMapped(va);
                    var target = _blocks.Length == 0 ? PageTableLevel.Pte : _blocks[random.Next(_blocks.Length)];
                    expected = actual = _blocks.Length == 0 ? 0 : BlockMapping.Collapse(mm, va, target);
                    return $"collapse 0x{va:x} {target}";
            }
        }

        /// <summary>
        /// Sampled pages of every interval translate as the reference says through the walk, unmapped ones do not; every
        /// leaf of the tables maps as the reference says and together they map exactly its bytes; every table is reachable
        /// and not empty.
        /// </summary>
        public void Check(Mm mm, string where)
        {
            foreach (var (va, end, pa, fields) in _mapped)
            {
                ulong pages = (end - va) / g.PageSize;
                foreach (ulong i in new ulong[] { 0, pages - 1, pages / 2, (ulong)random.NextInt64((long)pages) })
                {
                    ulong at = va + (i * g.PageSize);
                    var (mapped, mappedFields) = Translate(mm, at) ?? throw new Xunit.Sdk.XunitException($"{where}: 0x{at:x} is not mapped");
                    Assert.True(mapped == pa + (i * g.PageSize), $"{where}: 0x{at:x} maps 0x{mapped:x}, not 0x{pa + (i * g.PageSize):x}");
                    Assert.True(mappedFields == fields, $"{where}: 0x{at:x} has fields 0x{mappedFields:x}, not 0x{fields:x}");
                }
            }

            for (int probe = 0; probe < 8; probe++)
            {
                ulong at = _window + ((ulong)random.NextInt64((long)(Span / g.PageSize)) * g.PageSize);
                if (!_mapped.Any(m => m.Va <= at && at < m.End))
                {
                    Assert.True(Translate(mm, at) is null, $"{where}: 0x{at:x} is mapped, the reference says not");
                }
            }

            // Every leaf, whatever its size, lies in the reference and maps as it says; together they map exactly what it maps.
            var snapshot = mm.Snapshot();
            ulong leafBytes = 0;
            foreach (var leaf in snapshot.Where(e => g.IsLeafEntry(e.Level, e.Value)))
            {
                ulong size = g.Size(leaf.Level), va = leaf.Address, pa = g.LeafAddress(leaf.Level, leaf.Value);
                ulong fields = g.MoveLeafFields(leaf.Level, leaf.Value, PageTableLevel.Pte), covered = 0;
                foreach (var m in _mapped.Where(m => m.Va < va + size && va < m.End))
                {
                    ulong from = Math.Max(m.Va, va), to = Math.Min(m.End, va + size);
                    Assert.True(m.Pa + (from - m.Va) == pa + (from - va) && m.Fields == fields, $"{where}: the {leaf.Level} leaf at 0x{va:x} maps 0x{pa + (from - va):x} (fields 0x{fields:x}) at 0x{from:x}, the reference 0x{m.Pa + (from - m.Va):x} (0x{m.Fields:x})");
                    covered += to - from;
                }

                Assert.True(covered == size, $"{where}: the {leaf.Level} leaf at 0x{va:x} maps 0x{size - covered:x} bytes the reference does not");
                leafBytes += size;
            }

            ulong referenceBytes = 0;
            _mapped.ForEach(m => referenceBytes += m.End - m.Va);
            Assert.True(leafBytes == referenceBytes, $"{where}: the leaves map 0x{leafBytes:x} bytes, the reference 0x{referenceBytes:x}");
            var tableEntries = snapshot.Where(e => g.IsTableEntry(e.Level, e.Value)).ToList();
            Assert.True(mm.Allocator.Stats.PageTablePages == tableEntries.Count + g.RootTables, $"{where}: {mm.Allocator.Stats.PageTablePages} table pages, {tableEntries.Count} reachable below the root");
            foreach (var entry in tableEntries)
            {
                Assert.True(snapshot.Any(e => e.Level > entry.Level && e.Address >= entry.Address && e.Address - entry.Address < g.Size(entry.Level)), $"{where}: the table under {entry} is empty");
            }
        }

        private (ulong Pa, ulong Fields)? Translate(Mm mm, ulong va)
        {
            if (mm.TryGetEntry(PageTableLevel.Pte, va, out ulong pte, out var blockedAt))
            {
                return g.IsLeafEntry(PageTableLevel.Pte, pte) ? (g.LeafAddress(PageTableLevel.Pte, pte), g.MoveLeafFields(PageTableLevel.Pte, pte, PageTableLevel.Pte)) : null;
            }

            ulong leaf = pte; // the entry the walk stopped at, blockedAt's
            if (!g.IsLeafEntry(blockedAt, leaf))
            {
                return null;
            }

            ulong offset = (va & (g.Size(blockedAt) - 1)) & ~(g.PageSize - 1);
            return (g.LeafAddress(blockedAt, leaf) + offset, g.MoveLeafFields(blockedAt, leaf, PageTableLevel.Pte));
        }

        private void Remove(ulong va, ulong end)
        {
            var kept = new List<(ulong Va, ulong End, ulong Pa, ulong Fields)>();
            foreach (var m in _mapped)
            {
                if (m.End <= va || end <= m.Va)
                {
                    kept.Add(m);
                    continue;
                }

                if (m.Va < va)
                {
                    kept.Add((m.Va, va, m.Pa, m.Fields));
                }

                if (end < m.End)
                {
                    kept.Add((end, m.End, m.Pa + (end - m.Va), m.Fields));
                }
            }

            _mapped.Clear();
            _mapped.AddRange(kept);
        }

        /// <summary>A page of a mapped interval, when there is one; else <paramref name="fallback"/>.</summary>
        private ulong InMapped(ulong fallback)
        {
            if (_mapped.Count == 0)
            {
                return fallback;
            }

            var (va, end, _, _) = _mapped[random.Next(_mapped.Count)];
            return va + ((ulong)random.NextInt64((long)((end - va) / g.PageSize)) * g.PageSize);
        }

        private ulong AlignedOffset(ulong unit) => (ulong)random.NextInt64((long)(Span / unit)) * unit;

        /// <summary>Random values of the format's leaf fields, as a page has them (no hardware-updated field, so collapse keeps them).</summary>
        /// <summary>
        /// Random fields of a leaf; in RISC-V's format R added where they make no leaf (none of R, W, X) or the reserved W
        /// without R; in EPT's R where they make no present page or W without R, and write-back for a reserved memory type.
        /// </summary>
        private ulong RandomFields(Mm mm)
        {
            ulong fields = g.MoveLeafFields(PageTableLevel.Pte, (ulong)random.NextInt64(), PageTableLevel.Pte) & ~g.HardwareUpdatedBits(PageTableLevel.Pte);
            if (g.Format.Name == "Intel EPT")
            {
                fields = (fields & 0x3) is 0 or 0x2 ? fields | 0x1 : fields;
                return ((fields >> 3) & 7) is 2 or 3 or 7 ? (fields & ~0x38UL) | 0x30 : fields;
            }

            bool riscV = ProbeGeometries.LeafFields(g) != 0;
            return riscV && ((fields & 0xe) == 0 || (fields & 0x6) == 0x4) ? fields | ProbeGeometries.LeafFields(g) : fields;
        }
    }
}
