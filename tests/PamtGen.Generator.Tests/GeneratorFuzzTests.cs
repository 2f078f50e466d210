using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit.Abstractions;
using PamtGen.Testing;

namespace PamtGen.Generator.Tests;

/// <summary>
/// Random geometry declarations (arguments negative, zero, huge, inconsistent, missing, non-constant, duplicated;
/// classes, structs, nested, generic; global, block and file-scoped namespaces) and random [PteCallback] shapes:
/// the generator never throws; a declaration is reported with a PG diagnostic exactly when an independent oracle
/// finds it invalid; a valid one compiles without a warning; two runs generate the same bytes.
/// 2 000 cases in CI, PAMTGEN_FUZZ_CASES=100000 for the long run.
/// </summary>
[Trait(Category.Name, Category.Slow)]
public class GeneratorFuzzTests(ITestOutputHelper output)
{

    [Fact]
    public void Random_declarations_never_crash_the_generator_and_are_diagnosed_exactly_when_invalid()
    {
        var random = new Random(31337);
        int valid = 0, invalid = 0;
        for (int batch = 0; batch < FuzzSize.Cases / 20; batch++)
        {
            var cases = Enumerable.Range(0, 20).Select(i => Declaration(random, $"G{batch}_{i}")).ToList();
            var trees = cases.Select((c, i) => CSharpSyntaxTree.ParseText(c.Source, new CSharpParseOptions(LanguageVersion.Latest), path: $"Case{i}.cs")).ToList();
            var compilation = GeneratorHarness.Compile().AddSyntaxTrees(trees);
            var first = CSharpGeneratorDriver.Create(new PamtGenerator()).RunGeneratorsAndUpdateCompilation(compilation, out var generated, out var diagnostics);
            var second = CSharpGeneratorDriver.Create(new PamtGenerator()).RunGenerators(compilation).GetRunResult();
            var result = first.GetRunResult();
            Assert.Null(result.Results.Single().Exception);
            Assert.DoesNotContain(diagnostics, d => d.Id == "CS8785");
            Assert.Equal(result.GeneratedTrees.Select(t => t.ToString()), second.GeneratedTrees.Select(t => t.ToString())); // deterministic

            var afterGeneration = generated.GetDiagnostics();
            for (int i = 0; i < cases.Count; i++)
            {
                var own = diagnostics.Where(d => d.Location.GetLineSpan().Path == trees[i].FilePath && d.Id.StartsWith("PG", StringComparison.Ordinal)).ToList();
                Assert.True(own.Count > 0 == !cases[i].Valid, $"{(cases[i].Valid ? "valid" : "invalid")} declaration got [{string.Join(", ", own.Select(d => d.Id))}]:\n{cases[i].Source}");
                if (cases[i].Valid)
                {
                    valid++;
                    string hint = cases[i].Name;
                    var warnings = afterGeneration.Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Location.SourceTree?.FilePath.Contains(hint, StringComparison.Ordinal) == true).ToList();
                    Assert.True(warnings.Count == 0, $"generated code for {hint} has {string.Join("; ", warnings)}");
                }
                else
                {
                    invalid++;
                }
            }
        }

