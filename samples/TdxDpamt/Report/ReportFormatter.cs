using System.Globalization;
using System.Text;
using System.Text.Json;

namespace TdxDpamt.Report;

/// <summary>The report as JSON (exactly the documented keys) or as a table with units and savings against dense.</summary>
public static class ReportFormatter
{
    /// <summary>One JSON object with the keys maxPfn ... v4PopulateWastedAllocations, numbers only.</summary>
    public static string Json(DpamtReport r)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("maxPfn", r.MaxPfn);
            json.WriteNumber("tdxRanges", r.TdxRanges);
            json.WriteNumber("presentBytes", r.PresentBytes);
            json.WriteNumber("denseRefcountBytes", r.DenseRefcountBytes);
            json.WriteNumber("densePages", r.DensePages);
            json.WriteNumber("sparsePages", r.SparsePages);
            json.WriteNumber("sparseBytes", r.SparseBytes);
            json.WriteNumber("pageTablePages", r.PageTablePages);
            json.WriteNumber("twoLevelPages", r.TwoLevelPages);
            json.WriteNumber("v4TeardownLeakedPages", r.V4TeardownLeakedPages);
            json.WriteNumber("v4PopulateWastedAllocations", r.V4PopulateWastedAllocations);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>The same figures for a person: units, and what each layout saves against the dense array.</summary>
    public static string Table(DpamtReport r, string source)
    {
        ulong sparseTotal = r.SparsePages + r.PageTablePages;
        var rows = new List<(string Figure, string Value)>
        {
            ("memory map", source),
            ("max_pfn", $"0x{r.MaxPfn:x} ({Bytes(r.MaxPfn << 12)} of physical address space)"),
            ("TDX memory ranges", r.TdxRanges.ToString(CultureInfo.InvariantCulture)),
            ("TDX memory (RAM above 1 MiB)", Bytes(r.PresentBytes)),
            ("dense refcount array", $"{Bytes(r.DenseRefcountBytes)} = {Pages(r.DensePages)}"),
            ("sparse (seed): refcount pages", $"{Pages(r.SparsePages)} = {Bytes(r.SparseBytes)}"),
            ("sparse (seed): page-table pages", Pages(r.PageTablePages)),
            ("sparse (seed): total", $"{Pages(sparseTotal)}, {Saving(sparseTotal, r.DensePages)}"),
            ("two-level: directory + refcount pages", $"{Pages(r.TwoLevelPages)}, {Saving(r.TwoLevelPages, r.DensePages)}"),
            ("v4 populate: pages allocated and freed again", r.V4PopulateWastedAllocations.ToString(CultureInfo.InvariantCulture)),
            ("v4 teardown: refcount pages leaked", $"{r.V4TeardownLeakedPages} (fixed design: 0)"),
            ("fixed teardown: page-table pages reclaimed", $"{r.ReclaimedPageTablePages} (FreeEmptyTables; only the root table stays)"),
        };
        int width = rows.Max(row => row.Figure.Length);
        var text = new StringBuilder();
        foreach (var (figure, value) in rows)
        {
            text.Append(figure.PadRight(width)).Append("  ").Append(value).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Bytes in binary units, exact below 1 KiB, two decimals above.</summary>
    public static string Bytes(ulong bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B")
            : string.Create(CultureInfo.InvariantCulture, $"{value:0.##} {units[unit]}");
    }

    private static string Pages(ulong pages) => string.Create(CultureInfo.InvariantCulture, $"{pages} page{(pages == 1 ? "" : "s")}");

    private static string Saving(ulong pages, ulong densePages)
    {
        if (densePages == 0)
        {
            return "dense needs none";
        }

        double ratio = (double)pages / densePages;
        return ratio <= 1
            ? string.Create(CultureInfo.InvariantCulture, $"saves {(1 - ratio) * 100:0.#}% against dense")
            : string.Create(CultureInfo.InvariantCulture, $"costs {(ratio - 1) * 100:0.#}% more than dense");
    }
}
