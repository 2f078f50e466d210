using Microsoft.CodeAnalysis;
using Xunit.Abstractions;
using PamtGen.Testing;

namespace PamtGen.Generator.Tests.Analyzers;

/// <summary>The TDX sample under every analyzer: the fixed design is clean; SeedV4 shows exactly its known defects, suppressed with reasons.</summary>
public class SampleDiagnosticsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_fixed_design_has_none_and_SeedV4_exactly_the_reviewed_defects()
    {
        string sample = Path.Combine(TestRepository.Root, "samples", "TdxDpamt");
        var files = new[] { "X86_64.cs", "Kernel/TdxKernel.cs", "Kernel/TdxModule.cs", "Dpamt/DpamtDesign.cs", "Dpamt/SeedV4.cs", "Dpamt/FixedDpamt.cs", "Report/DpamtReport.cs" };
        var trees = files.Select(f => RepositorySources.Parse(File.ReadAllText(Path.Combine(sample, f)), f)).ToList();
        trees.Add(RepositorySources.Parse(RepositorySources.ImplicitUsings, "GlobalUsings.g.cs")); // as the SDK's ImplicitUsings adds them
        var (diagnostics, exceptions, compilation) = await RepositorySources.Analyze(trees);
        Assert.Empty(exceptions);
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error)); // analyzed as it builds

        var found = diagnostics.Where(d => d.Id.StartsWith("PG", StringComparison.Ordinal))
            .Select(d => $"{d.Location.GetLineSpan().Path}:{d.Location.GetLineSpan().StartLinePosition.Line + 1} {d.Id} {(d.IsSuppressed ? "suppressed" : "REPORTED")} {Code(d)}")
            .Order(StringComparer.Ordinal)
            .ToList();
        found.ForEach(output.WriteLine);

        // v4: the allocation before the check (Nikolay Borisov), the lock in both callbacks (Rick Edgecombe,
        // Kiryl Shutsemau), the floor size in free_pamt_metadata() (the v3/v4 sizing thread). Nothing else.
        Assert.Equal(
            [
                "Dpamt/SeedV4.cs PG0003 suppressed data.Allocator.AllocPage(Gfp.Kernel | Gfp.Zero)",
                "Dpamt/SeedV4.cs PG0004 suppressed maxPfn / X86_64.PtrsPerPte * X86_64.RefcountSize",
                "Dpamt/SeedV4.cs PG0005 suppressed lock (data.InitMm.PageTableLock)",
                "Dpamt/SeedV4.cs PG0005 suppressed lock (data.InitMm.PageTableLock)",
            ],
            found.Select(f => System.Text.RegularExpressions.Regex.Replace(f, @":\d+ ", " ")).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// The arm64 samples (a stage-2 manager, nested paging with KVM's dirty logging) and the runtime itself (its block
    /// mapping, vmalloc and walkers), each compiled whole as it builds, under every analyzer: no finding at all, PG0006
    /// included. The runtime is compiled from its sources, so the analyzers see its callbacks as a consumer's.
    /// </summary>
    [Theory]
    [InlineData("samples/Arm64Stage2")]
    [InlineData("samples/NestedPaging")]
    [InlineData("runtime/PamtGen.Runtime")]
    public async Task The_arm64_samples_and_the_runtime_are_clean_under_every_rule(string folder)
    {
        // A sample's command line (Program.cs, on System.CommandLine) and the runtime's e820 readers (on the Regex
        // generator) write no page table; the rest is compiled as it builds.
        var trees = RepositorySources.Files(folder)
            .Where(f => Path.GetFileName(f) != "Program.cs" && !f.Contains($"{Path.DirectorySeparatorChar}MemoryMaps{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => RepositorySources.Parse(File.ReadAllText(f), Path.GetRelativePath(TestRepository.Root, f))).ToList();
        trees.Add(RepositorySources.Parse(RepositorySources.ImplicitUsings, "GlobalUsings.g.cs"));
        bool runtime = folder.StartsWith("runtime", StringComparison.Ordinal);
        var (diagnostics, exceptions, compilation) = await RepositorySources.Analyze(trees, withRuntime: !runtime);
        Assert.Empty(exceptions);
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).Take(5));
        Assert.True(trees.Count > (runtime ? 30 : 2), $"only {trees.Count} sources under {folder}");
        var found = diagnostics.Where(d => d.Id.StartsWith("PG", StringComparison.Ordinal)).Select(d => $"{d} {Code(d)}").ToList();
        found.ForEach(output.WriteLine);
        Assert.Empty(found);
    }

    private static string Code(Diagnostic d) => d.Location.SourceTree!.GetText().ToString(d.Location.SourceSpan);
}
