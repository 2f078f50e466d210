using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit.Abstractions;
using PamtGen.Testing;

namespace PamtGen.Generator.Tests;

/// <summary>
/// Random entry-format declarations, hostile numbers included (negative, past the entry, shifts beyond 63, empty
/// masks, duplicated levels and names): the generator never throws, and every declaration either gets a PG diagnostic
/// or generates code that compiles without a warning. PAMTGEN_FUZZ_CASES sets the count (CI: 2 000).
/// </summary>
[Trait(Category.Name, Category.Slow)]
public class FormatFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void Random_formats_are_diagnosed_or_generate_clean_code()
    {
        var random = new Random(4242);
        int generatedClean = 0, diagnosed = 0, cleanWithPermissions = 0, permissionsDiagnosed = 0;
        for (int batch = 0; batch < FuzzSize.Cases / 20; batch++)
        {
            var sources = Enumerable.Range(0, 20).Select(i => Declaration(random, $"F{batch}_{i}")).ToList();
            var trees = sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, new CSharpParseOptions(LanguageVersion.Latest), path: $"Format{i}.cs")).ToList();
            var compilation = GeneratorHarness.Compile().AddSyntaxTrees(trees);
            var driver = CSharpGeneratorDriver.Create(new PamtGenerator()).RunGeneratorsAndUpdateCompilation(compilation, out var generated, out var diagnostics);
            Assert.Null(driver.GetRunResult().Results.Single().Exception);
            Assert.DoesNotContain(diagnostics, d => d.Id == "CS8785");
            var afterGeneration = generated.GetDiagnostics();
            for (int i = 0; i < sources.Count; i++)
            {
                bool reported = diagnostics.Any(d => d.Location.GetLineSpan().Path == trees[i].FilePath && d.Id.StartsWith("PG", StringComparison.Ordinal));
                string name = $"F{batch}_{i}";
                var problems = afterGeneration.Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Location.SourceTree?.FilePath.Contains($"{name}.PamtGen.g.cs", StringComparison.Ordinal) == true).ToList();
                Assert.True(problems.Count == 0, $"generated code of an accepted format does not compile: {string.Join("; ", problems.Take(3))}\n{sources[i]}");
                bool emitted = generated.SyntaxTrees.Any(t => t.FilePath.Contains($"{name}.PamtGen.g.cs", StringComparison.Ordinal));
                Assert.True(reported != emitted, $"{(reported ? "diagnosed and generated" : "neither diagnosed nor generated")}:\n{sources[i]}");
                if (reported)
                {
                    diagnosed++;
                    permissionsDiagnosed += diagnostics.Any(d => d.Location.GetLineSpan().Path == trees[i].FilePath && d.Id == "PG1024") ? 1 : 0;
                }
                else
                {
                    generatedClean++;
                    cleanWithPermissions += sources[i].Contains("Permissions = PermissionModel.", StringComparison.Ordinal) ? 1 : 0;
                }
            }
        }

        output.WriteLine($"{generatedClean + diagnosed} formats: {generatedClean} generated and compiled clean ({cleanWithPermissions} with a permission model), {diagnosed} diagnosed ({permissionsDiagnosed} PG1024); generator exceptions: 0");
        Assert.True(cleanWithPermissions > 0 && permissionsDiagnosed > 0, "the grammar must reach permission models met and unmet");
        Assert.True(generatedClean > FuzzSize.Cases / 20 && diagnosed > FuzzSize.Cases / 20, $"{generatedClean} clean, {diagnosed} diagnosed: the grammar must reach both");
    }

    /// <summary>
    /// An x86- or arm64-like format on a 4-level 4 KiB geometry: half of them as the architecture has it, with a random
    /// choice of leaf levels and fields; the other half with numbers, levels and names replaced by hostile ones.
    /// </summary>
    private static string Declaration(Random random, string name)
    {
        bool hostile = random.Next(2) == 0;
        int Bit(int sane) => !hostile || random.Next(4) != 0 ? sane : random.Next(4) switch { 0 => -1, 1 => 64, 2 => 99, _ => random.Next(64) };
        string Mask(string sane) => !hostile || random.Next(4) != 0 ? sane : random.Next(3) switch { 0 => "0x0", 1 => "0xffffffffffffffff", _ => $"0x{1UL << random.Next(64):x}" };
        bool arm = random.Next(2) == 0;

        // A permission model half of the time: met when the random choice of fields below has all it reads (PG1024 otherwise).
        string Permissions() => random.Next(2) == 0 ? "" : hostile && random.Next(4) == 0 ? ", Permissions = (PermissionModel)7" : arm ? ", Permissions = PermissionModel.Arm64Stage2" : ", Permissions = PermissionModel.X86";
        var lines = new List<string>
        {
            $"[EntryFormat(PhysicalAddressBits = {Bit(arm ? 48 : 52)}, ValidMask = {Mask(arm ? "0x3" : "0x1")}, ValidValue = {Mask(arm ? "0x3" : "0x1")}, TableAddressLow = {Bit(12)}, TableAddressHigh = {Bit(arm ? 47 : 51)}, TableAddressShift = {Bit(12)}, TableBits = {Mask(arm ? "0x3" : "0x63")}, PageBits = {Mask("0x0")}, BreakBeforeMake = {(arm ? "true" : "false")}{Permissions()})]",
        };
        if (!hostile || random.Next(6) != 0)
        {
            lines.Add($"[EntryLeaf(PageTableLevel.Pte, AddressLow = {Bit(12)}, AddressHigh = {Bit(arm ? 47 : 51)}, AddressShift = {Bit(12)})]");
        }

        string[] hostileLevels = ["P4d", "Pgd", "Pmd", "(PageTableLevel)9"];
        foreach (string sane in new[] { "Pud", "Pmd" }.Where(_ => random.Next(2) == 0))
        {
            string level = hostile && random.Next(4) == 0 ? hostileLevels[random.Next(hostileLevels.Length)] : sane;
            string rule = arm ? $"ValidMask = 0x1, ValidValue = 0x1, LeafMask = {Mask("0x3")}, LeafValue = {Mask("0x1")}" : $"LeafMask = {Mask("0x80")}";
            rule = hostile && random.Next(6) == 0 ? $"LeafIfAnySet = {Mask("0xe")}" : rule;
            lines.Add($"[EntryLeaf({(level.StartsWith('(') ? level : "PageTableLevel." + level)}, {rule}, AddressLow = {Bit(sane == "Pud" ? 30 : 21)}, AddressHigh = {Bit(arm ? 47 : 51)})]");
        }

        // Fields as the architecture has them, some of them; hostile ones may take any name and bits.
        var fields = arm
            ? new[] { ("MemAttr", 2, 5, ", Kinds = EntryKinds.Leaf"), ("S2AccessPermissions", 6, 7, ", Kinds = EntryKinds.Leaf"), ("AccessFlag", 10, 10, ", Kinds = EntryKinds.Leaf, HardwareUpdated = true"), ("DirtyBitModifier", 51, 51, ", Kinds = EntryKinds.Leaf"), ("ExecuteNever", 54, 54, ", Kinds = EntryKinds.Leaf"), ("PxnTable", 59, 59, ", Kinds = EntryKinds.Table") }
            : new[] { ("Writable", 1, 1, ""), ("User", 2, 2, ""), ("Accessed", 5, 5, ", HardwareUpdated = true"), ("Dirty", 6, 6, ", Kinds = EntryKinds.Leaf"), ("Pat", 7, 7, ", Levels = EntryLevels.Pte") };
        string[] hostileNames = ["Value", "9bad", "Writable", "Block"];
        foreach (var (field, low, high, scope) in fields.Where(_ => random.Next(4) != 0))
        {
            string fieldName = hostile && random.Next(5) == 0 ? hostileNames[random.Next(hostileNames.Length)] : field;
            lines.Add($"[EntryField(\"{fieldName}\", {Bit(low)}, {Bit(high)}{scope})]");
        }

        return "using PamtGen;\n" + string.Join("\n", lines) + $"\n[PageTableGeometry(PageShift = 12, Levels = 4, VirtualAddressBits = 48)]\npublic static partial class {name};\n";
    }
}
