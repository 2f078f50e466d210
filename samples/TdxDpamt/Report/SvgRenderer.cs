using System.Globalization;
using System.Xml.Linq;
using PamtGen;
using PamtGen.MemoryMaps;
using TdxDpamt.Dpamt;
using TdxDpamt.Kernel;

namespace TdxDpamt.Report;

/// <summary>
/// Draws the physical address space of a map (RAM, holes, ACPI, reserved) and, under it, the refcount area with
/// its populated and unpopulated pages, as the fixed design leaves it after build_tdx_memlist(). The address space's
/// widths grow with log2 of a range's size, so a 4 KiB range and a 1 TiB one are both visible on a laptop's map and a
/// 4 TiB 16-node machine's alike; the picture says so, writes every range's size as text (on the range, or listed under
/// the bar where it is too narrow), and marks the addresses where ranges meet on an axis. The refcount area is drawn to
/// scale, its populated share with the percentage written beside it: 2 050 populated pages of 1 966 210 are a sliver.
/// </summary>
public static class SvgRenderer
{
    private const double Width = 1200, Left = 20, BarHeight = 40, Height = 400;

    /// <summary>The fill of the populated part of the refcount strip; tests measure it.</summary>
    public const string PopulatedColor = "#2e7d32";

    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    /// <summary>The SVG document for <paramref name="map"/>.</summary>
    public static XDocument Render(MemoryMap map)
    {
        var physical = PhysicalSegments(map);
        var refcounts = RefcountRuns(map);
        var root = new XElement(
            Svg + "svg",
            new XAttribute("width", Number(Width + (2 * Left))),
            new XAttribute("height", Number(Height)),
            new XAttribute("viewBox", $"0 0 {Number(Width + (2 * Left))} {Number(Height)}"),
            new XAttribute("font-family", "sans-serif"),
            new XAttribute("font-size", "12"),
            new XElement(Svg + "rect", new XAttribute("width", "100%"), new XAttribute("height", "100%"), new XAttribute("fill", "#ffffff")),
            Text(Left, 20, $"Physical memory of {Path.GetFileName(map.Source)} (max_pfn 0x{map.MaxPfn:x}) and its TDX PAMT refcount area", 15),
            Text(Left, 38, "Address space: each range's width grows with log2 of its size, not to scale; the sizes are written on the ranges. Refcount area: to scale.", 11, "#555"));
        root.Add(Text(Left, 62, "physical address space", 12));
        double y = DrawPhysical(root, 68, physical);

        ulong total = refcounts.Aggregate(0UL, (sum, r) => sum + r.Pages), populated = refcounts.Where(r => r.Populated).Aggregate(0UL, (sum, r) => sum + r.Pages);
        double share = total == 0 ? 0 : (double)populated / total;
        root.Add(Text(Left, y + 24, $"refcount area, to scale: {total:N0} pages of {X86_64.RefcountsPerPage} refcounts (one per 2 MiB), {populated:N0} populated ({share * 100:0.###}%)", 12));
        DrawRefcounts(root, y + 30, refcounts, total);

        double x = Left, legend = y + 30 + BarHeight + 28;
        foreach (var (label, color) in new[] { ("RAM", "#4caf50"), ("ACPI", "#ff9800"), ("reserved", "#9e9e9e"), ("hole", "#ffffff"), ("other", "#9c27b0"), ("refcount page populated", PopulatedColor), ("unpopulated", "#eeeeee") })
        {
            root.Add(new XElement(Svg + "rect", new XAttribute("x", Number(x)), new XAttribute("y", Number(legend - 12)), new XAttribute("width", "14"), new XAttribute("height", "14"), new XAttribute("fill", color), new XAttribute("stroke", "#333")));
            root.Add(Text(x + 18, legend, label, 11));
            x += 40 + (label.Length * 6.5);
        }

        root.SetAttributeValue("height", Number(legend + 20));
        root.SetAttributeValue("viewBox", $"0 0 {Number(Width + (2 * Left))} {Number(legend + 20)}");
        return new XDocument(root);
    }

