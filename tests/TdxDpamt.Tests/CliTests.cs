using PamtGen.Testing;
using System.Text.Json;
using System.Xml.Linq;

namespace TdxDpamt.Tests;

/// <summary>The built program, run as a user runs it.</summary>
public class CliTests
{
    private static readonly string[] Keys =
    [
        "maxPfn", "tdxRanges", "presentBytes", "denseRefcountBytes", "densePages", "sparsePages", "sparseBytes",
        "pageTablePages", "twoLevelPages", "v4TeardownLeakedPages", "v4PopulateWastedAllocations",
    ];

    [Fact]
    public void Report_json_is_one_object_with_exactly_the_documented_keys()
    {
        var (code, stdout, stderr) = Run("report", "--memmap", ReportFigureTests.MapPath("04-server2s-supermicro-h11dsu-1t.e820"), "--format", "json");
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(Keys, json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(0x1002ff80UL, json.RootElement.GetProperty("maxPfn").GetUInt64());
        Assert.All(json.RootElement.EnumerateObject(), p => Assert.Equal(JsonValueKind.Number, p.Value.ValueKind));
    }

    [Fact]
    public void Report_table_shows_units_and_savings()
    {
        var (code, stdout, _) = Run("report", "--synthetic", "nodes=16,ram=256G,stride=256T");
        Assert.Equal(0, code);
        Assert.Contains("TiB", stdout);
        Assert.Matches(@"sparse \(seed\): total\s+\d+ pages, saves 99\.\d% against dense", stdout);
    }

    [Fact]
    public void Svg_is_well_formed_and_names_its_scale()
    {
        string dir = Directory.CreateTempSubdirectory("pamtgen-svg").FullName;
        string svg = Path.Combine(dir, "map.svg");
        try
        {
            var (code, _, stderr) = Run("report", "--memmap", ReportFigureTests.MapPath("01-laptop-lenovo-t14g3.e820"), "--svg", svg);
            Assert.True(code == 0, stderr);
            var document = XDocument.Load(svg);
            Assert.Equal("svg", document.Root!.Name.LocalName);
            Assert.Contains(document.Descendants(), e => e.Name.LocalName == "text" && e.Value.Contains("log2", StringComparison.Ordinal));
            Assert.True(document.Descendants().Count(e => e.Name.LocalName == "rect") > 10);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// What the picture tells a reader who cannot hover: every range's size is written as text, the axis marks where
    /// ranges start (from 0x0 to the end of the map), and the refcount area is to scale: the populated part's width is
    /// its share of the pages, which the percentage beside it says too. --svg says what it wrote.
    /// </summary>
    [Theory]
    [InlineData("--synthetic", "nodes=16,ram=256G,stride=256T,low=2G")]
    [InlineData("--memmap", "04-server2s-supermicro-h11dsu-1t.e820")]
    public void Svg_writes_the_sizes_an_address_axis_and_the_populated_share_to_scale(string option, string value)
    {
        string dir = Directory.CreateTempSubdirectory("pamtgen-svg").FullName;
        string svg = Path.Combine(dir, "map.svg");
        try
        {
            string source = option == "--memmap" ? ReportFigureTests.MapPath(value) : value;
            var (code, stdout, stderr) = Run("report", option, source, "--svg", svg, "--format", "json");
            Assert.True(code == 0, stderr);
            Assert.Contains($"wrote {svg}: ", stderr);
            var map = option == "--memmap" ? PamtGen.MemoryMaps.MemoryMap.Load(source) : TdxDpamt.Cli.SyntheticMap.Parse(value);
            var document = XDocument.Load(svg);
            var texts = document.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value).ToList();
            string all = string.Join("\n", texts);

            // Every range's size, as text (a tooltip alone does not count).
            ulong at = 0;
            foreach (var entry in map.Entries)
            {
                if (entry.Start > at)
                {
                    Assert.Contains(TdxDpamt.Report.ReportFormatter.Bytes(entry.Start - at), all);
                }

                Assert.Contains(TdxDpamt.Report.ReportFormatter.Bytes(entry.Size), all);
                at = entry.End;
            }

            // The address axis: ticks, its first address and the end of the map.
            Assert.True(document.Descendants().Count(e => e.Name.LocalName == "line") > map.Entries.Count);
            Assert.Contains("0x0", texts);
            Assert.Contains($"end 0x{map.Entries[^1].End:x}", texts);

            // The refcount strip to scale: the populated width over the strip's is the populated share of the pages.
            using var json = System.Text.Json.JsonDocument.Parse(stdout);
            double sparse = json.RootElement.GetProperty("sparsePages").GetDouble(), dense = json.RootElement.GetProperty("densePages").GetDouble();
            var populated = document.Descendants().Where(e => e.Name.LocalName == "rect" && (string?)e.Attribute("fill") == TdxDpamt.Report.SvgRenderer.PopulatedColor && e.Attribute("height") is not null && (string?)e.Attribute("width") != "14");
            double width = populated.Sum(e => double.Parse((string)e.Attribute("width")!, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(sparse / dense, width / 1200, 4);
            Assert.Contains(texts, t => t.Contains($"{sparse:N0} populated ({sparse / dense * 100:0.###}%)", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_malformed_map_exits_non_zero_naming_the_line_and_leaves_no_output_file()
    {
        string dir = Directory.CreateTempSubdirectory("pamtgen-cli").FullName;
        try
        {
            string map = Path.Combine(dir, "bad.e820");
            File.WriteAllText(map, "BIOS-e820: [mem 0x0000000000000000-0x000000000009ffff] usable\nBIOS-e820: [mem 0x0000000000100000-0x00000000zzzzzzzz] usable\n");
            string svg = Path.Combine(dir, "out.svg");
            var (code, stdout, stderr) = Run("report", "--memmap", map, "--svg", svg);
            Assert.NotEqual(0, code);
            Assert.Contains($"{map}:2:", stderr);
            Assert.Single(stderr.Trim().Split('\n'));
            Assert.Equal("", stdout);
            Assert.Equal(["bad.e820"], Directory.GetFiles(dir).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Proc_iomem_and_sysfs_memmap_give_the_same_report_as_the_boot_log()
    {
        // The QEMU guest's map in the other two formats (inclusive ends, /proc/iomem and sysfs type names).
        (ulong Start, ulong Last, string Type)[] entries =
        [
            (0x0, 0x9fbff, "System RAM"), (0x9fc00, 0x9ffff, "Reserved"), (0xf0000, 0xfffff, "Reserved"),
            (0x100000, 0xbffdefff, "System RAM"), (0xbffdf000, 0xbfffffff, "Reserved"), (0xfeffc000, 0xfeffffff, "Reserved"),
            (0xfffc0000, 0xffffffff, "Reserved"), (0x100000000, 0x43fffffff, "System RAM"),
        ];
        string dir = Directory.CreateTempSubdirectory("pamtgen-formats").FullName;
        try
        {
            string iomem = Path.Combine(dir, "iomem");
            File.WriteAllLines(iomem, entries.Select(e => $"{e.Start:x8}-{e.Last:x8} : {e.Type}").Append("  01000000-01e0367f : Kernel code"));
            string sysfs = Directory.CreateDirectory(Path.Combine(dir, "memmap")).FullName;
            for (int i = 0; i < entries.Length; i++)
            {
                string entry = Directory.CreateDirectory(Path.Combine(sysfs, i.ToString(System.Globalization.CultureInfo.InvariantCulture))).FullName;
                File.WriteAllText(Path.Combine(entry, "start"), $"0x{entries[i].Start:x}\n");
                File.WriteAllText(Path.Combine(entry, "end"), $"0x{entries[i].Last:x}\n");
                File.WriteAllText(Path.Combine(entry, "type"), entries[i].Type + "\n");
            }

            string expected = Run("report", "--memmap", ReportFigureTests.MapPath("08-vm-qemu-i440fx-16g.e820"), "--format", "json").Stdout;
            Assert.Equal(expected, Run("report", "--memmap", iomem, "--format", "json").Stdout);
            Assert.Equal(expected, Run("report", "--memmap", sysfs, "--format", "json").Stdout);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Simulate_reports_a_clean_model_and_survives_an_injected_failure()
    {
        string map = ReportFigureTests.MapPath("08-vm-qemu-i440fx-16g.e820");
        var (code, stdout, stderr) = Run("simulate", "--memmap", map, "--ops", "20000", "--threads", "4");
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("no data page left", stdout);
        (code, stdout, _) = Run("simulate", "--memmap", map, "--fail-nth", "2");
        Assert.Equal(0, code);
        Assert.Contains("failed with -12", stdout);
    }

    [Fact]
    public void Mutated_maps_through_the_cli_exit_zero_with_output_or_non_zero_with_one_line_and_no_file()
    {
        string dir = Directory.CreateTempSubdirectory("pamtgen-cli-fuzz").FullName;
        try
        {
            var random = new Random(5);
            string original = File.ReadAllText(ReportFigureTests.MapPath("01-laptop-lenovo-t14g3.e820"));
            // Each case starts a process: 25 in CI, 1 000 in the long run (the parser alone takes FuzzSize.Cases in process).
            for (int i = 0; i < (FuzzSize.LongRun ? 1_000 : 25); i++)
            {
                string map = Path.Combine(dir, $"map{i}.e820"), svg = Path.Combine(dir, $"out{i}.svg");
                File.WriteAllText(map, MemoryMapFuzzTests.Mutate(original, random));
                var (code, stdout, stderr) = Run("report", "--memmap", map, "--svg", svg, "--format", "json");
                if (code == 0)
                {
                    System.Text.Json.JsonDocument.Parse(stdout).Dispose();
                    System.Xml.Linq.XDocument.Load(svg);
                }
                else
                {
                    Assert.Equal(2, code);
                    Assert.Single(stderr.Trim().Split('\n'));
                    Assert.Contains($"{map}", stderr);
                    Assert.False(File.Exists(svg), $"case {i}: a failed run left {svg}");
                }
            }

            // A directory where a file is expected, and a file where a sysfs directory is: clear errors.
            var (dirCode, _, dirError) = Run("report", "--memmap", dir);
            Assert.Equal(2, dirCode);
            Assert.Contains(dir, dirError);
            Assert.Empty(Directory.GetFiles(dir, ".*.tmp"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Bad_arguments_are_one_line_and_non_zero()
    {
        var (code, _, stderr) = Run("report", "--synthetic", "nodes=2,ram=1G,colour=blue");
        Assert.Equal(2, code);
        Assert.Contains("colour=blue", stderr);
        (code, _, stderr) = Run("report", "--memmap", "/no/such/map.e820");
        Assert.Equal(2, code);
        Assert.Contains("/no/such/map.e820", stderr);
    }

    /// <summary>Runs the CLI as a user would, in a dotnet home of the test's own.</summary>
    private static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        using var home = new IsolatedDotnet("pamtgen-cli-run");
        return home.Run(AppContext.BaseDirectory, TimeSpan.FromMinutes(2), ["exec", Path.Combine(AppContext.BaseDirectory, "TdxDpamt.dll"), .. args]);
    }
}