        output.WriteLine($"{valid + invalid} declarations: {valid} valid (generated, compiled clean), {invalid} invalid (each with a PG diagnostic); generator exceptions: 0; runs identical");
        Assert.True(valid > FuzzSize.Cases / 10 && invalid > FuzzSize.Cases / 10);
    }

    private sealed record Case(string Name, string Source, bool Valid);

    private static Case Declaration(Random random, string name)
    {
        int pageShift = random.Next(10) == 0 ? Pick(random, [9, 21, 0, -4, int.MaxValue]) : Pick(random, [10, 12, 12, 14, 16, 20]);
        int entrySize = random.Next(12) == 0 ? Pick(random, [6, 0, -8]) : Pick(random, [8, 8, 4]);
        bool shapeOk = pageShift is >= 10 and <= 20 && entrySize is 4 or 8;
        int bits = shapeOk ? pageShift - (entrySize == 8 ? 3 : 2) : 9;
        int ptrs = random.Next(12) == 0 ? Pick(random, [512, 1024, 0, -1, 1 << 30]) : (shapeOk ? 1 << bits : 512);
        int pmdShift = random.Next(12) == 0 ? Pick(random, [21, 22, 0, 99]) : (shapeOk ? pageShift + bits : 21);
        int levels = random.Next(12) == 0 ? Pick(random, [1, 6, 0]) : Pick(random, [2, 3, 4, 5]);
        int topShift = shapeOk ? pageShift + ((Math.Clamp(levels, 2, 5) - 1) * bits) : 39;
        int vaBits = random.Next(12) == 0 ? Pick(random, [0, 64, 65, 32, 48, -1]) : Math.Min(64, topShift + 1 + random.Next(Math.Max(1, bits)));
        int? element = random.Next(3) == 0 ? (random.Next(6) == 0 ? Pick(random, [3, 0, 1 << 21]) : Pick(random, [4, 8, 1, 1024])) : null;
        bool missing = random.Next(25) == 0, nonConstant = random.Next(25) == 0, writeEntrySize = entrySize != 8 || random.Next(2) == 0;
        string container = random.Next(12) == 0 ? "plain" : Pick(random, ["none", "none", "partial", "generic"]);
        string kind = random.Next(10) == 0 ? Pick(random, ["partial class", "static class", "partial struct"]) : "static partial class";
        string ns = Pick(random, ["global", "block", "file"]);
        bool callback = random.Next(4) == 0;
        string format = random.Next(4) == 0 ? "[PamtGen.Formats.X86_64EntryFormat]\n" : "";
        string callbackShape = random.Next(3) != 0 ? "static int F(PtePointer pte, ulong addr, object data) => 0;" : Pick(random, ["static int F(PtePointer pte, ulong addr, object data) => 0;", "int F(PtePointer pte, ulong addr, object data) => 0;", "static void F(PtePointer pte, ulong addr, object data) { }", "static int F(Pte pte, ulong addr, object data) => 0;", "static int F(ref Pte pte, ulong addr, object data) => 0;", "static int F<T>(PtePointer pte, ulong addr, T data) => 0;"]);

        // The oracle, written apart from the generator.
        bool argumentsValid = pageShift is >= 10 and <= 20 && entrySize is 4 or 8 && !missing && !nonConstant
            && ptrs == (1 << pageShift) / entrySize && pmdShift == pageShift + bits && levels is >= 2 and <= 5
            && vaBits <= 64 && vaBits > pageShift + ((levels - 1) * bits) && vaBits <= pageShift + (levels * bits)
            && (element is null || (element > 0 && (element & (element - 1)) == 0 && element <= 1 << pageShift));
        bool shapeValid = kind == "static partial class" && container != "plain";

        // The entry format: x86's by default, which needs pages of at least 4 KiB (its address fields start at bit 12);
        // x86-64's declared explicitly also needs 8-byte entries, a pud level of its own (its 1 GiB leaves) and leaves
        // below its 52 physical-address bits.
        bool formatValid = pageShift >= 12
            && (format.Length == 0 || (entrySize == 8 && levels >= 3 && pageShift + (2 * bits) < 52));
        bool callbackValid = !callback || (callbackShape.StartsWith("static int F(PtePointer", StringComparison.Ordinal) && container != "plain");

        var arguments = new List<string>
        {
            Arg("PageShift", nonConstant ? "Config.Shift" : Text(pageShift)),
            Arg("PmdShift", Text(pmdShift)),
            Arg("PtrsPerPte", Text(ptrs)),
            Arg("Levels", Text(levels)),
        };
        if (!missing)
        {
            arguments.Add(Arg("VirtualAddressBits", Text(vaBits)));
        }

        if (writeEntrySize)
        {
            arguments.Add(Arg("EntrySize", Text(entrySize)));
        }

        string attributes = format + $"[PageTableGeometry({string.Join(", ", arguments)})]" + (element is { } e ? $"\n[RefcountTable(ElementSize = {Text(e)})]" : "");
        string body = $"{attributes}\npublic {kind} {name} {{ {(callback ? "[PteCallback] " + callbackShape : "")} }}";
        body = container switch
        {
            "partial" => $"public static partial class Outer{name} {{ {body} }}",
            "plain" => $"public static class Outer{name} {{ {body} }}",
            "generic" => $"public partial class Outer{name}<T> {{ {body} }}",
            _ => body,
        };
        body = ns switch
        {
            "block" => $"namespace N{name} {{ {body} }}",
            "file" => $"namespace N{name};\n{body}",
            _ => body,
        };
        string source = $"using PamtGen;\nusing static PamtGen.Pgtable;\n{body}\ninternal static class Config{name} {{ }}\n";
        source = source.Replace("Config.Shift", $"Config{name}.Shift", StringComparison.Ordinal).Replace($"internal static class Config{name} {{ }}", $"internal static class Config{name} {{ public static int Shift = 12; }}", StringComparison.Ordinal);
        return new Case(name, source, argumentsValid && shapeValid && callbackValid && formatValid);

        static string Arg(string key, string value) => $"{key} = {value}";
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static T Pick<T>(Random random, T[] values) => values[random.Next(values.Length)];
}
