using PamtGen.Generator.Probe;

namespace PamtGen.Generator.Tests;

/// <summary>
/// The generated entry structs of the shipped formats, built and compared bit for bit with the layouts of the manuals
/// (docs/FORMATS.md gives each table with its section), and the generated struct against the runtime's reading of the
/// same declaration on random entries.
/// </summary>
public class EntryFormatTests
{
    private const PageTableLevel Pgd = PageTableLevel.Pgd, P4d = PageTableLevel.P4d, Pud = PageTableLevel.Pud, Pmd = PageTableLevel.Pmd, Pte = PageTableLevel.Pte;

    [Fact]
    public void X86_64_entries_match_the_sdm_layout()
    {
        // SDM vol. 3A table 4-20: a 4 KiB PTE. P = bit 0, R/W = 1, PAT = 7, XD = 63, the address at [51:12].
        var pte = X86_64FourLevel.Entry.Page(0x1234_5000).WithWritable(true).WithPat(Pte, 1).WithNoExecute(true);
        Assert.Equal(0x8000_0000_1234_5083UL, pte.Value);
        Assert.True(pte.IsLeaf(Pte));
        Assert.Equal(0x1234_5000UL, pte.OutputAddress(Pte));
        Assert.Equal(1UL, pte.Pat(Pte));

        // Table 4-18: a PDE mapping 2 MiB. PS = bit 7, PAT moves to bit 12, the address at [51:21].
        var pde = X86_64FourLevel.Entry.Block(Pmd, 0x4020_0000).WithPat(Pmd, 1).WithDirty(true).WithGlobal(true);
        Assert.Equal(0x4020_11c1UL, pde.Value);
        Assert.True(pde.IsLeaf(Pmd));
        Assert.False(pde.IsTable(Pmd));
        Assert.Equal(0x4020_0000UL, pde.OutputAddress(Pmd)); // the PAT bit is not address
        Assert.Equal(1UL, pde.Pat(Pmd));

        // Table 4-16: a PDPTE mapping 1 GiB, the address at [51:30].
        Assert.Equal(0x1_4000_0081UL, X86_64FourLevel.Entry.Block(Pud, 0x1_4000_0000).Value);

        // A table entry as the kernel installs it (_KERNPG_TABLE: P, R/W, A, D) and read back.
        var table = X86_64FourLevel.Entry.Table(0xabc_d000);
        Assert.Equal(0xabc_d063UL, table.Value);
        Assert.True(table.IsTable(Pmd) && table.IsTable(Pud) && table.IsTable(P4d));
        Assert.Equal(0xabc_d000UL, table.OutputAddress(Pmd));

        // PS is reserved in a PML4E and a PML5E: no leaf there, and no block at all on a level without leaves.
        Assert.False(new X86_64FourLevel.Entry(0x81).IsLeaf(P4d));
        Assert.False(new X86_64FiveLevel.Entry(0x81).IsLeaf(Pgd));
        Assert.Equal(0UL, X86_64FourLevel.Entry.Block(P4d, 0x80_0000_0000).Value);

        // Not present: neither table nor leaf, whatever else is set.
        Assert.False(new X86_64FourLevel.Entry(0x1234_5082).IsValid(Pte));
        Assert.False(new X86_64FourLevel.Entry(0x1234_5082).IsTable(Pmd));
        Assert.False(X86_64FourLevel.Entry.NeedsBreakBeforeMake(Pmd, pde, table)); // x86 has no such rule
    }

    [Fact]
    public void X86_32_entries_match_the_sdm_layout()
    {
        // Tables 4-5 and 4-6: a 4 MiB PDE (PS, PAT at 12, address [31:22]) and a 4 KiB PTE, both 4 bytes.
        var pde = X86NonPae.Entry.Block(Pmd, 0xffc0_0000).WithPat(Pmd, 1).WithWritable(true);
        Assert.Equal(0xffc0_1083UL, pde.Value);
        Assert.True(pde.IsLeaf(Pmd));
        Assert.Equal(0xffc0_0000UL, pde.OutputAddress(Pmd));
        Assert.Equal(0xffff_f001UL, X86NonPae.Entry.Page(0xffff_f000).Value);
        Assert.True(X86NonPae.Entry.Table(0x1000).IsTable(Pmd));
    }

