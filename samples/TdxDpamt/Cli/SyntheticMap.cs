using System.Globalization;
using PamtGen.MemoryMaps;

namespace TdxDpamt.Cli;

/// <summary>
/// What-if machines for <c>report --synthetic SPEC</c>. The grammar, comma-separated <c>key=value</c>:
/// <list type="bullet">
/// <item><c>nodes=N</c> (default 1), <c>ram=SIZE</c> per node (required), <c>stride=SIZE</c> from one node's start
/// to the next (default: ram), <c>base=SIZE</c> where the first node starts (default 4G), <c>low=SIZE</c> of RAM
/// below 4 GiB starting at 1 MiB (default 0);</item>
/// <item>or <c>ranges=START-END;START-END...</c>: the usable ranges themselves, END exclusive.</item>
/// </list>
/// SIZE is a number with an optional binary suffix K, M, G, T, P (case-insensitive) or a 0x hex number.
/// Addresses stay below 2^52, the most x86-64 physical addressing has. Examples: <c>nodes=16,ram=256G,stride=2T</c>,
/// <c>low=2G,ranges=0x100000000-0x4000000000;0x800000000000-0x810000000000</c> (CXL far above DRAM).
/// </summary>
public static class SyntheticMap
{
    private const ulong PhysicalLimit = 1UL << 52;

    /// <summary>The map <paramref name="spec"/> describes; a <see cref="MemoryMapException"/> saying what is wrong otherwise.</summary>
    public static MemoryMap Parse(string spec)
    {
        string source = $"--synthetic {spec}";
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string item in spec.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = item.IndexOf('=', StringComparison.Ordinal);
            string key = eq < 0 ? item : item[..eq];
            if (eq < 0 || key is not ("nodes" or "ram" or "stride" or "base" or "low" or "ranges"))
            {
                throw new MemoryMapException(source, $"'{item}' is not one of nodes=, ram=, stride=, base=, low=, ranges=");
            }

            if (!values.TryAdd(key, item[(eq + 1)..]))
            {
                throw new MemoryMapException(source, $"'{key}' is given twice");
            }
        }

        var ranges = new List<E820Entry>();
        if (values.TryGetValue("low", out string? low))
        {
            ulong lowBytes = Size(low, source);
            if (lowBytes > 0)
            {
                ranges.Add(Range(0x100000, 0x100000 + lowBytes, source));
            }
        }

        if (values.TryGetValue("ranges", out string? explicitRanges))
        {
            if (values.ContainsKey("nodes") || values.ContainsKey("ram") || values.ContainsKey("stride") || values.ContainsKey("base"))
            {
                throw new MemoryMapException(source, "give either ranges= or nodes=/ram=/stride=/base=, not both");
            }

            foreach (string range in explicitRanges.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                string[] ends = range.Split('-');
                if (ends.Length != 2)
                {
                    throw new MemoryMapException(source, $"range '{range}' is not START-END");
                }

                ranges.Add(Range(Size(ends[0], source), Size(ends[1], source), source));
            }
        }
        else
        {
            if (!values.TryGetValue("ram", out string? ram))
            {
                throw new MemoryMapException(source, "ram= (RAM per node) is required unless ranges= is given");
            }

            ulong nodes = values.TryGetValue("nodes", out string? n) ? Size(n, source) : 1;
            ulong perNode = Size(ram, source);
            ulong stride = values.TryGetValue("stride", out string? s) ? Size(s, source) : perNode;
            ulong start = values.TryGetValue("base", out string? b) ? Size(b, source) : 4UL << 30;
            if (nodes is 0 or > 1024 || perNode == 0 || stride < perNode)
            {
                throw new MemoryMapException(source, "nodes must be 1 to 1024, ram above 0, and stride at least ram");
            }

            for (ulong node = 0; node < nodes; node++)
            {
                UInt128 nodeStart = start + ((UInt128)node * stride);
                if (nodeStart + perNode > PhysicalLimit)
                {
                    throw new MemoryMapException(source, $"node {node} ends above 2^52 bytes, beyond x86-64 physical addressing");
                }

                ranges.Add(Range((ulong)nodeStart, (ulong)nodeStart + perNode, source));
            }
        }

        return MemoryMap.FromEntries(ranges, source);
    }

    private static E820Entry Range(ulong start, ulong end, string source) =>
        start < end && end <= PhysicalLimit
            ? new E820Entry(start, end, E820Type.Ram)
            : throw new MemoryMapException(source, $"range 0x{start:x}-0x{end:x} is empty, reversed, or above 2^52");

    private static ulong Size(string text, string source)
    {
        string t = text.Trim();
        if (t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            && ulong.TryParse(t[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong hex))
        {
            return hex;
        }

        int shift = t.Length > 0 ? char.ToUpperInvariant(t[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, 'P' => 50, _ => 0 } : 0;
        string digits = shift > 0 ? t[..^1] : t;
        if (!ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value) || (shift > 0 && value > ulong.MaxValue >> shift))
        {
            throw new MemoryMapException(source, $"'{text}' is not a size (a number with K, M, G, T or P, or 0x hex)");
        }

        return value << shift;
    }
}
