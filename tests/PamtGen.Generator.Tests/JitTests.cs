using PamtGen.Testing;
using System.Reflection;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace PamtGen.Generator.Tests;

/// <summary>
/// Branch-free, proven on the JIT's own output: PamtGen.Generator.Probe JIT-compiles every generated helper
/// (tiered compilation off, so fully optimized) under DOTNET_JitDisasm, and each listing is read for
/// conditional jumps (0 allowed) and instructions (reported).
/// </summary>
public partial class JitTests(ITestOutputHelper output)
{
    private static readonly Type[] GeometryTypes = typeof(PamtGen.Generator.Probe.X86_64FourLevel).Assembly.GetTypes()
        .Where(t => t.Namespace == "PamtGen.Generator.Probe" && t.IsAbstract && t.IsSealed)
        .OrderBy(t => t.Name)
        .ToArray();

    [Fact]
    public void Every_generated_helper_compiles_to_straight_line_code_without_a_conditional_jump()
    {
        var listings = Disassemble();
        var rows = new List<string>();
        foreach (var type in GeometryTypes)
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly).Where(IsHelper))
            {
                Check($"{type.Name}:{method.Name}", method.Name);
            }

            // The entry struct: everything but the object overrides (Equals(object) tests the type, ToString formats).
            var entry = type.GetNestedType("Entry")!;
            foreach (var method in entry.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
                .Where(m => m.Name != "ToString" && !(m.Name == "Equals" && m.GetParameters()[0].ParameterType == typeof(object))))
            {
                Check($"{type.Name}+Entry:{method.Name}", "Entry." + method.Name);
            }

            void Check(string key, string helper)
            {
                Assert.True(listings.TryGetValue(key, out var listing), $"no optimized listing for {key}");
                var instructions = listing.Where(line => Instruction().IsMatch(line)).ToList();
                var jumps = instructions.Where(line => ConditionalJump().IsMatch(line)).ToList();
                rows.Add($"| {type.Name} | {helper} | {jumps.Count} | {instructions.Count} |");
                Assert.True(jumps.Count == 0, $"{key} has conditional jumps:\n{string.Join('\n', jumps)}");
            }
        }

        Assert.Equal(14, GeometryTypes.Length);
        output.WriteLine("| geometry | helper | conditional jumps | instructions (incl. ret) |");
        output.WriteLine("|---|---|---|---|");
        rows.ForEach(output.WriteLine);
    }

    /// <summary>The index, rounding and layout helpers; the walkers (generic over their callbacks, or FreeEmptyTables) loop by nature.</summary>
    private static bool IsHelper(MethodInfo method) => !method.IsGenericMethodDefinition && method.Name is not ("FreeEmptyTables" or "Translate"); // a walk branches by nature

    /// <summary>Runs the probe under the JIT's disassembler and splits its listing per method ("Type:Method").</summary>
    private static Dictionary<string, List<string>> Disassemble()
    {
        string probe = Path.Combine(AppContext.BaseDirectory, "PamtGen.Generator.Probe.dll");
        using var home = new IsolatedDotnet("pamtgen-jit");
        string listingFile = Path.Combine(home.Root, "listing.txt");
        var start = home.StartInfo(AppContext.BaseDirectory, "exec", probe);
        start.Environment["DOTNET_TieredCompilation"] = "0";
        start.Environment["DOTNET_TieredPGO"] = "0";
        start.Environment["DOTNET_ReadyToRun"] = "1";
        start.Environment["DOTNET_JitDisasm"] = string.Join(' ', GeometryTypes.Select(t => $"*{t.Name}:*")) + " *Entry:*";
        start.Environment["DOTNET_JitStdOutFile"] = listingFile;
        var (code, _, stderr) = IsolatedDotnet.Run(start, TimeSpan.FromMinutes(1));
        Assert.True(code == 0, $"the probe failed ({code}): {stderr}");

        var listings = new Dictionary<string, List<string>>();
        List<string>? current = null;
        foreach (string line in File.ReadLines(listingFile))
        {
            var header = ListingHeader().Match(line);
            if (header.Success)
            {
                Assert.Equal("FullOpts", header.Groups["tier"].Value);
                // Overloads (the conversions) share a key: their listings are read as one.
                string key = $"{header.Groups["type"].Value}:{header.Groups["method"].Value}";
                if (header.Groups["method"].Value is "Equals" or "ToString" && header.Groups["params"].Value.Contains("Object", StringComparison.Ordinal))
                {
                    current = null; // Equals(object) tests the type: the object overrides are not helpers
                    continue;
                }

                current = listings.TryGetValue(key, out var existing) ? existing : listings[key] = [];
            }
            else
            {
                current?.Add(line);
            }
        }

        return listings;
    }

    [GeneratedRegex(@"^; Assembly listing for method [\w.]*\.(?<type>[\w+]+):(?<method>\w+)(?<params>\([^)]*\)).*\(\s*(?<tier>[^)]+)\)\s*$")]
    private static partial Regex ListingHeader();

    /// <summary>A line of an instruction: a mnemonic, with arm64's condition suffix (b.ne) where it has one.</summary>
    [GeneratedRegex(@"^\s+[a-z][a-z0-9]*(\.[a-z]+)?(\s|$)")]
    private static partial Regex Instruction();

    /// <summary>
    /// A conditional branch of either host: x86's jcc in all its spellings (ja, jae, jb, ..., jrcxz; jmp is
    /// unconditional), arm64's b.cond, cbz/cbnz and tbz/tbnz (b, bl, br and ret are unconditional), so the test counts
    /// on an arm64 host too rather than passing there for want of an x86 mnemonic.
    /// </summary>
    [GeneratedRegex(@"^\s+(j(?!mp\b)[a-z]+|b\.[a-z]+|cbn?z|tbn?z)\s")]
    private static partial Regex ConditionalJump();

    [Theory]
    [InlineData("       jne      SHORT G_M000_IG04", true)]
    [InlineData("       jrcxz    G_M000_IG05", true)]
    [InlineData("       jmp      G_M000_IG03", false)]
    [InlineData("       b.ne    G_M000_IG04", true)]
    [InlineData("       b.hs    G_M000_IG06", true)]
    [InlineData("       cbz     x0, G_M000_IG04", true)]
    [InlineData("       cbnz    w1, G_M000_IG04", true)]
    [InlineData("       tbz     w0, #3, G_M000_IG04", true)]
    [InlineData("       tbnz    x2, #63, G_M000_IG07", true)]
    [InlineData("       b       G_M000_IG03", false)]
    [InlineData("       bl      CORINFO_HELP_RNGCHKFAIL", false)]
    [InlineData("       csel    x0, x1, x2, eq", false)]
    [InlineData("       ret     lr", false)]
    public void Conditional_branches_are_recognised_on_x86_and_arm64(string line, bool conditional)
    {
        Assert.Matches(Instruction(), line);
        Assert.Equal(conditional, ConditionalJump().IsMatch(line));
    }
}