    [Fact]
    public void Arm64_stage1_descriptors_match_the_arm_arm_layout()
    {
        // D8.3: a level 3 page descriptor (bits[1:0] = 11) with AttrIndx = 4, SH = 11 (inner shareable), AF.
        var page = Arm64Granule4K.Entry.Page(0x8_0000_1000).WithAttrIndx(4).WithShareability(3).WithAccessFlag(true);
        Assert.Equal(0x8_0000_1713UL, page.Value);
        Assert.True(page.IsLeaf(Pte));
        Assert.Equal(0x8_0000_1000UL, page.OutputAddress(Pte));

        // Blocks (bits[1:0] = 01): 2 MiB at level 2, 1 GiB at level 1; a table (11) points at [47:12].
        var block = Arm64Granule4K.Entry.Block(Pmd, 0x4020_0000).WithUnprivilegedExecuteNever(true);
        Assert.Equal(0x0040_0000_4020_0001UL, block.Value);
        Assert.True(block.IsLeaf(Pmd));
        Assert.False(block.IsTable(Pmd));
        Assert.Equal(0x4000_0001UL, Arm64Granule4K.Entry.Block(Pud, 0x4000_0000).Value);
        var table = Arm64Granule4K.Entry.Table(0x5000).WithPxnTable(true);
        Assert.Equal(0x0800_0000_0000_5003UL, table.Value);
        Assert.True(table.IsTable(Pmd));

        // 01 at level 3 and at level 0 (no block with 4K there) is invalid, and so is x0.
        Assert.False(new Arm64Granule4K.Entry(0x8_0000_1001).IsValid(Pte));
        Assert.False(new Arm64Granule4K.Entry(0x4000_0001).IsValid(P4d));
        Assert.False(new Arm64Granule4K.Entry(0x5002).IsValid(Pmd));

        // 16K: a 32 MiB block at level 2 ([47:25]), a page at [47:14]; 64K: 512 MiB at level 2 ([47:29]), a page at [47:16].
        Assert.Equal(0x0200_0001UL, Arm64Granule16K.Entry.Block(Pmd, 0x0200_0000).Value);
        Assert.Equal(0x4000_4003UL, Arm64Granule16K.Entry.Page(0x4000_4000).Value);
        Assert.False(new Arm64Granule16K.Entry(0x4000_0001).IsLeaf(Pud)); // no level 1 block with 16K (without LPA2)
        Assert.Equal(0x2000_0001UL, Arm64Granule64K.Entry.Block(Pmd, 0x2000_0000).Value);
        Assert.Equal(0x1_0001_0003UL, Arm64Granule64K.Entry.Page(0x1_0001_0000).Value);
    }

    [Fact]
    public void Arm64_stage2_descriptors_match_the_arm_arm_layout()
    {
        // D8.6: MemAttr[5:2] = 1111 (Normal, write-back), S2AP[7:6] = 11 (read/write), SH = 11, AF, XN at 54.
        var page = Arm64Stage2Ipa40.Entry.Page(0x8000_0000).WithMemAttr(0xf).WithS2AccessPermissions(3).WithShareability(3).WithAccessFlag(true).WithExecuteNever(true);
        Assert.Equal(0x0040_0000_8000_07ffUL, page.Value);
        Assert.Equal(2, Arm64Stage2Ipa40.RootTables);
        Assert.Equal(1024, Arm64Stage2Ipa40.PtrsPerPgd); // 2 concatenated level-1 tables
        Assert.Equal(0x4000_0001UL, Arm64Stage2Ipa40.Entry.Block(Pud, 0x4000_0000).Value); // level 1, the top on 3 levels
    }

