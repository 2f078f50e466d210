using PamtGen.Generator.Probe;

namespace PamtGen.Generator.Tests;

/// <summary>The generated geometries of the probe project that carry a shipped entry format, by name: one place for the tests that run over all of them.</summary>
internal static class ProbeGeometries
{
    /// <summary>Every shipped format: x86-64 (4- and 5-level), 32-bit x86, arm64 stage 1 (4K, 16K, 64K) and stage 2 (4K, 2 concatenated root tables), RISC-V Sv39, Sv48, Sv57 and the G-stage Sv39x4 (4 concatenated root tables), AMD nested page tables and Intel EPT (4 levels).</summary>
    public static readonly string[] Names = ["X86_64FourLevel", "X86_64FiveLevel", "X86NonPae", "Arm64Granule4K", "Arm64Granule16K", "Arm64Granule64K", "Arm64Stage2Ipa40", "RiscVSv39", "RiscVSv48", "RiscVSv57", "RiscVSv39x4", "AmdNpt", "IntelEpt"];

    public static Geometry GeometryOf(string name) => name switch
    {
        "X86_64FourLevel" => X86_64FourLevel.Geometry,
        "X86_64FiveLevel" => X86_64FiveLevel.Geometry,
        "X86NonPae" => X86NonPae.Geometry,
        "Arm64Granule4K" => Arm64Granule4K.Geometry,
        "Arm64Granule16K" => Arm64Granule16K.Geometry,
        "Arm64Granule64K" => Arm64Granule64K.Geometry,
        "Arm64Stage2Ipa40" => Arm64Stage2Ipa40.Geometry,
        "RiscVSv39" => RiscVSv39.Geometry,
        "RiscVSv48" => RiscVSv48.Geometry,
        "RiscVSv57" => RiscVSv57.Geometry,
        "RiscVSv39x4" => RiscVSv39x4.Geometry,
        "AmdNpt" => AmdNpt.Geometry,
        "IntelEpt" => IntelEpt.Geometry,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a probe geometry"),
    };

    /// <summary>The generated geometry's own address space: the reference walkers take it as the Mm it is.</summary>
    public static Mm AddressSpaceOf(string name, PageAllocator allocator) => name switch
    {
        "X86_64FourLevel" => new X86_64FourLevel.AddressSpace(allocator),
        "X86_64FiveLevel" => new X86_64FiveLevel.AddressSpace(allocator),
        "X86NonPae" => new X86NonPae.AddressSpace(allocator),
        "Arm64Granule4K" => new Arm64Granule4K.AddressSpace(allocator),
        "Arm64Granule16K" => new Arm64Granule16K.AddressSpace(allocator),
        "Arm64Granule64K" => new Arm64Granule64K.AddressSpace(allocator),
        "Arm64Stage2Ipa40" => new Arm64Stage2Ipa40.AddressSpace(allocator),
        "RiscVSv39" => new RiscVSv39.AddressSpace(allocator),
        "RiscVSv48" => new RiscVSv48.AddressSpace(allocator),
        "RiscVSv57" => new RiscVSv57.AddressSpace(allocator),
        "RiscVSv39x4" => new RiscVSv39x4.AddressSpace(allocator),
        "AmdNpt" => new AmdNpt.AddressSpace(allocator),
        "IntelEpt" => new IntelEpt.AddressSpace(allocator),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a probe geometry"),
    };

    /// <summary>
    /// The fewest field bits that make a leaf in <paramref name="g"/>'s format: none, but R in RISC-V's, whose leaves are
    /// told by R, W or X (without them an entry is a pointer, and MapRange refuses it), and R in EPT's, whose entries are
    /// present only with R, W or X.
    /// </summary>
    public static ulong LeafFields(Geometry g) =>
        g.Format.Name.StartsWith("RISC-V", StringComparison.Ordinal) ? 0x2UL : g.Format.Name == "Intel EPT" ? 0x1UL : 0;

    public static TheoryData<string> Theory()
    {
        var data = new TheoryData<string>();
        foreach (string name in Names)
        {
            data.Add(name);
        }

        return data;
    }
}
