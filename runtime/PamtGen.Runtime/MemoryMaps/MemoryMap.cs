namespace PamtGen.MemoryMaps;

/// <summary>
/// A machine's physical memory map: the sanitized e820 table, and what the kernel derives from it
/// (memblock's RAM ranges, for_each_mem_pfn_range(), max_pfn). Build one with <see cref="Load"/>,
/// <see cref="Parse"/> or <see cref="FromEntries"/>; an unusable map throws <see cref="MemoryMapException"/>.
/// </summary>
public sealed class MemoryMap
{
    private MemoryMap(string source, MemoryMapFormat format, IReadOnlyList<E820Entry> entries, IReadOnlyList<string> notes)
    {
        Source = source;
        Format = format;
        Entries = entries;
        Notes = notes;
        RamRanges = MergeRam(entries);
        if (RamRanges.Count == 0 || ForEachMemPfnRange().All(r => r.Pages == 0))
        {
            throw new MemoryMapException(source, "the map has no usable RAM (no whole page of type 'usable' / 'System RAM')");
        }
    }

    /// <summary>The file, directory or name the map came from.</summary>
    public string Source { get; }

    /// <summary>The format it was read from.</summary>
    public MemoryMapFormat Format { get; }

    /// <summary>The e820 table after the kernel's sanitizer and any update/remove lines applied, sorted, non-overlapping.</summary>
    public IReadOnlyList<E820Entry> Entries { get; }

    /// <summary>What the reader did with lines that change the table (update/remove applied, earlier tables superseded).</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>memblock.memory: the RAM ranges in bytes, adjacent ones merged, not yet page-rounded.</summary>
    public IReadOnlyList<PhysRange> RamRanges { get; }

    /// <summary>max_pfn with 4 KiB pages: e820__end_of_ram_pfn().</summary>
    public ulong MaxPfn => GetMaxPfn(12);

    /// <summary>The bytes of RAM in whole pages (the sum of <see cref="ForEachMemPfnRange"/> with 4 KiB pages).</summary>
    public ulong TotalRamBytes => ForEachMemPfnRange().Aggregate(0UL, (sum, r) => sum + (r.Pages << 12));

    /// <summary>
    /// e820__end_pfn(): the highest <c>PFN_DOWN(end)</c> over the entries of type RAM and, as current
    /// kernels do, ACPI data, for pages of 2^<paramref name="pageShift"/> bytes.
    /// </summary>
    public ulong GetMaxPfn(int pageShift) =>
        Entries.Where(e => e.Type is E820Type.Ram or E820Type.Acpi).Select(e => e.End >> pageShift).DefaultIfEmpty(0UL).Max();

    /// <summary>
    /// for_each_mem_pfn_range(): each RAM range as <c>[PFN_UP(start), PFN_DOWN(end))</c>, ranges with no
    /// whole page skipped, for pages of 2^<paramref name="pageShift"/> bytes.
    /// </summary>
    public IEnumerable<PfnRange> ForEachMemPfnRange(int pageShift = 12)
    {
        ulong pageMask = (1UL << pageShift) - 1;
        foreach (var range in RamRanges)
        {
            ulong startPfn = (range.Start >> pageShift) + ((range.Start & pageMask) != 0 ? 1UL : 0UL);
            ulong endPfn = range.End >> pageShift;
            if (startPfn < endPfn)
            {
                yield return new PfnRange(startPfn, endPfn);
            }
        }
    }

    /// <summary>Reads a map from <paramref name="path"/>: a /sys/firmware/memmap directory, or a file holding a dmesg boot log or a /proc/iomem copy (detected).</summary>
    public static MemoryMap Load(string path) => MemoryMapReader.Load(path);

    /// <summary>Parses <paramref name="text"/>, a dmesg boot log or a /proc/iomem copy (detected); <paramref name="source"/> names it in errors.</summary>
    public static MemoryMap Parse(string text, string source = "<text>")
    {
        ArgumentNullException.ThrowIfNull(text);
        using var reader = new StringReader(text);
        return MemoryMapReader.Read(reader, source);
    }

    /// <summary>A map from entries given directly (a synthetic machine); they are sanitized as the kernel would.</summary>
    public static MemoryMap FromEntries(IEnumerable<E820Entry> entries, string source = "<synthetic>") =>
        Create(source, MemoryMapFormat.Synthetic, entries.ToList(), []);

    /// <summary>
    /// The map of <paramref name="entries"/> as read: none at all is an empty map, entries without RAM are a
    /// map without RAM. <paramref name="linesWereRead"/> says the input had entries that changes may have
    /// removed since (then an empty table is a map without RAM).
    /// </summary>
    internal static MemoryMap Create(
        string source, MemoryMapFormat format, IReadOnlyCollection<E820Entry> entries, IReadOnlyList<string> notes, bool linesWereRead = false) =>
        entries.Count == 0 && !linesWereRead
            ? throw new MemoryMapException(source, "the map is empty: it has no e820 entries")
            : new MemoryMap(source, format, E820Table.Sanitize(entries), notes);

    /// <summary>e820__memblock_setup(): RAM entries added to memblock, which merges touching regions.</summary>
    private static IReadOnlyList<PhysRange> MergeRam(IReadOnlyList<E820Entry> entries)
    {
        var ranges = new List<PhysRange>();
        foreach (var entry in entries.Where(e => e.Type == E820Type.Ram))
        {
            if (ranges.Count > 0 && ranges[^1].End == entry.Start)
            {
                ranges[^1] = ranges[^1] with { End = entry.End };
            }
            else
            {
                ranges.Add(new PhysRange(entry.Start, entry.End));
            }
        }

        return ranges;
    }
}
