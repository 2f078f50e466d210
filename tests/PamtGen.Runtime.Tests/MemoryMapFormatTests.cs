using PamtGen.MemoryMaps;

namespace PamtGen.Runtime.Tests;

public class MemoryMapFormatTests
{
    private const string NewFormat = """
        [    0.000000] BIOS-provided physical RAM map:
        [    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable
        [    0.000000] BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved
        [    0.000000] BIOS-e820: [mem 0x0000000000100000-0x00000000bffdefff] usable
        [    0.000000] BIOS-e820: [mem 0x00000000bffdf000-0x00000000bfffffff] reserved
        [    0.000000] BIOS-e820: [mem 0x0000000100000000-0x000000043fffffff] usable
        """;

    [Fact]
    public void Old_format_has_exclusive_ends_and_reads_the_same_as_the_new()
    {
        const string old = """
            <6>BIOS-provided physical RAM map:
            <6> BIOS-e820: 0000000000000000 - 000000000009fc00 (usable)
            <6> BIOS-e820: 000000000009fc00 - 00000000000a0000 (reserved)
            <6> BIOS-e820: 0000000000100000 - 00000000bffdf000 (usable)
            <6> BIOS-e820: 00000000bffdf000 - 00000000c0000000 (reserved)
            <6> BIOS-e820: 0000000100000000 - 0000000440000000 (usable)
            """;
        var a = MemoryMap.Parse(old);
        var b = MemoryMap.Parse(NewFormat);
        Assert.Equal(b.Entries, a.Entries);
        Assert.Equal(0x440000UL, a.MaxPfn);
    }

    [Fact]
    public void Lines_of_a_pasted_boot_log_that_are_not_e820_table_lines_are_ignored()
    {
        string log = "Linux version 6.1.0 (gcc 12)\nCommand line: BOOT_IMAGE=/vmlinuz root=UUID=x\n"
            + NewFormat
            + "\n[    0.000000] e820: last_pfn = 0x440000 max_arch_pfn = 0x400000000\n"
            + "Nov 25 10:00:00 host kernel: e820: [mem 0xc0000000-0xfebfffff] available for PCI devices\n"
            + "[    0.3] e820: reserve RAM buffer [mem 0x0009fc00-0x0009ffff]\n"
            + "[    1.0] audit: type=1400 user: pid=1 uid=0\n";
        var map = MemoryMap.Parse(log);
        Assert.Equal(MemoryMap.Parse(NewFormat).Entries, map.Entries);
        Assert.Empty(map.Notes);
    }

    [Fact]
    public void Update_and_remove_lines_after_the_table_are_applied_as_the_kernel_does()
    {
        string log = NewFormat + """

            [    0.000000] e820: update [mem 0x00000000-0x00000fff] usable ==> reserved
            [    0.000000] e820: remove [mem 0x000a0000-0x000fffff] usable
            [    0.000000] e820: update [mem 0x7ffff000-0x7fffffff] usable ==> reserved
            """;
        var map = MemoryMap.Parse(log);
        // PFN 0 became reserved; the middle range lost its last page.
        Assert.Equal(
            [new PfnRange(0x1, 0x9f), new PfnRange(0x100, 0x7ffff), new PfnRange(0x80000, 0xbffdf), new PfnRange(0x100000, 0x440000)],
            map.ForEachMemPfnRange().ToList());
        Assert.Equal(3, map.Notes.Count);
        Assert.All(map.Notes, note => Assert.Contains("applied", note));
        Assert.Contains(map.Entries, e => e is { Start: 0, End: 0x1000, Type: E820Type.Reserved });
    }