    [Fact]
    public void Break_before_make_follows_the_arm_arm_and_never_applies_on_x86()
    {
        var old = Arm64Granule4K.Entry.Page(0x10_0000).WithAttrIndx(0).WithAccessFlag(true);
        Assert.False(Arm64Granule4K.Entry.NeedsBreakBeforeMake(Pte, old, old.WithAccessPermissions(2))); // permissions
        Assert.False(Arm64Granule4K.Entry.NeedsBreakBeforeMake(Pte, old, old.WithAccessFlag(false))); // the access flag
        Assert.True(Arm64Granule4K.Entry.NeedsBreakBeforeMake(Pte, old, Arm64Granule4K.Entry.Page(0x20_0000).WithAccessFlag(true))); // output address
        Assert.True(Arm64Granule4K.Entry.NeedsBreakBeforeMake(Pte, old, old.WithAttrIndx(1))); // memory type
        Assert.True(Arm64Granule4K.Entry.NeedsBreakBeforeMake(Pte, old, old.WithShareability(2))); // shareability
        Assert.True(Arm64Granule4K.Entry.NeedsBreakBeforeMake(Pte, old, old.WithNotGlobal(true))); // nG 0 -> 1
        Assert.False(Arm64Granule4K.Entry.NeedsBreakBeforeMake(Pte, old.WithNotGlobal(true), old)); // nG 1 -> 0
        Assert.False(Arm64Granule4K.Entry.NeedsBreakBeforeMake(Pte, default, old)); // from invalid: the make
        Assert.False(Arm64Granule4K.Entry.NeedsBreakBeforeMake(Pte, old, default)); // to invalid: the break
        var block = Arm64Granule4K.Entry.Block(Pmd, 0x20_0000);
        Assert.True(Arm64Granule4K.Entry.NeedsBreakBeforeMake(Pmd, block, Arm64Granule4K.Entry.Table(0x7000))); // split
        Assert.True(Arm64Granule4K.Entry.NeedsBreakBeforeMake(Pmd, Arm64Granule4K.Entry.Table(0x7000), block)); // collapse
        var stage2 = Arm64Stage2Ipa40.Entry.Page(0x10_0000).WithMemAttr(0xf);
        Assert.True(Arm64Stage2Ipa40.Entry.NeedsBreakBeforeMake(Pte, stage2, stage2.WithMemAttr(0x5)));
        Assert.False(Arm64Stage2Ipa40.Entry.NeedsBreakBeforeMake(Pte, stage2, stage2.WithS2AccessPermissions(1)));
        Assert.False(X86_64FourLevel.Entry.NeedsBreakBeforeMake(Pte, X86_64FourLevel.Entry.Page(0x1000), X86_64FourLevel.Entry.Page(0x2000)));
    }

