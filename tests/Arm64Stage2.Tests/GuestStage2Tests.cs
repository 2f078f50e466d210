using PamtGen;

namespace Arm64Stage2.Tests;

public class GuestStage2Tests
{
    private const ulong MiB = 1UL << 20;

    [Fact]
    public void The_geometry_is_the_64K_granule_with_a_64_entry_top_table()
    {
        Assert.Equal(64, Stage2.PtrsPerPgd);
        Assert.Equal(512 * MiB, Stage2.PmdSize);
        Assert.Equal(42, Stage2.PgdShift);
        Assert.Equal(3, Stage2.Levels);
    }

    [Fact]
    public void Ram_across_a_512_MiB_boundary_maps_page_by_page_and_needs_two_pte_tables()
    {
        var guest = new GuestStage2(hostPages: 2048);
        ulong ipa = (512 - 32) * MiB, size = 64 * MiB;
        Assert.Equal(0, guest.MapRam(ipa, size));
        var stats = guest.Host.Stats;
        Assert.Equal((long)(size / Stage2.PageSize), stats.DataPages); // 1024 pages of 64 KiB
        Assert.Equal(1 + 1 + 2, stats.PageTablePages); // root, one level-2 table, two level-3 tables

        var pages = new HashSet<ulong>();
        for (ulong at = ipa; at < ipa + size; at += Stage2.PageSize)
        {
            ulong pa = guest.Translate(at + 0x123)!.Value;
            Assert.Equal(0x123UL, pa & (Stage2.PageSize - 1)); // the offset in the page is kept
            Assert.True(pages.Add(pa >> Stage2.PageShift)); // every IPA page has its own host page
        }

        Assert.Null(guest.Translate(ipa - 1)); // below the RAM: a stage-2 fault
        Assert.Null(guest.Translate(ipa + size));
        Assert.Null(guest.Translate(0x9000000)); // the UART of QEMU's virt machine is a device: unmapped
    }

    [Fact]
    public void The_tables_hold_real_stage2_descriptors()
    {
        var guest = new GuestStage2(hostPages: 64);
        ulong ipa = 1UL << 30;
        Assert.Equal(0, guest.MapRam(ipa, Stage2.PageSize));
        ulong pa = guest.Translate(ipa)!.Value;

        // Arm ARM D8.6: a level-3 page descriptor: bits[1:0] = 11, MemAttr[5:2] = 1111, S2AP[7:6] = 11, SH[9:8] = 11,
        // AF[10] = 1, the output address at [47:16] for the 64K granule.
        var page = guest.Descriptor(ipa)!.Value;
        Assert.Equal(pa | 0x7ffUL, page.Value);

        // The level-2 entry above it is a table descriptor (11) pointing at the level-3 table, no x86 bits in it.
        Assert.True(guest.Mm.TryGetEntry(PageTableLevel.Pmd, ipa, out ulong level2));
        var table = new Stage2.Entry(level2);
        Assert.Equal(0x3UL, table.Value & 0xffff);
        Assert.True(table.IsTable(PageTableLevel.Pmd));
        Assert.True(guest.Host.IsAllocated(table.OutputAddress(PageTableLevel.Pmd) >> Stage2.PageShift));
    }

    [Fact]
    public void A_block_descriptor_at_level_2_stops_the_map_with_einval()
    {
        // A 512 MiB block at level 2 (bits[1:0] = 01), as KVM maps guest RAM in blocks: the page-range walk refuses to
        // walk into it, as apply_to_page_range() refuses a pmd_leaf().
        var guest = new GuestStage2(hostPages: 64);
        ulong ipa = 1UL << 30;
        Assert.True(guest.Mm.SetEntry(PageTableLevel.Pmd, ipa, Stage2.Entry.Block(PageTableLevel.Pmd, 0x8000_0000).WithAccessFlag(true).Value));
        Assert.Equal(-Errno.EINVAL, guest.MapRam(ipa, Stage2.PageSize));
        Assert.Equal(0, guest.Host.Stats.DataPages);
        Assert.True(guest.Mm.IsMapped(ipa + 0x1234_0000)); // the block maps its whole 512 MiB
    }

    [Fact]
    public void Mapping_the_same_range_again_keeps_the_pages_it_has()
    {
        var guest = new GuestStage2(hostPages: 256);
        Assert.Equal(0, guest.MapRam(1UL << 30, 4 * MiB));
        ulong? first = guest.Translate(1UL << 30);
        var stats = guest.Host.Stats;
        Assert.Equal(0, guest.MapRam(1UL << 30, 4 * MiB));
        Assert.Equal(stats.DataPages, guest.Host.Stats.DataPages);
        Assert.Equal(first, guest.Translate(1UL << 30));
    }

    [Fact]
    public void Unmapping_frees_every_host_page_and_the_ipa_faults_again()
    {
        var guest = new GuestStage2(hostPages: 256);
        Assert.Equal(0, guest.MapRam(1UL << 30, 8 * MiB));
        Assert.Equal(0, guest.Unmap(1UL << 30, 8 * MiB));
        Assert.Equal(0, guest.Host.Stats.DataPages);
        Assert.Null(guest.Translate(1UL << 30));
        Assert.Equal(-Errno.EINVAL, guest.MapRam(1UL << 30, 0));
    }

    [Fact]
    public void Every_failed_map_is_undone_by_unmap_without_a_leak()
    {
        ulong ipa = (512 - 4) * MiB, size = 8 * MiB; // 128 pages across a level-2 boundary
        long attempts = 0;
        for (long k = 1; ; k++)
        {
            var guest = new GuestStage2(hostPages: 512);
            using var failure = guest.Host.FailNth(k);
            int err = guest.MapRam(ipa, size);
            if (!failure.Injected)
            {
                Assert.Equal(0, err);
                attempts = failure.Attempts;
                break;
            }

            Assert.Equal(-Errno.ENOMEM, err);
            Assert.Equal(0, guest.Unmap(ipa, size));
            Assert.Equal(0, guest.Host.Stats.DataPages);
        }

        Assert.Equal(128 + 3, attempts); // 128 pages, a level-2 table and two level-3 tables, each failed once
    }
}