    [Fact]
    public void Old_update_and_remove_forms_are_applied_too()
    {
        string log = """
             BIOS-e820: 0000000000000000 - 000000000009fc00 (usable)
             BIOS-e820: 0000000000100000 - 0000000040000000 (usable)
            e820 update range: 0000000000000000 - 0000000000010000 (usable) ==> (reserved)
            e820 remove range: 00000000000a0000 - 0000000000100000 (usable)
            """;
        var map = MemoryMap.Parse(log);
        Assert.Equal([new PfnRange(0x10, 0x9f), new PfnRange(0x100, 0x40000)], map.ForEachMemPfnRange().ToList());
    }

    [Fact]
    public void A_later_user_table_replaces_the_bios_table_and_includes_the_updates_before_it()
    {
        string log = NewFormat + """

            e820: update [mem 0x00000000-0x00000fff] usable ==> reserved
            user-defined physical RAM map:
            user: [mem 0x0000000000000000-0x000000000009fbff] usable
            user: [mem 0x0000000000100000-0x000000003fffffff] usable
            """;
        var map = MemoryMap.Parse(log);
        Assert.Equal([new PfnRange(0, 0x9f), new PfnRange(0x100, 0x40000)], map.ForEachMemPfnRange().ToList());
        Assert.Contains(map.Notes, n => n.Contains("replaces") && n.Contains("BIOS-e820"));
        Assert.Contains(map.Notes, n => n.Contains("ignored") && n.Contains("e820: update"));
    }

    [Fact]
    public void Overlaps_are_resolved_by_the_highest_type_and_same_types_merge()
    {
        // The sanitizer keeps max(type) where entries overlap: reserved (2) cuts into usable (1),
        // ACPI data (3) wins over reserved (2); touching usable pieces merge into one entry.
        const string log = """
            BIOS-e820: [mem 0x0000000000000000-0x00000000001fffff] usable
            BIOS-e820: [mem 0x0000000000100000-0x000000000017ffff] reserved
            BIOS-e820: [mem 0x0000000000200000-0x00000000002fffff] usable
            BIOS-e820: [mem 0x0000000000400000-0x00000000004fffff] reserved
            BIOS-e820: [mem 0x0000000000480000-0x00000000005fffff] ACPI data
            """;
        var map = MemoryMap.Parse(log);
        Assert.Equal(
            [
                new E820Entry(0, 0x100000, E820Type.Ram),
                new E820Entry(0x100000, 0x180000, E820Type.Reserved),
                new E820Entry(0x180000, 0x300000, E820Type.Ram),
                new E820Entry(0x400000, 0x480000, E820Type.Reserved),
                new E820Entry(0x480000, 0x600000, E820Type.Acpi),
            ],
            map.Entries);
        Assert.Equal([new PhysRange(0, 0x100000), new PhysRange(0x180000, 0x300000)], map.RamRanges);
        Assert.Equal(0x600UL, map.MaxPfn); // ACPI data above RAM counts towards max_pfn
    }

    [Theory]
    [InlineData("usable", E820Type.Ram)]
    [InlineData("reserved", E820Type.Reserved)]
    [InlineData("ACPI data", E820Type.Acpi)]
    [InlineData("ACPI NVS", E820Type.Nvs)]
    [InlineData("unusable", E820Type.Unusable)]
    [InlineData("persistent (type 7)", E820Type.Pmem)]
    [InlineData("persistent (type 12)", E820Type.Pram)]
    [InlineData("soft reserved", E820Type.SoftReserved)]
    [InlineData("type 20", 20u)]
    public void Every_printed_type_name_is_read(string name, uint type)
    {
        string log = "BIOS-e820: [mem 0x0000000000000000-0x000000003fffffff] usable\n"
            + $"BIOS-e820: [mem 0x0000000040000000-0x000000004fffffff] {name}\n";
        var map = MemoryMap.Parse(log);
        Assert.Equal(type, map.Entries[^1].Type);
        Assert.Equal(name, E820Type.Name(type));
    }

