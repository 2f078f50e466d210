namespace PamtGen.MemoryMaps;

/// <summary>The e820 entry types (arch/x86/include/asm/e820/types.h).</summary>
public static class E820Type
{
    /// <summary>E820_TYPE_RAM, printed "usable"; the only type memblock gets.</summary>
    public const uint Ram = 1;

    /// <summary>E820_TYPE_RESERVED, printed "reserved".</summary>
    public const uint Reserved = 2;

    /// <summary>E820_TYPE_ACPI, printed "ACPI data"; counts towards max_pfn.</summary>
    public const uint Acpi = 3;

    /// <summary>E820_TYPE_NVS, printed "ACPI NVS".</summary>
    public const uint Nvs = 4;

    /// <summary>E820_TYPE_UNUSABLE, printed "unusable".</summary>
    public const uint Unusable = 5;

    /// <summary>E820_TYPE_PMEM, printed "persistent (type 7)".</summary>
    public const uint Pmem = 7;

    /// <summary>E820_TYPE_PRAM, printed "persistent (type 12)".</summary>
    public const uint Pram = 12;

    /// <summary>E820_TYPE_SOFT_RESERVED, printed "soft reserved".</summary>
    public const uint SoftReserved = 0xefffffff;

    /// <summary>The name e820_print_type() prints for <paramref name="type"/>.</summary>
    public static string Name(uint type) => type switch
    {
        Ram => "usable",
        Reserved => "reserved",
        Acpi => "ACPI data",
        Nvs => "ACPI NVS",
        Unusable => "unusable",
        Pmem or Pram => $"persistent (type {type})",
        SoftReserved => "soft reserved",
        _ => $"type {type}",
    };
}

/// <summary>One e820 entry, <c>[Start, End)</c> in bytes (the dmesg and iomem formats print inclusive ends; this is exclusive).</summary>
public readonly record struct E820Entry(ulong Start, ulong End, uint Type)
{
    /// <summary>The size in bytes.</summary>
    public ulong Size => End - Start;

    /// <inheritdoc/>
    public override string ToString() => $"[mem 0x{Start:x16}-0x{End - 1:x16}] {E820Type.Name(Type)}";
}

/// <summary>A range of physical addresses, <c>[Start, End)</c>.</summary>
public readonly record struct PhysRange(ulong Start, ulong End)
{
    /// <summary>The size in bytes.</summary>
    public ulong Size => End - Start;

    /// <inheritdoc/>
    public override string ToString() => $"[0x{Start:x}-0x{End:x})";
}

/// <summary>Where a memory map came from.</summary>
public enum MemoryMapFormat
{
    /// <summary>A dmesg boot log with "BIOS-e820:" lines (either format).</summary>
    Dmesg,

    /// <summary>A copy of /proc/iomem.</summary>
    ProcIomem,

    /// <summary>A /sys/firmware/memmap directory.</summary>
    SysfsMemmap,

    /// <summary>Entries given directly (a synthetic machine).</summary>
    Synthetic,
}

/// <summary>
/// A memory map that cannot be used: a malformed line (named by <see cref="LineNumber"/> and quoted),
/// an unreadable file, an empty map or one without RAM.
/// </summary>
/// <param name="source">The file, directory or name the map came from.</param>
/// <param name="reason">What is wrong, without the location.</param>
/// <param name="lineNumber">The 1-based line at fault, when one line is.</param>
/// <param name="line">The text of that line.</param>
/// <param name="inner">The error that caused this one, if any.</param>
public sealed class MemoryMapException(string source, string reason, int? lineNumber = null, string? line = null, Exception? inner = null)
    : Exception(Format(source, reason, lineNumber, line), inner)
{
    /// <summary>The file, directory or name the map came from.</summary>
    public string MapSource { get; } = source;

    /// <summary>What is wrong, without the location.</summary>
    public string Reason { get; } = reason;

    /// <summary>The 1-based line at fault, or null when the fault is not one line's.</summary>
    public int? LineNumber { get; } = lineNumber;

    /// <summary>The text of the line at fault, or null.</summary>
    public string? Line { get; } = line;

    private static string Format(string source, string reason, int? lineNumber, string? line)
    {
        if (lineNumber is null)
        {
            return $"{source}: {reason}";
        }

        string quoted = line is null ? "" : $": \"{Printable(line)}\"";
        return $"{source}:{lineNumber}: {reason}{quoted}";
    }

    /// <summary>The line as it can be quoted in one terminal line: control characters escaped, at most 160 characters.</summary>
    private static string Printable(string line)
    {
        var text = new System.Text.StringBuilder();
        foreach (char c in line)
        {
            if (text.Length >= 160)
            {
                text.Append("...");
                break;
            }

            text.Append(char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString());
        }

        return text.ToString();
    }
}
