namespace PamtGen.Runtime.Tests;

public class GeometryTests
{
    public static TheoryData<Geometry, int, int, int, int> Vectors => new()
    {
        // docs/KERNEL.md section 4: geometry, PMD_SHIFT, top shift (PGDIR_SHIFT), PTRS_PER_PGD, real levels
        { Geometry.X86_64FourLevel, 21, 39, 512, 4 },
        { Geometry.X86_64FiveLevel, 21, 48, 512, 5 },
        { Geometry.Arm64Granule4K, 21, 39, 512, 4 },
        { Geometry.Arm64Granule16K, 25, 47, 2, 4 },
        { Geometry.Arm64Granule64K, 29, 42, 64, 3 },
        { Geometry.Arm64Granule64K52Bit, 29, 42, 1024, 3 },
        { Geometry.X86NonPae, 22, 22, 1024, 2 },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Shifts_and_table_sizes_match_the_kernel_headers(Geometry g, int pmdShift, int pgdShift, int ptrsPerPgd, int levels)
    {
        Assert.Equal(pmdShift, g.PmdShift);
        Assert.Equal(pgdShift, g.Shift(PageTableLevel.Pgd));
        Assert.Equal(ptrsPerPgd, g.PtrsPer(PageTableLevel.Pgd));
        Assert.Equal(levels, g.Levels);
        Assert.Equal(levels, Enum.GetValues<PageTableLevel>().Count(l => !g.IsFolded(l)));
    }

    [Fact]
    public void Folded_levels_take_the_shift_of_the_level_above_and_one_entry()
    {
        var g = Geometry.X86_64FourLevel; // p4d folded into pgd: P4D_SHIFT == PGDIR_SHIFT, PTRS_PER_P4D == 1
        Assert.True(g.IsFolded(PageTableLevel.P4d));
        Assert.Equal(39, g.Shift(PageTableLevel.P4d));
        Assert.Equal(1, g.PtrsPer(PageTableLevel.P4d));
        Assert.Equal(30, g.Shift(PageTableLevel.Pud));
        Assert.False(g.ChecksEntry(PageTableLevel.Pgd)); // pgd_none() is 0 when p4d is folded
        Assert.True(g.ChecksEntry(PageTableLevel.P4d));
        var twoLevel = Geometry.X86NonPae;
        Assert.Equal(22, twoLevel.Shift(PageTableLevel.Pud));
        Assert.True(twoLevel.ChecksEntry(PageTableLevel.Pmd));
        Assert.False(twoLevel.ChecksEntry(PageTableLevel.Pud));
    }

    [Fact]
    public void Addr_end_stops_at_the_level_boundary_or_end_and_survives_the_top_of_the_address_space()
    {
        var g = Geometry.X86_64FourLevel;
        Assert.Equal(0x200000UL, g.AddrEnd(PageTableLevel.Pmd, 0x1000, 0x400000));
        Assert.Equal(0x200000UL, g.AddrEnd(PageTableLevel.Pmd, 0x1000, 0x300000));
        Assert.Equal(0x150000UL, g.AddrEnd(PageTableLevel.Pmd, 0x100000, 0x150000));
        // The last pgd slot: addr + PGDIR_SIZE wraps to 0, and the "- 1" keeps end.
        ulong top = ulong.MaxValue - 0xfff;
        Assert.Equal(top, g.AddrEnd(PageTableLevel.Pgd, 0xffffff8000000000, top));
        // end == 0 means "up to the top": the boundary comes first.
        Assert.Equal(0xffffff8000000000UL, g.AddrEnd(PageTableLevel.Pgd, 0xffffff0000001000, 0));
        // A folded level's addr_end is end.
        Assert.Equal(0x12345000UL, g.AddrEnd(PageTableLevel.P4d, 0x1000, 0x12345000));
    }

    [Theory]
    [InlineData(9, 64, 8, 2, 12, "PAGE_SHIFT 9")]
    [InlineData(21, 262144, 8, 2, 40, "PAGE_SHIFT 21")]
    [InlineData(12, 512, 6, 4, 48, "4 or 8 bytes")]
    [InlineData(12, 1024, 8, 4, 48, "do not fill")]
    [InlineData(12, 512, 8, 1, 21, "2 to 5")]
    [InlineData(12, 512, 8, 6, 64, "2 to 5")]
    [InlineData(12, 512, 8, 4, 39, "would resolve no bit")]
    [InlineData(12, 512, 8, 4, 49, "use more levels")]
    [InlineData(16, 8192, 8, 5, 65, "an address has 64 bits")]
    public void Impossible_geometries_are_rejected_with_a_reason(int pageShift, int ptrs, int entrySize, int levels, int vaBits, string reason)
    {
        var error = Assert.Throws<ArgumentException>(() => new Geometry(pageShift, ptrs, entrySize, levels, vaBits));
        Assert.Contains(reason, error.Message);
    }
}