    private static List<(ulong Start, ulong Size, string Kind, string Color, string Label)> PhysicalSegments(MemoryMap map)
    {
        var segments = new List<(ulong, ulong, string, string, string)>();
        ulong at = 0;
        foreach (var entry in map.Entries)
        {
            if (entry.Start > at)
            {
                segments.Add((at, entry.Start - at, "hole", "#ffffff", ReportFormatter.Bytes(entry.Start - at)));
            }

            var (kind, color) = entry.Type switch
            {
                E820Type.Ram => ("RAM", "#4caf50"),
                E820Type.Acpi or E820Type.Nvs => ("ACPI", "#ff9800"),
                E820Type.Reserved or E820Type.Unusable => ("reserved", "#9e9e9e"),
                _ => (E820Type.Name(entry.Type), "#9c27b0"),
            };
            segments.Add((entry.Start, entry.Size, kind, color, ReportFormatter.Bytes(entry.Size)));
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

    /// <summary>
    /// The address space bar (log widths), each range's size on it where it fits, an axis of the addresses where ranges
    /// meet (labelled where there is room), and the sizes of the ranges too narrow to carry theirs, listed under it.
    /// Returns where the drawing ends.
    /// </summary>
    private static double DrawPhysical(XElement root, double y, List<(ulong Start, ulong Size, string Kind, string Color, string Label)> segments)
    {
        double[] weights = segments.Select(s => Math.Max(1.0, Math.Log2(Math.Max(s.Size, 1)) - 9)).ToArray();
        double scale = Width / weights.Sum();
        double x = Left, lastLabel = double.NegativeInfinity;
        var narrow = new List<string>();
        for (int i = 0; i < segments.Count; i++)
        {
            double w = weights[i] * scale;
            var (start, size, kind, color, label) = segments[i];
            root.Add(new XElement(
                Svg + "rect",
                new XAttribute("x", Number(x)), new XAttribute("y", Number(y)), new XAttribute("width", Number(w)), new XAttribute("height", Number(BarHeight)),
                new XAttribute("fill", color), new XAttribute("stroke", "#333"), new XAttribute("stroke-width", "0.5"),
                new XElement(Svg + "title", $"{kind}: {label} at 0x{start:x}")));
            if (w > (label.Length * 6.2) + 4)
            {
                root.Add(Text(x + 3, y + (BarHeight / 2) + 4, label, 10, "#000"));
            }
            else
            {
                narrow.Add($"{kind} {label} at 0x{start:x}");
            }

            // The axis: a tick where this range starts, its address where the last label leaves room.
            root.Add(new XElement(Svg + "line", new XAttribute("x1", Number(x)), new XAttribute("x2", Number(x)), new XAttribute("y1", Number(y + BarHeight)), new XAttribute("y2", Number(y + BarHeight + 5)), new XAttribute("stroke", "#333")));
            if (x - lastLabel >= 90)
            {
                root.Add(Text(x, y + BarHeight + 17, $"0x{start:x}", 9, "#333"));
                lastLabel = x;
            }

            x += w;
        }

        ulong end = segments.Count == 0 ? 0 : segments[^1].Start + segments[^1].Size;
        root.Add(new XElement(Svg + "line", new XAttribute("x1", Number(x)), new XAttribute("x2", Number(x)), new XAttribute("y1", Number(y + BarHeight)), new XAttribute("y2", Number(y + BarHeight + 5)), new XAttribute("stroke", "#333")));
        root.Add(Text(x - 70, y + BarHeight + 29, $"end 0x{end:x}", 9, "#333"));

        // The ranges too narrow for their size, in lines under the axis.
        double line = y + BarHeight + 44;
        var text = new System.Text.StringBuilder("narrow ranges: ");
        foreach (string item in narrow)
        {
            if (text.Length + item.Length > 190)
            {
                root.Add(Text(Left, line, text.ToString().TrimEnd(',', ' '), 10, "#333"));
                line += 14;
                text.Clear().Append("  ");
            }

            text.Append(item).Append(", ");
        }

        if (narrow.Count > 0)
        {
            root.Add(Text(Left, line, text.ToString().TrimEnd(',', ' '), 10, "#333"));
            line += 14;
        }

        return line;
    }

    /// <summary>The refcount area to scale: each run's width its share of the area's pages (at least a hairline for a populated run, drawn on top).</summary>
    private static void DrawRefcounts(XElement root, double y, List<(ulong Pages, bool Populated)> runs, ulong total)
    {
        root.Add(new XElement(Svg + "rect", new XAttribute("x", Number(Left)), new XAttribute("y", Number(y)), new XAttribute("width", Number(Width)), new XAttribute("height", Number(BarHeight)),
            new XAttribute("fill", "#eeeeee"), new XAttribute("stroke", "#333"), new XAttribute("stroke-width", "0.5")));
        ulong at = 0;
        foreach (var (pages, populated) in runs)
        {
            if (populated && total > 0)
            {
                root.Add(new XElement(
                    Svg + "rect",
                    new XAttribute("x", Number(Left + (Width * at / total), "0.######")), new XAttribute("y", Number(y)),
                    new XAttribute("width", Number(Width * pages / total, "0.######")), new XAttribute("height", Number(BarHeight)),
                    new XAttribute("fill", PopulatedColor),
                    new XElement(Svg + "title", $"populated: {pages} page{(pages == 1 ? "" : "s")}")));
            }

            at += pages;
        }
    }

    private static XElement Text(double x, double y, string text, int size, string color = "#000") =>
        new(Svg + "text", new XAttribute("x", Number(x)), new XAttribute("y", Number(y)), new XAttribute("font-size", size), new XAttribute("fill", color), text);

    private static string Number(double value, string format = "0.##") => value.ToString(format, CultureInfo.InvariantCulture);

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
