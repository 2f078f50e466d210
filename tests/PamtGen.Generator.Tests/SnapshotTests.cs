using System.Reflection;
using System.Text;
using Microsoft.CodeAnalysis.Text;
using PamtGen.Testing;

namespace PamtGen.Generator.Tests;

/// <summary>
/// The generated source of every geometry of docs/KERNEL.md section 4, compared exactly with
/// the snapshot checked in under Snapshots/. See README.md beside this file for how to update them.
/// </summary>
public class SnapshotTests
{
    public static TheoryData<string, string, string> Geometries => new()
    {
        { "X86_64FourLevel", "PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48", "[PamtGen.Formats.X86_64EntryFormat]" },
        { "X86_64FiveLevel", "PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 5, VirtualAddressBits = 57", "[PamtGen.Formats.X86_64EntryFormat]" },
        { "Arm64Granule4K", "PageShift = 12, PmdShift = 21, PtrsPerPte = 512, Levels = 4, VirtualAddressBits = 48", "[PamtGen.Formats.Arm64Stage1Granule4KEntryFormat]" },
        { "Arm64Granule16K", "PageShift = 14, PmdShift = 25, PtrsPerPte = 2048, Levels = 4, VirtualAddressBits = 48", "[PamtGen.Formats.Arm64Stage1Granule16KEntryFormat]" },
        { "Arm64Granule64K", "PageShift = 16, PmdShift = 29, PtrsPerPte = 8192, Levels = 3, VirtualAddressBits = 48", "[PamtGen.Formats.Arm64Stage1Granule64KEntryFormat]" },
        { "Arm64Granule64K52Bit", "PageShift = 16, PmdShift = 29, PtrsPerPte = 8192, Levels = 3, VirtualAddressBits = 52", "" },
        { "Arm64Stage2Ipa40", "PageShift = 12, Levels = 3, VirtualAddressBits = 40, RootTables = 2", "[PamtGen.Formats.Arm64Stage2Granule4KEntryFormat]" },
        { "X86NonPae", "PageShift = 12, PmdShift = 22, PtrsPerPte = 1024, Levels = 2, VirtualAddressBits = 32, EntrySize = 4", "[PamtGen.Formats.X86NonPaeEntryFormat]" },
        { "RiscVSv39", "PageShift = 12, Levels = 3, VirtualAddressBits = 39", "[PamtGen.Formats.RiscVSv39EntryFormat]" },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public async Task Generated_source_matches_the_snapshot(string name, string arguments, string format)
    {
        string source = $$"""
            using PamtGen;

            namespace Snapshots;

            [PageTableGeometry({{arguments}})]
            {{format}}
            [RefcountTable(ElementSize = 4)]
            public static partial class {{name}};
            """;
        string hintName = $"Snapshots.{name}.PamtGen.g.cs";
        string snapshot = Path.Combine(AppContext.BaseDirectory, "Snapshots", name + ".g.cs");
        if (Environment.GetEnvironmentVariable("PAMTGEN_UPDATE_SNAPSHOTS") == "1")
        {
            var generated = GeneratorHarness.Run(source).GeneratedTrees.Single(t => t.FilePath.EndsWith(hintName, StringComparison.Ordinal));
            Directory.CreateDirectory(Path.GetDirectoryName(snapshot)!);
            string text = generated.GetText().ToString();
            await File.WriteAllTextAsync(Path.Combine(SourceDirectory(), name + ".g.cs"), text);
            await File.WriteAllTextAsync(snapshot, text);
        }

        Assert.True(File.Exists(snapshot), $"no snapshot at {snapshot}; run with PAMTGEN_UPDATE_SNAPSHOTS=1 to write it");
        var test = GeneratorHarness.NewTest(source);
        test.TestState.GeneratedSources.Add((typeof(PamtGenerator), hintName, SourceText.From(await File.ReadAllTextAsync(snapshot), Encoding.UTF8)));
        await test.RunAsync();
    }

    /// <summary>The generated code names the package's version, the one set in Directory.Build.props, not a placeholder.</summary>
    [Fact]
    public void The_generated_code_names_the_package_version()
    {
        string props = File.ReadAllText(Path.Combine(TestRepository.Root, "Directory.Build.props"));
        string version = System.Xml.Linq.XDocument.Parse(props).Descendants("Version").Single().Value;
        Assert.Matches(@"^\d+\.\d+\.\d+", version);
        Assert.Equal(version, PamtGenerator.GeneratorVersion);
        foreach (string snapshot in Directory.EnumerateFiles(SourceDirectory(), "*.g.cs"))
        {
            Assert.Contains($"[global::System.CodeDom.Compiler.GeneratedCode(\"PamtGen.Generator\", \"{version}\")]", File.ReadAllText(snapshot), StringComparison.Ordinal);
        }
    }

    private static string SourceDirectory() =>
        typeof(SnapshotTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "SnapshotSourceDirectory").Value!;
}
