namespace PamtGen.Generator.Tests;

/// <summary>
/// What each architecture calls pXd_leaf() and pXd_bad() (Linux v6.12, docs/KERNEL.md), and what every operation does
/// with such an entry: the page-range walkers warn and return -EINVAL for a leaf, warn and skip (or, creating, clear and
/// replace) a bad one; walk_page_range() clears a bad pgd/p4d and reports a hole; Snapshot lists it as bad; block
/// mapping refuses it; translation follows the manual. Each case through the generated walkers and the runtime's.
/// </summary>
public class KernelChecksTests
{
    private const ulong Va = 0xffff_c900_0000_0000UL;

    public static TheoryData<string, PageTableLevel, ulong, string> BadEntries => new()
    {
        // x86-64 4 levels: the top table's entries are p4d entries; p4d_bad() takes PS (and anything beyond
        // _KERNPG_TABLE | _PAGE_USER | NX) as bad, and x86 has no p4d leaf: the entry of the issue that made the walkers crash.
        { "X86_64FourLevel", PageTableLevel.P4d, 0x4000_0083UL, "p4d_bad" },
        { "X86_64FiveLevel", PageTableLevel.Pgd, 0x4000_0083UL, "pgd_bad" }, // pgd_bad(): the flags are not _KERNPG_TABLE (| _PAGE_USER | NX)
        { "X86_64FourLevel", PageTableLevel.Pud, 0x4000_0080UL, "pud_bad" }, // pud_leaf() needs P and PS: PS alone is bad
        { "Arm64Granule4K", PageTableLevel.P4d, 0x4000_0001UL, "p4d_bad" }, // p4d_bad(): no table bit; arm64 has no p4d leaf
        { "Arm64Granule4K", PageTableLevel.Pmd, 0x4000_0002UL, "pmd_bad" }, // pmd_bad(): not a table, not present (type 10, invalid)
    };

    public static TheoryData<string, PageTableLevel, ulong> LeafEntries => new()
    {
        { "X86_64FourLevel", PageTableLevel.Pmd, 0x4000_0080UL }, // pmd_leaf() tests PSE only: a non-present PS entry is a leaf
        { "X86_64FourLevel", PageTableLevel.Pud, 0x4000_0081UL }, // pud_leaf(): P and PS
        { "Arm64Granule4K", PageTableLevel.Pud, 0x4000_0800UL }, // pud_leaf() = present and not a table: present-invalid (bit 11) counts
        { "Arm64Granule4K", PageTableLevel.Pmd, 0x4000_0001UL }, // a block
    };

    [Theory]
    [MemberData(nameof(BadEntries))]
    public void A_bad_entry_is_warned_about_and_skipped_by_apply_to_existing_page_range(string name, PageTableLevel level, ulong bad, string check)
    {
        foreach (bool generated in new[] { true, false })
        {
            var mm = WithEntry(name, level, bad);
            var fn = new CountFn();
            int err = generated ? mm.ApplyToExistingPageRange(Va, 16 * mm.Geometry.PageSize, ref fn) : ReferenceWalkers.ApplyToExistingPageRange(mm, Va, 16 * mm.Geometry.PageSize, CountFn.Count, fn.Box);
            Assert.Equal(0, err);
            Assert.Equal(0, fn.Box[0] + fn.Calls);
            Assert.Equal($"WARNING: WARN_ON_ONCE({check}(*{check[..3]})) in apply_to_{check[..3]}_range(): 0x{bad:x} for 0x{Va:x}; skipped", Assert.Single(mm.Warnings));
            Assert.True(mm.TryGetEntry(level, Va, out ulong after));
            Assert.Equal(bad, after);
        }
    }

    [Theory]
    [MemberData(nameof(BadEntries))]
    public void A_bad_entry_is_cleared_and_replaced_by_a_table_when_apply_to_page_range_creates(string name, PageTableLevel level, ulong bad, string check)
    {
        foreach (bool generated in new[] { true, false })
        {
            var mm = WithEntry(name, level, bad);
            var fn = new CountFn();
            int err = generated ? mm.ApplyToPageRange(Va, 16 * mm.Geometry.PageSize, ref fn) : ReferenceWalkers.ApplyToPageRange(mm, Va, 16 * mm.Geometry.PageSize, CountFn.Count, fn.Box);
            Assert.Equal(0, err);
            Assert.Equal(16, fn.Box[0] + fn.Calls);
            Assert.Equal(
                [$"WARNING: WARN_ON_ONCE({check}(*{check[..3]})) in apply_to_{check[..3]}_range(): 0x{bad:x} for 0x{Va:x}", $"bad {check[..3]} 0x{bad:x} for 0x{Va:x}: cleared"],
                mm.Warnings);
            Assert.True(mm.TryGetEntry(level, Va, out ulong after));
            Assert.True(mm.Geometry.IsTableEntry(level, after), $"a table in place of 0x{bad:x}: 0x{after:x}");
        }
    }

