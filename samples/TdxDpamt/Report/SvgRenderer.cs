using System.Globalization;
using System.Xml.Linq;
using PamtGen;
using PamtGen.MemoryMaps;
using TdxDpamt.Dpamt;
using TdxDpamt.Kernel;

namespace TdxDpamt.Report;

/// <summary>
/// Draws the physical address space of a map (RAM, holes, ACPI, reserved) and, under it, the refcount area with
/// its populated and unpopulated pages, as the fixed design leaves it after build_tdx_memlist(). Widths grow with
/// log2 of a range's size, so a 4 KiB range and a 1 TiB one are both visible on a laptop's map and a 4 TiB
/// 16-node machine's alike; the picture says so.
/// </summary>
public static class SvgRenderer
{
    private const double Width = 1200, Left = 20, BarHeight = 48;
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    /// <summary>The SVG document for <paramref name="map"/>.</summary>
    public static XDocument Render(MemoryMap map)
    {
        var physical = PhysicalSegments(map);
        var refcounts = RefcountRuns(map);
        var root = new XElement(
            Svg + "svg",
            new XAttribute("width", Number(Width + (2 * Left))),
            new XAttribute("height", "300"),
            new XAttribute("viewBox", $"0 0 {Number(Width + (2 * Left))} 300"),
            new XAttribute("font-family", "sans-serif"),
            new XAttribute("font-size", "12"),
            Text(Left, 20, $"Physical memory of {Path.GetFileName(map.Source)} (max_pfn 0x{map.MaxPfn:x}) and its TDX PAMT refcount area", 15),
            Text(Left, 38, "Scale: each range's width grows with log2 of its size, not to scale; labels give the real sizes.", 11, "#555"));
        root.Add(Text(Left, 66, "physical address space", 12));
        DrawBar(root, 72, physical);
        root.Add(Text(Left, 160, $"refcount area: {refcounts.Sum(r => (double)r.Pages):0} pages of {X86_64.RefcountsPerPage} refcounts (one per 2 MiB), {refcounts.Where(r => r.Populated).Sum(r => (double)r.Pages):0} populated", 12));
        DrawBar(root, 166, refcounts.Select(r => (r.Pages * X86_64.PageSize, r.Populated ? "populated" : "unpopulated", r.Populated ? "#2e7d32" : "#eeeeee", $"{r.Pages} page{(r.Pages == 1 ? "" : "s")}")).ToList());
        double x = Left;
        foreach (var (label, color) in new[] { ("RAM", "#4caf50"), ("ACPI", "#ff9800"), ("reserved", "#9e9e9e"), ("hole", "#ffffff"), ("other", "#9c27b0"), ("refcount page populated", "#2e7d32"), ("unpopulated", "#eeeeee") })
        {
            root.Add(new XElement(Svg + "rect", new XAttribute("x", Number(x)), new XAttribute("y", "262"), new XAttribute("width", "14"), new XAttribute("height", "14"), new XAttribute("fill", color), new XAttribute("stroke", "#333")));
            root.Add(Text(x + 18, 274, label, 11));
            x += 40 + (label.Length * 6.5);
        }

        return new XDocument(root);
    }

    private static List<(ulong Size, string Kind, string Color, string Label)> PhysicalSegments(MemoryMap map)
    {
        var segments = new List<(ulong, string, string, string)>();
        ulong at = 0;
        foreach (var entry in map.Entries)
        {
            if (entry.Start > at)
            {
                segments.Add((entry.Start - at, "hole", "#ffffff", ReportFormatter.Bytes(entry.Start - at)));
            }

            var (kind, color) = entry.Type switch
            {
                E820Type.Ram => ("RAM", "#4caf50"),
                E820Type.Acpi or E820Type.Nvs => ("ACPI", "#ff9800"),
                E820Type.Reserved or E820Type.Unusable => ("reserved", "#9e9e9e"),
                _ => (E820Type.Name(entry.Type), "#9c27b0"),
            };
            segments.Add((entry.Size, kind, color, ReportFormatter.Bytes(entry.Size)));
            at = entry.End;
        }

        return segments;
    }

    /// <summary>Runs of populated and unpopulated refcount pages, read from the model's page tables with the generated walker.</summary>
    private static List<(ulong Pages, bool Populated)> RefcountRuns(MemoryMap map)
    {
        var kernel = new TdxKernel(map);
        var design = new FixedDpamt();
        if (design.InitPamtMetadata(kernel) != 0 || design.BuildTdxMemlist(kernel, []) != 0)
        {
            throw new InvalidOperationException("the model machine is out of memory");
        }

        var runs = new RunCollector { Runs = [] };
        ulong size = X86_64.RefcountAreaSize(map.MaxPfn);
        X86_64.WalkPageRange(kernel.InitMm, kernel.PamtRefcounts, kernel.PamtRefcounts + size, ref runs);
        design.FreePamtMetadata(kernel);
        return runs.Runs;
    }

    private static void DrawBar(XElement root, double y, List<(ulong Size, string Kind, string Color, string Label)> segments)
    {
        double[] weights = segments.Select(s => Math.Max(1.0, Math.Log2(Math.Max(s.Size, 1)) - 9)).ToArray();
        double scale = Width / weights.Sum();
        double x = Left;
        for (int i = 0; i < segments.Count; i++)
        {
            double w = weights[i] * scale;
            var (_, kind, color, label) = segments[i];
            root.Add(new XElement(
                Svg + "rect",
                new XAttribute("x", Number(x)),
                new XAttribute("y", Number(y)),
                new XAttribute("width", Number(w)),
                new XAttribute("height", Number(BarHeight)),
                new XAttribute("fill", color),
                new XAttribute("stroke", "#333"),
                new XAttribute("stroke-width", "0.5"),
                new XElement(Svg + "title", $"{kind}: {label}")));
            if (w > label.Length * 5.4)
            {
                root.Add(Text(x + 3, y + BarHeight + 14, label, 10, "#333"));
            }

            x += w;
        }
    }

    private static XElement Text(double x, double y, string text, int size, string color = "#000") =>
        new(Svg + "text", new XAttribute("x", Number(x)), new XAttribute("y", Number(y)), new XAttribute("font-size", size), new XAttribute("fill", color), text);

    private static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>Collects runs of present and absent PTEs over the refcount area (holes count as absent pages).</summary>
    private struct RunCollector : IPageWalkOps
    {
        public List<(ulong Pages, bool Populated)> Runs;

        public readonly int PteEntry(PtePointer pte, ulong addr, ulong next)
        {
            Add(1, Pgtable.PtePresent(Pgtable.PtepGet(pte)));
            return 0;
        }

        public readonly int PteHole(ulong addr, ulong next, int depth)
        {
            Add((next - addr) / X86_64.PageSize, false);
            return 0;
        }

        public readonly int PmdEntry(PmdPointer pmd, ulong addr, ulong next) => 0;

        public readonly int PudEntry(PudPointer pud, ulong addr, ulong next) => 0;

        private readonly void Add(ulong pages, bool populated)
        {
            if (Runs.Count > 0 && Runs[^1].Populated == populated)
            {
                Runs[^1] = (Runs[^1].Pages + pages, populated);
            }
            else
            {
                Runs.Add((pages, populated));
            }
        }
    }
}
