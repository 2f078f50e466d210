using NestedPaging;
using PamtGen;
using PamtGen.MemoryMaps;
using PamtGen.Testing;

namespace NestedPaging.Tests;

/// <summary>The report's figures against counts made here, apart from the model: arithmetic on the layout, the workload's own list.</summary>
public class NestedReportTests
{
    private static readonly string Layout = Path.Combine(AppContext.BaseDirectory, "memmaps", "08-vm-qemu-i440fx-16g.e820");

    public static TheoryData<string> Architectures => new() { "arm64", "x86" };

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Figures_match_counts_made_apart_from_the_model(string name)
    {
        var arch = name == "x86" ? Architecture.X86 : Architecture.Arm64;
        var layout = MemoryMap.Load(Layout);
        const int Accesses = 20_000;
        const ulong WorkingSet = 64UL << 20;
        var f = NestedReport.Measure(arch, layout, Accesses, WorkingSet, 30, seed: 7);

        // Stage-2 tables with 4 KiB pages: one pte table per 2 MiB the RAM touches, one pmd table per 1 GiB, the root
        // (2 concatenated pages on arm64's 3 levels; a PML4 and one PDPT per 512 GiB on x86's 4).
        var pages = layout.RamRanges.SelectMany(r => Pages((r.Start + 0xfff) & ~0xfffUL, r.End & ~0xfffUL)).ToArray();
        long pteTables = pages.Select(p => p >> 21).Distinct().Count(), pmdTables = pages.Select(p => p >> 30).Distinct().Count();
        long expected = pteTables + pmdTables + (name == "x86" ? 1 + pages.Select(p => p >> 39).Distinct().Count() : 2);
        Assert.Equal(expected, f.TablePagesPagesOnly);

        // With nothing cached and pages in both stages: n*m + n + m.
        Assert.Equal((f.Stage1Levels * f.Stage2Levels) + f.Stage1Levels + f.Stage2Levels, f.ColdReadsPages);
        Assert.Equal(name == "x86" ? 24 : 19, f.ColdReadsPages);

        // Dirty logging: one fault and one dirty page per page the second half writes, and no other; on x86 also every
        // guest page table the second half's walks use (AMD checks each guest-table access as a nested write): the
        // linear map's pte tables (one per 2 MiB touched), pmd and pud tables and the root, from the addresses alone.
        var workload = Workload.Generate(7, Accesses, WorkingSet >> 12, 30);
        var second = workload.Skip(Accesses / 2).ToArray();
        int written = second.Where(a => a.Write).Select(a => a.Page).Distinct().Count();
        var vas = second.Select(a => Workload.LinearBase + (a.Page << 12)).ToArray();
        int tables = name == "x86" ? vas.Select(v => v >> 21).Distinct().Count() + vas.Select(v => v >> 30).Distinct().Count() + vas.Select(v => v >> 39).Distinct().Count() + 1 : 0;
        Assert.Equal(tables, f.TablePagesDirtied);
        Assert.Equal(written + tables, f.PagesDirtied);
        Assert.Equal(written + tables, f.WriteFaults);

        // Every access is one translation, and every write fault one more; each translation a hit or a miss.
        Assert.Equal(Accesses / 2, f.Running.TlbHits + f.Running.TlbMisses);
        Assert.Equal((Accesses / 2) + written + tables, f.Logging.TlbHits + f.Logging.TlbMisses);
        Assert.Equal(f.Running.TlbMisses, f.Running.Walks);

        // Before dirty logging a page misses once: the TLB model holds what it cached until an invalidation.
        Assert.True(f.Running.TlbMisses <= (long)(WorkingSet >> 12), $"{f.Running.TlbMisses} misses for {WorkingSet >> 12} pages");
        Assert.True(f.TablePagesAfter > f.TablePagesBlocks);
    }

    [Fact]
    public void The_command_prints_the_report_and_a_bad_layout_names_its_line()
    {
        var (code, stdout, stderr) = Run("report", "--memmap", Layout, "--accesses", "2000", "--working-set-mib", "16");
        Assert.True(code == 0, stderr);
        Assert.Contains("19 entries read with pages in both stages (n*m + n + m = 4*3 + 4 + 3)", stdout, StringComparison.Ordinal);
        Assert.Matches(@"stage-2 table pages: 8210 with 4 KiB pages only, 6 with blocks", stdout);

        string dir = Directory.CreateTempSubdirectory("pamtgen-nested").FullName;
        try
        {
            string bad = Path.Combine(dir, "bad.e820");
            File.WriteAllText(bad, "BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\nBIOS-e820: [mem 0x0000000000100000-0xzz] usable\n");
            var (badCode, _, badError) = Run("report", "--memmap", bad);
            Assert.Equal(2, badCode);
            Assert.Contains("bad.e820:2: a malformed e820 line", badError, StringComparison.Ordinal);
            var (bigCode, _, bigError) = Run("report", "--memmap", Layout, "--working-set-mib", "100000");
            Assert.Equal(2, bigCode);
            Assert.Contains("working set", bigError, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void The_readme_shows_what_the_command_prints()
    {
        string root = TestRepository.Root;
        string readme = File.ReadAllText(Path.Combine(root, "samples", "NestedPaging", "README.md"));
        int start = readme.IndexOf("```\nNestedPaging: arm64", StringComparison.Ordinal) + 4;
        string shown = readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)];
        var (code, stdout, stderr) = Run("report", "--memmap", Path.Combine(root, "data", "memmaps", "08-vm-qemu-i440fx-16g.e820"));
        Assert.True(code == 0, stderr);
        Assert.Equal(shown, stdout.Replace(Path.Combine(root, "data"), "data", StringComparison.Ordinal));
    }

    private static IEnumerable<ulong> Pages(ulong start, ulong end)
    {
        for (ulong page = start; page < end; page += 0x1000)
        {
            yield return page;
        }
    }

    private static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        using var home = new IsolatedDotnet("pamtgen-nested-run");
        return home.Run(AppContext.BaseDirectory, TimeSpan.FromMinutes(2), ["exec", Path.Combine(AppContext.BaseDirectory, "NestedPaging.dll"), .. args]);
    }
}
