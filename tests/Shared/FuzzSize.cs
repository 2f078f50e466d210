namespace PamtGen.Testing;

/// <summary>
/// How many cases the fuzz, differential and property targets run: each has its CI size, scaled by one setting,
/// PAMTGEN_FUZZ_CASES (2 000 is CI's scale; 100000 is the long run, 50 times more of everything).
/// </summary>
public static class FuzzSize
{
    /// <summary>The cases of a target whose CI size is the scale itself.</summary>
    public const int CiCases = 2_000;

    /// <summary>The scale: PAMTGEN_FUZZ_CASES when set to a positive number, else <see cref="CiCases"/>.</summary>
    public static int Cases { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("PAMTGEN_FUZZ_CASES"), out int n) && n > 0 ? n : CiCases;

    /// <summary>True for a run larger than CI's.</summary>
    public static bool LongRun => Cases > CiCases;

    /// <summary>The cases of a target that runs <paramref name="ciCases"/> in CI, scaled as <see cref="Cases"/> is (at least 1).</summary>
    public static int Scaled(int ciCases) => Math.Max(1, (int)Math.Min(int.MaxValue, (long)ciCases * Cases / CiCases));
}