    [Theory]
    [MemberData(nameof(BadEntries))]
    public void An_all_or_nothing_apply_puts_a_cleared_bad_entry_back(string name, PageTableLevel level, ulong bad, string check)
    {
        var mm = WithEntry(name, level, bad);
        var before = mm.Snapshot();
        var fn = new FailingFn();
        var undo = new CountFn();
        Assert.Equal(-Errno.EIO, mm.ApplyToPageRangeTransactional(Va, 16 * mm.Geometry.PageSize, ref fn, ref undo));
        Assert.Contains(mm.Warnings, w => w.Contains(check, StringComparison.Ordinal));
        Assert.Equal(before, mm.Snapshot());
    }

    [Theory]
    [MemberData(nameof(LeafEntries))]
    public void A_leaf_where_a_table_is_expected_is_warned_about_and_einval(string name, PageTableLevel level, ulong leaf)
    {
        string l = level.ToString().ToLowerInvariant();
        foreach (bool create in new[] { true, false })
        {
            foreach (bool generated in new[] { true, false })
            {
                var mm = WithEntry(name, level, leaf);
                var fn = new CountFn();
                ulong size = 16 * mm.Geometry.PageSize;
                int err = (create, generated) switch
                {
                    (true, true) => mm.ApplyToPageRange(Va, size, ref fn),
                    (false, true) => mm.ApplyToExistingPageRange(Va, size, ref fn),
                    (true, false) => ReferenceWalkers.ApplyToPageRange(mm, Va, size, CountFn.Count, fn.Box),
                    _ => ReferenceWalkers.ApplyToExistingPageRange(mm, Va, size, CountFn.Count, fn.Box),
                };
                Assert.Equal(-Errno.EINVAL, err);
                Assert.Equal($"WARNING: WARN_ON_ONCE({l}_leaf(*{l})) in apply_to_{l}_range(): 0x{leaf:x} for 0x{Va:x}; -EINVAL", Assert.Single(mm.Warnings));
                Assert.True(mm.TryGetEntry(level, Va, out ulong after));
                Assert.Equal(leaf, after);
            }
        }
    }

    [Theory]
    [MemberData(nameof(BadEntries))]
    public void Walk_page_range_clears_a_bad_top_entry_and_reports_a_hole(string name, PageTableLevel level, ulong bad, string check)
    {
        if (level >= PageTableLevel.Pud)
        {
            return; // at pud and pmd walk_page_range() hands the entry to its callback instead (the differential tests compare both walkers there)
        }

        foreach (bool generated in new[] { true, false })
        {
            var mm = WithEntry(name, level, bad);
            ulong end = Va + (16 * mm.Geometry.PageSize);
            var holes = new List<(ulong, ulong)>();
            int err;
            if (generated)
            {
                var ops = new HoleOps();
                err = mm.WalkPageRange(Va, end, ref ops);
                holes.AddRange(ops.Holes ?? []);
            }
            else
            {
                err = ReferenceWalkers.WalkPageRange(mm, Va, end, new MmWalkOps<List<(ulong, ulong)>> { PteEntry = static (_, _, _, _) => 0, PteHole = static (a, n, _, h) => { h.Add((a, n)); return 0; } }, holes);
            }

            Assert.Equal(0, err);
            Assert.Equal([(Va, end)], holes);
            Assert.Equal($"bad {check[..3]} 0x{bad:x} for 0x{Va:x}: cleared", Assert.Single(mm.Warnings));
            Assert.True(mm.TryGetEntry(level, Va, out ulong after));
            Assert.Equal(0UL, after);
        }
    }

    [Theory]
    [MemberData(nameof(BadEntries))]
    public void Snapshot_lists_a_bad_entry_as_bad_and_block_mapping_refuses_it(string name, PageTableLevel level, ulong bad, string check)
    {
        var mm = WithEntry(name, level, bad);
        var g = mm.Geometry;
        Assert.Contains(new EntryState(level, Va & Window(g) & ~(g.Size(level) - 1), bad, EntryClass.Bad), mm.Snapshot());
        var before = mm.Snapshot();
        Assert.Equal(-Errno.EINVAL, mm.MapRange(Va, 1UL << 32, g.PageSize, 0, out var refusal));
        Assert.Equal(new Refusal(-Errno.EINVAL, RefusalReason.BadEntry, level, Va, bad), refusal);
        Assert.Equal(-Errno.EINVAL, mm.UnmapRange(Va, g.PageSize, out refusal));
        Assert.Equal(RefusalReason.BadEntry, refusal.Reason);
        Assert.Equal(before, mm.Snapshot());
        Assert.Empty(mm.Leaves(Va, Va + g.Size(level)));
        Assert.Equal($"the {check[..3]} entry 0x{bad:x} for 0x{Va:x} is neither none, a leaf nor a table", refusal.Message);
    }