    /// <summary>
    /// The generated struct (constants the emitter wrote) and the runtime's Geometry (the same declaration read by
    /// reflection) agree on every test, address and break-before-make decision, for random entries at every level.
    /// </summary>
    [Fact]
    public void The_generated_struct_and_the_runtime_read_entries_alike()
    {
        var random = new Random(17);
        int compared = 0;
        for (int i = 0; i < 20_000; i++)
        {
            // Mostly entries with a type the format knows, some anything.
            ulong value = (ulong)random.NextInt64() ^ ((ulong)random.NextInt64() << 1);
            value = random.Next(4) switch
            {
                0 => value,
                1 => (value & ~0x3UL) | 0x1,
                2 => (value & ~0x83UL) | 0x3,
                _ => (value & ~0x80UL) | 0x81,
            };
            ulong other = random.Next(3) == 0 ? value ^ (1UL << random.Next(64)) : (ulong)random.NextInt64();
            foreach (var level in Enum.GetValues<PageTableLevel>())
            {
                compared += Same(X86_64FourLevel.Geometry, level, new X86_64FourLevel.Entry(value), new X86_64FourLevel.Entry(other), X86_64FourLevel.Entry.NeedsBreakBeforeMake(level, new(value), new(other)));
                compared += Same(X86_64FiveLevel.Geometry, level, new X86_64FiveLevel.Entry(value), new X86_64FiveLevel.Entry(other), X86_64FiveLevel.Entry.NeedsBreakBeforeMake(level, new(value), new(other)));
                compared += Same(X86NonPae.Geometry, level, new X86NonPae.Entry(value & 0xffff_ffff), new X86NonPae.Entry(other & 0xffff_ffff), X86NonPae.Entry.NeedsBreakBeforeMake(level, new(value & 0xffff_ffff), new(other & 0xffff_ffff)));
                compared += Same(Arm64Granule4K.Geometry, level, new Arm64Granule4K.Entry(value), new Arm64Granule4K.Entry(other), Arm64Granule4K.Entry.NeedsBreakBeforeMake(level, new(value), new(other)));
                compared += Same(Arm64Granule16K.Geometry, level, new Arm64Granule16K.Entry(value), new Arm64Granule16K.Entry(other), Arm64Granule16K.Entry.NeedsBreakBeforeMake(level, new(value), new(other)));
                compared += Same(Arm64Granule64K.Geometry, level, new Arm64Granule64K.Entry(value), new Arm64Granule64K.Entry(other), Arm64Granule64K.Entry.NeedsBreakBeforeMake(level, new(value), new(other)));
                compared += Same(Arm64Stage2Ipa40.Geometry, level, new Arm64Stage2Ipa40.Entry(value), new Arm64Stage2Ipa40.Entry(other), Arm64Stage2Ipa40.Entry.NeedsBreakBeforeMake(level, new(value), new(other)));
            }
        }

        Assert.Equal(20_000 * 5 * 7, compared);

        static int Same<TEntry>(Geometry g, PageTableLevel level, TEntry entry, TEntry other, bool breakBeforeMake)
            where TEntry : struct, IPageTableEntry
        {
            string what = $"{g} {level} 0x{entry.Value:x} -> 0x{other.Value:x}";
            Assert.True(g.IsValidEntry(level, entry.Value) == entry.IsValid(level), what);
            Assert.True(g.IsLeafEntry(level, entry.Value) == entry.IsLeaf(level), what);
            Assert.True(g.IsTableEntry(level, entry.Value) == entry.IsTable(level), what);
            ulong address = g.IsLeafEntry(level, entry.Value) || (level == PageTableLevel.Pte && g.IsValidEntry(level, entry.Value))
                ? g.LeafAddress(level, entry.Value)
                : g.TableAddress(entry.Value);
            Assert.True(!(entry.IsLeaf(level) || entry.IsTable(level)) || address == entry.OutputAddress(level), what);
            Assert.True(g.NeedsBreakBeforeMake(level, entry.Value, other.Value) == breakBeforeMake, what);
            return 1;
        }
    }

    [Fact]
    public void Block_and_page_entries_round_trip_through_the_runtime()
    {
        foreach (var (g, level, address) in new (Geometry, PageTableLevel, ulong)[]
        {
            (X86_64FourLevel.Geometry, Pud, 0x7_c000_0000), (X86_64FourLevel.Geometry, Pmd, 0x7_c020_0000), (X86_64FourLevel.Geometry, Pte, 0xf_ffff_f000),
            (Arm64Granule4K.Geometry, Pud, 0x40_0000_0000), (Arm64Granule16K.Geometry, Pmd, 0x2_0200_0000), (Arm64Granule64K.Geometry, Pte, 0xffff_ffff_0000),
            (Arm64Stage2Ipa40.Geometry, Pud, 0xc0_0000_0000), (X86NonPae.Geometry, Pmd, 0xffc0_0000),
        })
        {
            ulong entry = g.MakeLeafEntry(level, address, 0);
            Assert.True(g.IsLeafEntry(level, entry), $"{g} {level}");
            Assert.Equal(address, g.LeafAddress(level, entry));
            Assert.Throws<ArgumentException>(() => g.MakeLeafEntry(level, address + g.PageSize / 2, 0));
        }

        Assert.Throws<ArgumentException>(() => Arm64Granule16K.Geometry.MakeLeafEntry(Pud, 0x10_0000_0000, 0)); // no level 1 block with 16K
    }
}
