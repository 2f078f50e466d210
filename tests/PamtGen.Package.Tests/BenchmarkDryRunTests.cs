using PamtGen.Testing;

namespace PamtGen.Package.Tests;

/// <summary>
/// The benchmarks cannot rot: every one runs once in BenchmarkDotNet's dry mode, in process (the full run is the
/// documented command in docs/PERFORMANCE.md, not part of CI).
/// </summary>
[Trait(Category.Name, Category.Slow)]
public class BenchmarkDryRunTests
{
    [Fact]
    public void Every_benchmark_runs_once_in_dry_mode()
    {
        string dll = Path.Combine(TestRepository.Root, "tests", "PamtGen.Benchmarks", "bin", Repository.Configuration, "net10.0", "PamtGen.Benchmarks.dll");
        using var home = new IsolatedDotnet("pamtgen-bdn");
        string artifacts = Path.Combine(home.Root, "artifacts");
        var (code, output) = home.Run(
            Path.GetDirectoryName(dll)!, "exec", dll, "--filter", "*", "--job", "Dry", "--inProcess", "--artifacts", artifacts);
        Assert.True(code == 0, output);
        foreach (string benchmark in new[]
        {
            "generic walker + delegate", "generated walker + struct", "flat loop over the PTE tables",
            "fixed, 1 TiB contiguous", "fixed, 16 x 64 GiB over 4 PiB", "SeedV4, 1 TiB contiguous",
            "dense (vmalloc of the whole array)", "sparse (the seed's area)", "two-level directory",
            "compile, neither (generated code given)", "compile with the generator, cold", "compile with an empty analyzer (driver cost)", "compile with all analyzers",
            "compile with generator and analyzers", "generator after an unrelated edit",
            "runtime loop over Geometry", "generated, RISC-V Sv48", "generated, two stages (4 over 4, 24 reads)",
        })
        {
            Assert.Contains(benchmark, output);
        }

        Assert.DoesNotContain("ERROR", output, StringComparison.Ordinal);
        Assert.Contains("Global total time", output);
    }
}