    [Fact]
    public void The_mmu_faults_on_the_leaf_like_x86_top_entry_with_its_reserved_bit()
    {
        foreach (var (name, level) in new[] { ("X86_64FourLevel", PageTableLevel.P4d), ("X86_64FiveLevel", PageTableLevel.Pgd) })
        {
            var mm = WithEntry(name, level, 0x4000_0083UL);
            var generated = mm.Translate(Va, Access.Read);
            Assert.Equal((FaultReason.ReservedBits, level), (generated.Fault, generated.Level)); // PS is reserved in a PML4E/PML5E
            Assert.Equal(generated, Translator.Translate(mm, Va, Access.Read));
        }
    }

    [Fact]
    public void A_table_entry_naming_memory_without_a_table_is_a_not_present_fault_below_it_and_a_bug_to_the_kernel_walkers()
    {
        var g = ProbeGeometries.GeometryOf("X86_64FourLevel");
        var mm = WithEntry("X86_64FourLevel", PageTableLevel.Pud, g.MakeTableEntry(1UL << 40)); // no RAM there
        var t = mm.Translate(Va, Access.Read);
        Assert.Equal((FaultReason.NotPresent, PageTableLevel.Pmd), (t.Fault, t.Level)); // the hardware reads zeros there
        Assert.Equal(t, Translator.Translate(mm, Va, Access.Read));
        Assert.Contains(new EntryState(PageTableLevel.Pud, Va & Window(g) & ~(g.Size(PageTableLevel.Pud) - 1), g.MakeTableEntry(1UL << 40), EntryClass.Bad), mm.Snapshot());
        var fn = new CountFn();
        var bug = Assert.Throws<KernelBugException>(() => mm.ApplyToExistingPageRange(Va, g.PageSize, ref fn));
        Assert.Equal($"kernel BUG: the pud entry 0x{g.MakeTableEntry(1UL << 40):x} for 0x{Va & ~(g.Size(PageTableLevel.Pud) - 1):x} points to physical address 0x10000000000, which holds no page table: the kernel would walk whatever memory is there", bug.Message);
    }

    /// <summary>Snapshot's addresses are the translated bits of the address (a top-level index and below).</summary>
    private static ulong Window(Geometry g) => (1UL << g.VirtualAddressBits) - 1;

    /// <summary>A fresh address space of <paramref name="name"/> with a page mapped at <see cref="Va"/>, then <paramref name="value"/> written at <paramref name="level"/> over its path.</summary>
    private static Mm WithEntry(string name, PageTableLevel level, ulong value)
    {
        var g = ProbeGeometries.GeometryOf(name);
        var mm = ProbeGeometries.AddressSpaceOf(name, PageAllocator.Synthetic(1 << 10, g.PageShift));
        Assert.Equal(0, mm.MapRange(Va, 1UL << 30, g.PageSize, 0));
        Assert.True(mm.SetEntry(level, Va, value));
        return mm;
    }

    private struct CountFn() : IPteFn
    {
        public int Calls;

        public int[] Box { get; } = [0];

        public static int Count(PtePointer pte, ulong addr, int[] box)
        {
            box[0]++;
            return 0;
        }

        public int Invoke(PtePointer pte, ulong addr)
        {
            Calls++;
            return 0;
        }
    }

    private struct FailingFn : IPteFn
    {
        private int _calls;

        public int Invoke(PtePointer pte, ulong addr) => ++_calls == 10 ? -Errno.EIO : 0;
    }

    private struct HoleOps : IPageWalkOps
    {
        public List<(ulong, ulong)>? Holes;

        public static PageWalkCallbacks Callbacks => PageWalkCallbacks.PteEntry | PageWalkCallbacks.PteHole; // with pte_hole alone a folded top level is not descended

        public int PteEntry(PtePointer pte, ulong addr, ulong next) => 0;

        public int PteHole(ulong addr, ulong next, int depth)
        {
            (Holes ??= []).Add((addr, next));
            return 0;
        }

        public int PmdEntry(PmdPointer pmd, ulong addr, ulong next) => 0;

        public int PudEntry(PudPointer pud, ulong addr, ulong next) => 0;
    }
}
