namespace PamtGen.Generator.Tests;

/// <summary>How many cases a fuzz target runs: 2 000 in CI; PAMTGEN_FUZZ_CASES=100000 for the long run.</summary>
internal static class FuzzSize
{
    public static int Cases => int.TryParse(Environment.GetEnvironmentVariable("PAMTGEN_FUZZ_CASES"), out int n) && n > 0 ? n : 2_000;
}
