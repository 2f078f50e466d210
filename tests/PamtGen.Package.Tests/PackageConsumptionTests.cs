using System.IO.Compression;
using PamtGen.Testing;

namespace PamtGen.Package.Tests;

/// <summary>
/// What a user does: pack PamtGen into a local folder, then restore and build projects outside this repository
/// from that folder (a nuget.config adding it, the machine's sources kept), with no project reference here.
/// </summary>
[Trait(Category.Name, Category.Slow)]
[Collection(nameof(PackedFeed))]
public sealed class PackageConsumptionTests(PackedFeed packed)
{
    private readonly IsolatedDotnet _dotnet = packed.Dotnet;
    private readonly string _feed = packed.Feed;

    [Fact]
    public void The_package_holds_the_runtime_the_roslyn_components_the_readme_and_no_dependency()
    {
        string package = Directory.GetFiles(_feed, "PamtGen.*.nupkg").Single(p => !p.EndsWith(".snupkg", StringComparison.Ordinal));
        Assert.Single(Directory.GetFiles(_feed, "PamtGen.*.snupkg"));
        using var zip = ZipFile.OpenRead(package);
        var files = zip.Entries.Select(e => e.FullName).ToList();
        Assert.Contains("lib/net10.0/PamtGen.Runtime.dll", files);
        Assert.Contains("analyzers/dotnet/cs/PamtGen.Generator.dll", files);
        Assert.Contains("analyzers/dotnet/cs/PamtGen.CodeFixes.dll", files);
        Assert.Contains("README.md", files);
        // The diagnostics' pages, every one of the repository's, so a help link's page is there offline.
        Assert.Equal(
            Directory.GetFiles(Path.Combine(TestRepository.Root, "docs", "diagnostics"), "*.md").Select(f => "docs/diagnostics/" + Path.GetFileName(f)).Order(StringComparer.Ordinal),
            files.Where(f => f.StartsWith("docs/diagnostics/", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(files, f => f.StartsWith("lib/", StringComparison.Ordinal) && f.Contains("Generator", StringComparison.Ordinal));
        using var nuspec = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        string text = nuspec.ReadToEnd();
        Assert.Contains("<license type=\"expression\">MIT</license>", text);
        Assert.Contains("<repository type=\"git\"", text);
        Assert.DoesNotContain("<dependency ", text);
    }

    [Fact]
    public void A_consumer_declares_geometries_and_a_callback_builds_runs_and_gets_correct_values()
    {
        string dir = Consumer("Consumer", """
            using PamtGen;
            using static PamtGen.Pgtable;

            // arm64 64K granule, 48-bit VA: 3 levels, 64-entry top table (PtrsPerPte and PmdShift derived). x86-64 5-level (LA57).
            [PageTableGeometry(PageShift = 16, Levels = 3, VirtualAddressBits = 48)]
            public static partial class Arm64Granule64K;

            [PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 5, VirtualAddressBits = 57)]
            [RefcountTable(ElementSize = 4)]
            public static partial class X86_64FiveLevel;

            public sealed class State(Mm mm) { public Mm Mm { get; } = mm; public int Mapped; }

            public static partial class Callbacks
            {
                [PteCallback]
                public static int Map(PtePointer pte, ulong addr, State data)
                {
                    if (!PteNone(PtepGet(pte))) return 0;
                    var page = data.Mm.Allocator.AllocPage(Gfp.Zero);
                    if (page is null) return -Errno.ENOMEM;
                    SetPteAt(data.Mm, addr, pte, MkPte(page, PageKernel));
                    data.Mapped++;
                    return 0;
                }
            }

            public static class Program
            {
                public static int Main()
                {
                    var mm = new Arm64Granule64K.AddressSpace(PageAllocator.Synthetic(64, pageShift: 16));
                    var fn = new Callbacks.MapFn(new State(mm));
                    int err = Arm64Granule64K.ApplyToPageRange(mm, 0x40000000, 3 * Arm64Granule64K.PageSize, ref fn);
                    System.Console.WriteLine($"{Arm64Granule64K.PtrsPerPgd} {Arm64Granule64K.PmdShift} {Arm64Granule64K.PgdIndex(0xffff_0000_0000_0000)} {X86_64FiveLevel.PgdShift} {X86_64FiveLevel.P4dIndex(1UL << 39)} {X86_64FiveLevel.RefcountAreaSize((1UL << 28) + 1)} {err} {fn.Data.Mapped}");
                    return 0;
                }
            }
            """);
        var (code, output) = _dotnet.Run(dir, "run", "-c", "Release");
        Assert.True(code == 0, output);
        // 2^(48 - 42) = 64 top entries; PMD_SHIFT 29; 0xffff000000000000 >> 42 & 63 = 0; PGDIR_SHIFT 48;
        // (1 << 39) >> 39 & 511 = 1; 513 refcount pages for max_pfn = 2^28 + 1; 3 pages mapped.
        Assert.EndsWith("64 29 0 48 1 2101248 0 3", output.Trim().Split('\n').Last().Trim());
        Assert.Empty(Directory.GetFiles(Path.Combine(dir, "bin"), "PamtGen.Generator.dll", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(Path.Combine(dir, "bin"), "PamtGen.CodeFixes.dll", SearchOption.AllDirectories));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(dir, "bin"), "PamtGen.Runtime.dll", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_callback_missing_its_pte_none_check_shows_PG0001_from_the_package()
    {
        string dir = Consumer("Careless", """
            using PamtGen;
            using static PamtGen.Pgtable;

            public static partial class Callbacks
            {
                [PteCallback]
                public static int Map(PtePointer pte, ulong addr, Mm mm)
                {
                    var page = mm.Allocator.AllocPage(Gfp.Zero);
                    if (page is null) return -Errno.ENOMEM;
                    SetPteAt(mm, addr, pte, MkPte(page, PageKernel));
                    return 0;
                }

                public static void Main()
                {
                }
            }
            """);
        var (code, output) = _dotnet.Run(dir, "build", "-c", "Release");
        Assert.True(code == 0, output);
        Assert.Contains("warning PG0001", output);
        Assert.Contains("Program.cs(11,", output);
    }

    /// <summary>
    /// No PG1xxx error can be hidden: one consumer with a declaration for each of the fifteen, every id disabled by a
    /// #pragma and by an .editorconfig severity of none, still fails to build with every one of them.
    /// </summary>
    [Fact]
    public void Declaration_errors_stay_errors_whatever_tries_to_suppress_them()
    {
        var ids = Enumerable.Range(1, 15).Select(n => $"PG{1000 + n}").ToList();
        const string Valid = "PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48";
        string dir = Consumer("Suppressed", $$"""
            #pragma warning disable {{string.Join(", ", ids)}} // the attempt this test makes: declaration errors must survive it
            using PamtGen;

            [PageTableGeometry({{Valid}})] public partial class E1001;
            public class E1002 { [PageTableGeometry({{Valid}})] public static partial class Inner; }
            [PageTableGeometry(PageShift = 9, PmdShift = 21, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48)] public static partial class E1003;
            [PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 1024, Levels = 4, VirtualAddressBits = 48)] public static partial class E1004;
            [PageTableGeometry(PageShift = 12, PmdShift = 22, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48)] public static partial class E1005;
            [PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 6, VirtualAddressBits = 48)] public static partial class E1006;
            [PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 49)] public static partial class E1007;
            [PageTableGeometry({{Valid}}, EntrySize = 6)] public static partial class E1008;
            [PageTableGeometry({{Valid}})][RefcountTable(ElementSize = 3)] public static partial class E1009;
            [RefcountTable(ElementSize = 4)] public static partial class E1010;
            [PageTableGeometry(PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 4)] public static partial class E1011;

            public sealed partial class E1012 { [PteCallback] public int Fn(PtePointer pte, ulong addr, object data) => 0; }
            public static partial class E1013 { [PteCallback] public static void Fn(PtePointer pte, ulong addr, object data) { } }
            public static partial class E1014 { [PteCallback] public static int Fn(Pte pte, ulong addr, object data) => 0; }
            public static partial class E1015 { [PteCallback] public static int Fn<T>(PtePointer pte, ulong addr, T data) => 0; }

            public static class Program
            {
                public static void Main()
                {
                }
            }
            """);
        File.WriteAllText(Path.Combine(dir, ".editorconfig"), "root = true\n\n[*.cs]\n" + string.Concat(ids.Select(id => $"dotnet_diagnostic.{id}.severity = none\n")));
        var (code, output) = _dotnet.Run(dir, "build", "-c", "Release");
        Assert.True(code != 0, output);
        Assert.All(ids, id => Assert.True(output.Contains($"error {id}:", StringComparison.Ordinal), $"no error {id}:\n{output}"));
    }

    /// <summary>
    /// A global [SuppressMessage] is the one thing that takes a PG1xxx error out of the build output, and the build
    /// still fails: the compiler writes no assembly with an error in it, suppressed or not (what the pages say).
    /// </summary>
    [Fact]
    public void A_globally_suppressed_declaration_error_still_fails_the_build()
    {
        string dir = Consumer("GloballySuppressed", """
            using PamtGen;

            [assembly: System.Diagnostics.CodeAnalysis.SuppressMessage("PamtGen.Geometry", "PG1005")]

            [PageTableGeometry(PageShift = 12, PmdShift = 22, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48)]
            public static partial class Wrong;

            public static class Program
            {
                public static void Main()
                {
                }
            }
            """);
        var (code, output) = _dotnet.Run(dir, "build", "-c", "Release");
        Assert.True(code != 0, output);
        Assert.DoesNotContain("Build succeeded", output, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(dir, "GloballySuppressed.dll", SearchOption.AllDirectories));
    }

    /// <summary>
    /// The code fixes as a command-line user runs them: <c>dotnet format analyzers</c> once on a consumer with a finding of
    /// each fixable kernel rule (PG0003 and PG0005 raised to warnings, so the build shows them) leaves none of them and
    /// no new diagnostic, and the consumer still builds.
    /// </summary>
    [Fact]
    public void Dotnet_format_fixes_every_finding_of_the_fixable_rules_in_one_run()
    {
        string dir = Consumer("Formatted", """
            using PamtGen;
            using PamtGen.Formats;
            using static PamtGen.Pgtable;

            [PageTableGeometry(PageShift = 12, Levels = 4, VirtualAddressBits = 48)]
            [Arm64Stage2Granule4KEntryFormat]
            public static partial class Stage2;

            public static class Callbacks
            {
                // PG0001: written without the check, after an allocation.
                public static int Map(PtePointer pte, ulong addr, Mm mm)
                {
                    var page = mm.Allocator.AllocPage(Gfp.Zero);
                    if (page is null) return -Errno.ENOMEM;
                    SetPteAt(mm, addr, pte, MkPte(page, PageKernel));
                    return 0;
                }

                // PG0003: the seed's v4 populate, allocating before the check.
                public static int Populate(PtePointer pte, ulong addr, Mm mm)
                {
                    var page = mm.Allocator.AllocPage(Gfp.Zero);
                    if (page is null) return -Errno.ENOMEM;
                    if (PteNone(PtepGet(pte)))
                        SetPteAt(mm, addr, pte, MkPte(page, PageKernel));
                    else
                        mm.Allocator.FreePage(page);
                    return 0;
                }

                // PG0005: the page-table lock the walker already handles.
                public static int Clear(PtePointer pte, ulong addr, Mm mm)
                {
                    lock (mm.PageTableLock)
                    {
                        if (!PteNone(PtepGet(pte))) PteClear(mm, addr, pte);
                    }
                    return 0;
                }

                // PG0006: a stage-2 memory type changed in place.
                public static int Retype(PtePointer pte, ulong addr, Mm mm)
                {
                    Stage2.Entry entry = PtepGet(pte);
                    if (!entry.IsValid(PageTableLevel.Pte)) return 0;
                    SetPteAt(mm, addr, pte, entry.WithMemAttr(0b0101));
                    return 0;
                }
            }

            public static class Program
            {
                public static void Main()
                {
                }
            }
            """);
        File.WriteAllText(Path.Combine(dir, ".editorconfig"), "root = true\n\n[*.cs]\ndotnet_diagnostic.PG0003.severity = warning\ndotnet_diagnostic.PG0005.severity = warning\n");
        string[] rules = ["PG0001", "PG0003", "PG0005", "PG0006"];
        var (code, before) = _dotnet.Run(dir, "build", "-c", "Release");
        Assert.True(code == 0, before);
        Assert.All(rules, id => Assert.True(before.Contains($"warning {id}:", StringComparison.Ordinal), $"no {id} before the fix:\n{before}"));

        var (formatCode, formatOutput) = _dotnet.Run(dir, ["format", "analyzers", "--no-restore", "--diagnostics", .. rules, "--severity", "info", "--verbosity", "normal"]);
        Assert.True(formatCode == 0, formatOutput);
        Assert.DoesNotContain("didn't return a Fix All action", formatOutput, StringComparison.Ordinal);

        var (afterCode, after) = _dotnet.Run(dir, "build", "-c", "Release", "--no-incremental");
        Assert.True(afterCode == 0, after);
        Assert.False(System.Text.RegularExpressions.Regex.IsMatch(after, @"warning PG\d{4}:"), $"a PamtGen diagnostic after the fix:\n{after}\n{File.ReadAllText(Path.Combine(dir, "Program.cs"))}");
    }

    private string Consumer(string name, string program) => packed.Consumer(name, program);
}
