using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace PamtGen.MemoryMaps;

/// <summary>
/// Reads memory maps in one pass over the lines, whatever their size. A dmesg log is recognised by its
/// e820 lines (every other line of a pasted boot log is ignored); otherwise every non-blank line must be
/// a /proc/iomem entry. A line that is one of these but malformed is an error naming it.
/// </summary>
/// <remarks>
/// What the dmesg reader does with each kind of line:
/// <list type="bullet">
/// <item><c>BIOS-e820:</c>, <c>user:</c> and <c>modified:</c> lines are the tables the kernel printed; a
/// new table starts at a "... physical RAM map:" header or where the prefix changes. The last table
/// printed is the one the kernel went on with (<c>user:</c> after memmap=, <c>modified:</c> after
/// setup_data updates), so it replaces the earlier ones.</item>
/// <item><c>e820: update [mem ...] T1 ==&gt; T2</c> and <c>e820: remove [mem ...] [T]</c> (and the old
/// <c>e820 update range:</c> / <c>e820 remove range:</c> forms) are applied as e820__range_update() and
/// e820__range_remove() do, in order, when they follow the last table; one that precedes it is already
/// part of it and is ignored. Each is listed in <see cref="MemoryMap.Notes"/>.</item>
/// <item>Other <c>e820:</c> lines (the last_pfn line, "[mem ...] available for PCI devices", "reserve RAM
/// buffer") describe no change to the table and are ignored, as is everything else.</item>
/// </list>
/// </remarks>
internal static partial class MemoryMapReader
{
    public static MemoryMap Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
        {
            return SysfsMemmapReader.Read(path);
        }

        try
        {
            using var reader = new StreamReader(path, detectEncodingFromByteOrderMarks: true);
            return Read(reader, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MemoryMapException(path, $"cannot read the file: {e.Message}", inner: e);
        }
    }

    /// <summary>
    /// The lines as grep -n and less number them: ended by '\n' alone, a "\r\n" end taken whole. TextReader.ReadLine
    /// also ends a line at a lone '\r', so an error after one would name a line the user cannot find (found by the
    /// long fuzz run).
    /// </summary>
    private static IEnumerable<string> Lines(TextReader reader)
    {
        var line = new StringBuilder();
        var buffer = new char[64 * 1024];
        for (int read; (read = reader.Read(buffer, 0, buffer.Length)) > 0;)
        {
            int start = 0;
            for (int end = Array.IndexOf(buffer, '\n', 0, read); end >= 0; end = Array.IndexOf(buffer, '\n', start, read - start))
            {
                line.Append(buffer, start, end - start);
                yield return Ended(line);
                start = end + 1;
            }

            line.Append(buffer, start, read - start);
        }

        if (line.Length > 0)
        {
            yield return Ended(line);
        }

        static string Ended(StringBuilder line)
        {
            string text = line.ToString(0, line.Length > 0 && line[^1] == '\r' ? line.Length - 1 : line.Length);
            line.Clear();
            return text;
        }
    }