    [Fact]
    public void Proc_iomem_reads_top_level_entries_and_skips_nested_and_non_memory_ones()
    {
        const string iomem = """
            00000000-00000fff : Reserved
            00001000-0009fbff : System RAM
            0009fc00-0009ffff : Reserved
            000a0000-000bffff : PCI Bus 0000:00
            000c0000-000c99ff : Video ROM
            000f0000-000fffff : Reserved
              000f0000-000fffff : System ROM
            00100000-bffdefff : System RAM
              01000000-01e0367f : Kernel code
              01e03680-0245b6ff : Kernel data
              2a000000-31ffffff : Crash kernel
            bffdf000-bfffffff : Reserved
            c0000000-febfffff : PCI Bus 0000:00
              fd000000-fdffffff : 0000:00:02.0
            fed00000-fed003ff : HPET 0
            fee00000-fee00fff : Local APIC
            100000000-43fffffff : System RAM
            440000000-44fffffff : ACPI Tables
            """;
        var map = MemoryMap.Parse(iomem, "iomem");
        Assert.Equal(MemoryMapFormat.ProcIomem, map.Format);
        Assert.Equal([new PfnRange(1, 0x9f), new PfnRange(0x100, 0xbffdf), new PfnRange(0x100000, 0x440000)], map.ForEachMemPfnRange().ToList());
        Assert.Equal(0x450000UL, map.MaxPfn);
    }

    [Fact]
    public void Sysfs_memmap_directory_is_read_in_entry_order()
    {
        string dir = Directory.CreateTempSubdirectory("memmap").FullName;
        try
        {
            WriteEntry(dir, 0, "0x0", "0x9fbff", "System RAM");
            WriteEntry(dir, 1, "0x9fc00", "0x9ffff", "Reserved");
            WriteEntry(dir, 10, "0x100000000", "0x43fffffff", "System RAM");
            WriteEntry(dir, 2, "0x100000", "0xbffdefff", "System RAM");
            WriteEntry(dir, 3, "0xbffdf000", "0xbfffffff", "ACPI Tables");
            var map = MemoryMap.Load(dir);
            Assert.Equal(MemoryMapFormat.SysfsMemmap, map.Format);
            Assert.Equal([new PfnRange(0, 0x9f), new PfnRange(0x100, 0xbffdf), new PfnRange(0x100000, 0x440000)], map.ForEachMemPfnRange().ToList());

            File.WriteAllText(Path.Combine(dir, "2", "type"), "Holographic RAM\n");
            var error = Assert.Throws<MemoryMapException>(() => MemoryMap.Load(dir));
            Assert.Contains(Path.Combine("2", "type"), error.Message);
            Assert.Contains("Holographic RAM", error.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Crlf_line_ends_read_like_lf()
    {
        var map = MemoryMap.Parse(NewFormat.ReplaceLineEndings("\r\n"));
        Assert.Equal(MemoryMap.Parse(NewFormat).Entries, map.Entries);
    }

    [Fact]
    public void Synthetic_entries_are_sanitized_and_adjacent_ram_merges_in_memblock()
    {
        var map = MemoryMap.FromEntries(
        [
            new E820Entry(0x100000000, 0x200000000, E820Type.Ram),
            new E820Entry(0, 0x80000000, E820Type.Ram),
            new E820Entry(0x80000000, 0x100000000, E820Type.Ram),
        ]);
        Assert.Equal([new PhysRange(0, 0x200000000)], map.RamRanges);
        Assert.Equal(0x200000UL, map.MaxPfn);
        Assert.Equal(0x200000UL >> 4, map.GetMaxPfn(16)); // 64 KiB pages
    }

    private static void WriteEntry(string dir, int n, string start, string end, string type)
    {
        string entry = Directory.CreateDirectory(Path.Combine(dir, n.ToString(System.Globalization.CultureInfo.InvariantCulture))).FullName;
        File.WriteAllText(Path.Combine(entry, "start"), start + "\n");
        File.WriteAllText(Path.Combine(entry, "end"), end + "\n");
        File.WriteAllText(Path.Combine(entry, "type"), type + "\n");
    }
}
