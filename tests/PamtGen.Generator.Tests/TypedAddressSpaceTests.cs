using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using PamtGen.Generator.Probe;

namespace PamtGen.Generator.Tests;

/// <summary>
/// One declaration, one type: the attribute is the only description of a geometry, its generated class gives the
/// runtime geometry and the address space typed by it, and a walker takes only its own geometry's address space.
/// Geometries are distinct by identity: x86-64 4-level and arm64 4K have the same numbers and do not mix.
/// </summary>
public class TypedAddressSpaceTests
{
    private const string Consumer = """
        using PamtGen;
        using static PamtGen.Pgtable;

        [PageTableGeometry(PageShift = 12, Levels = 4, VirtualAddressBits = 48)]
        public static partial class X86_64;

        [PageTableGeometry(PageShift = 12, Levels = 4, VirtualAddressBits = 48)]
        public static partial class Arm64Granule4K;

        [PageTableGeometry(PageShift = 16, Levels = 3, VirtualAddressBits = 48)]
        public static partial class Stage2;

        public static partial class Callbacks
        {
            [PteCallback]
            public static int Count(PtePointer pte, ulong addr, int[] calls)
            {
                calls[0]++;
                return 0;
            }
        }

        public static class Use
        {
            public static int Walk()
            {
                var calls = new int[1];
                var fn = new Callbacks.CountFn(calls);
                var x86 = new X86_64.AddressSpace(PageAllocator.Synthetic(64));
                var arm = new Arm64Granule4K.AddressSpace(PageAllocator.Synthetic(64));
                var stage2 = new Stage2.AddressSpace(PageAllocator.Synthetic(64, pageShift: 16));
                return X86_64.ApplyToPageRange(/*x86*/x86, 0, 4096, ref fn)
                    + Arm64Granule4K.ApplyToPageRange(/*arm*/arm, 0, 4096, ref fn)
                    + Stage2.ApplyToPageRange(/*stage2*/stage2, 0, 65536, ref fn);
            }
        }
        """;

    [Fact]
    public void A_consumer_declares_a_geometry_once_and_walks_it()
    {
        var errors = Errors(Consumer);
        Assert.Empty(errors);
    }

    [Theory]
    [InlineData("/*x86*/x86", "/*x86*/stage2", "Stage2.AddressSpace", "X86_64.AddressSpace")]
    [InlineData("/*stage2*/stage2", "/*stage2*/x86", "X86_64.AddressSpace", "Stage2.AddressSpace")]
    public void Another_geometrys_address_space_is_a_compile_error(string from, string to, string given, string wanted)
    {
        var error = Assert.Single(Errors(Consumer.Replace(from, to, StringComparison.Ordinal)));
        Assert.Equal("CS1503", error.Id);
        Assert.Contains($"'{given}'", error.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains($"'{wanted}'", error.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(to.Split("*/")[1], error.Location.SourceTree!.GetText().ToString(error.Location.SourceSpan));
    }

    [Fact]
    public void X86_64_four_level_and_arm64_4K_have_the_same_numbers_and_do_not_mix()
    {
        // At compile time: the numbers are equal, the types are not.
        var error = Assert.Single(Errors(Consumer.Replace("/*arm*/arm", "/*arm*/x86", StringComparison.Ordinal)));
        Assert.Equal("CS1503", error.Id);

        // At run time: each generated class has its own geometry, equal in numbers, distinct in identity, and its
        // address space carries it; the runtime's presets are distinct the same way.
        var x86 = X86_64FourLevel.Geometry;
        var arm = Arm64Granule4K.Geometry;
        Assert.Equal((x86.PageShift, x86.PtrsPerTable, x86.Levels, x86.VirtualAddressBits), (arm.PageShift, arm.PtrsPerTable, arm.Levels, arm.VirtualAddressBits));
        Assert.NotEqual(x86, arm);
        Assert.NotEqual(Geometry.X86_64FourLevel, Geometry.Arm64Granule4K);
        Assert.Same(x86, new X86_64FourLevel.AddressSpace(PageAllocator.Synthetic(8)).Geometry);
        Assert.Same(arm, new Arm64Granule4K.AddressSpace(PageAllocator.Synthetic(8)).Geometry);
        Assert.Equal("X86_64FourLevel", x86.Name);
    }

    [Fact]
    public void PmdShift_and_PtrsPerPte_are_optional_and_derive_the_same_code()
    {
        const string Derived = "[PamtGen.PageTableGeometry(PageShift = 16, Levels = 3, VirtualAddressBits = 52)]\npublic static partial class Geo;";
        const string Given = "[PamtGen.PageTableGeometry(PageShift = 16, PmdShift = 29, PtrsPerPte = 8192, Levels = 3, VirtualAddressBits = 52)]\npublic static partial class Geo;";
        var derived = GeneratorHarness.Run(Derived);
        var given = GeneratorHarness.Run(Given);
        Assert.Empty(derived.Diagnostics);
        Assert.Empty(given.Diagnostics);
        Assert.Equal(given.GeneratedTrees.Single().ToString(), derived.GeneratedTrees.Single().ToString());
        Assert.Contains("public const int PmdShift = 29;", derived.GeneratedTrees.Single().ToString(), StringComparison.Ordinal);
        Assert.Contains("public const int PtrsPerPte = 8192;", derived.GeneratedTrees.Single().ToString(), StringComparison.Ordinal);
    }

    /// <summary>The consumer through the generator, then the compiler: the errors of the whole compilation.</summary>
    private static List<Diagnostic> Errors(string source)
    {
        var compilation = GeneratorHarness.Compile(source);
        CSharpGeneratorDriver.Create(new PamtGenerator()).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        Assert.Empty(generatorDiagnostics);
        return output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
    }
}