    public static MemoryMap Read(TextReader reader, string source)
    {
        var dmesg = new DmesgState(source);
        var iomem = new List<E820Entry>();
        (int Number, string Text)? firstForeign = null; // the first line that is neither e820 nor iomem
        bool anyText = false;
        int lineNumber = 0;
        foreach (string line in Lines(reader))
        {
            lineNumber++;
            if (line.Contains('\0'))
            {
                throw new MemoryMapException(source, "binary data (a NUL byte): a memory map is text", lineNumber, line);
            }

            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            anyText = true;
            if (dmesg.TryAccept(line, lineNumber))
            {
                continue;
            }

            var iomemLine = IomemLine().Match(line);
            if (!iomemLine.Success)
            {
                firstForeign ??= (lineNumber, line);
            }
            else if (firstForeign is null && ProcIomemEntry(iomemLine, lineNumber, line, source) is { } entry)
            {
                iomem.Add(entry);
            }
        }

        if (dmesg.HasTable)
        {
            return MemoryMap.Create(source, MemoryMapFormat.Dmesg, dmesg.Table(), dmesg.Notes, linesWereRead: true);
        }

        if (dmesg.FirstChange is { } change)
        {
            throw new MemoryMapException(source, "an e820 update or remove line, but no e820 table (\"BIOS-e820:\" lines) to apply it to", change.Number, change.Text);
        }

        if (!anyText)
        {
            throw new MemoryMapException(source, "the map is empty: it has no e820 lines and no /proc/iomem entries");
        }

        if (firstForeign is { } foreign)
        {
            throw new MemoryMapException(
                source,
                "neither a dmesg e820 line (\"BIOS-e820: [mem 0x...-0x...] usable\") nor a /proc/iomem entry (\"00100000-3fffffff : System RAM\"), and the input has no e820 line",
                foreign.Number,
                foreign.Text);
        }

        return MemoryMap.Create(source, MemoryMapFormat.ProcIomem, iomem, []);
    }

    /// <summary>The e820 type of a top-level /proc/iomem name (e820_type_to_string()); null for names that are not e820 memory.</summary>
    internal static uint? IomemType(string name) => name switch
    {
        "System RAM" => E820Type.Ram,
        "Reserved" or "reserved" => E820Type.Reserved,
        "ACPI Tables" => E820Type.Acpi,
        "ACPI Non-volatile Storage" => E820Type.Nvs,
        "Unusable memory" => E820Type.Unusable,
        "Persistent Memory" => E820Type.Pmem,
        "Persistent Memory (legacy)" => E820Type.Pram,
        "Soft Reserved" => E820Type.SoftReserved,
        _ => null,
    };

    /// <summary>
    /// One /proc/iomem line. Only top-level lines (no indentation) are e820 resources; nested lines are
    /// parts of their parent (kernel code, crash kernel, device BARs) and are skipped. Top-level names that
    /// are not e820 types (PCI buses, ROMs, APICs) are address space without memory and are skipped too.
    /// </summary>
    private static E820Entry? ProcIomemEntry(Match match, int lineNumber, string line, string source)
    {
        ulong start = ParseHex(match.Groups["start"].Value, lineNumber, line, source);
        ulong last = ParseHex(match.Groups["end"].Value, lineNumber, line, source);
        if (last < start)
        {
            throw new MemoryMapException(source, "the range ends before it starts", lineNumber, line);
        }

        if (match.Groups["indent"].Length > 0 || IomemType(match.Groups["name"].Value.Trim()) is not { } type)
        {
            return null;
        }

        if (start == 0 && last == 0)
        {
            throw new MemoryMapException(source, "the addresses are all zero: /proc/iomem shows them only to root; copy it with sudo", lineNumber, line);
        }

        return new E820Entry(start, ExclusiveEnd(last, lineNumber, line, source), type);
    }

    internal static ulong ParseHex(string digits, int lineNumber, string line, string source)
    {
        string hex = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? digits[2..] : digits;
        string significant = hex.TrimStart('0');
        if (hex.Length == 0 || significant.Length > 16
            || !ulong.TryParse(significant.Length == 0 ? "0" : significant, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong value))
        {
            throw new MemoryMapException(source, $"'{digits}' is not a 64-bit hexadecimal address", lineNumber, line);
        }

        return value;
    }

    /// <summary>An inclusive end made exclusive; the last byte of the 64-bit space cannot be, as in the kernel's table.</summary>
    internal static ulong ExclusiveEnd(ulong last, int lineNumber, string line, string source) =>
        last != ulong.MaxValue
            ? last + 1
            : throw new MemoryMapException(source, "the range reaches the last byte of the 64-bit address space, which an e820 entry (address + size) cannot describe", lineNumber, line);

    [GeneratedRegex(@"^(?<indent>\s*)(?<start>[0-9a-fA-F]+)-(?<end>[0-9a-fA-F]+) : (?<name>.*)$")]
    private static partial Regex IomemLine();
}
