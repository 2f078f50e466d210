namespace PamtGen.MemoryMaps;

/// <summary>The kernel's e820 table operations (arch/x86/kernel/e820.c) on immutable entry lists.</summary>
internal static class E820Table
{
    /// <summary>
    /// e820__update_table(): the sanitizer. Zero-size entries are dropped; where entries overlap, the
    /// highest type number wins (the kernel keeps <c>max(type)</c> over the overlapping entries at each
    /// change point, since the more restrictive types have the higher numbers); touching or overlapping
    /// pieces of one type are merged; the result is sorted and non-overlapping.
    /// </summary>
    public static IReadOnlyList<E820Entry> Sanitize(IEnumerable<E820Entry> entries)
    {
        // The kernel's change-point sweep: at each start or end, the covering types change; between two
        // change points the type is the highest one covering it.
        var changes = entries.Where(e => e.End > e.Start)
            .SelectMany(e => new[] { (At: e.Start, e.Type, Delta: 1), (At: e.End, e.Type, Delta: -1) })
            .OrderBy(c => c.At)
            .ToArray();
        var covering = new SortedDictionary<uint, int>();
        var result = new List<E820Entry>();
        for (int i = 0; i < changes.Length;)
        {
            ulong at = changes[i].At;
            for (; i < changes.Length && changes[i].At == at; i++)
            {
                var (_, type, delta) = changes[i];
                int count = covering.GetValueOrDefault(type) + delta;
                if (count == 0)
                {
                    covering.Remove(type);
                }
                else
                {
                    covering[type] = count;
                }
            }

            if (i == changes.Length || covering.Count == 0)
            {
                continue; // past the last entry, or a hole between entries
            }

            ulong end = changes[i].At;
            uint highest = covering.Keys.Last();
            if (result.Count > 0 && result[^1].End == at && result[^1].Type == highest)
            {
                result[^1] = result[^1] with { End = end };
            }
            else
            {
                result.Add(new E820Entry(at, end, highest));
            }
        }

        return result;
    }

    /// <summary>e820__range_update(): the parts of entries of <paramref name="oldType"/> inside <c>[start, end)</c> become <paramref name="newType"/>.</summary>
    public static IReadOnlyList<E820Entry> Update(IReadOnlyList<E820Entry> table, ulong start, ulong end, uint oldType, uint newType) =>
        Sanitize(table.SelectMany(entry => entry.Type != oldType
            ? [entry]
            : Split(entry, start, end).Select(part => part.Inside ? part.Entry with { Type = newType } : part.Entry)));

    /// <summary>e820__range_remove(): the parts inside <c>[start, end)</c> of entries (of <paramref name="oldType"/> only, when given) are removed.</summary>
    public static IReadOnlyList<E820Entry> Remove(IReadOnlyList<E820Entry> table, ulong start, ulong end, uint? oldType) =>
        Sanitize(table.SelectMany(entry => oldType is not null && entry.Type != oldType
            ? [entry]
            : Split(entry, start, end).Where(part => !part.Inside).Select(part => part.Entry)));

    /// <summary>Cuts <paramref name="entry"/> at <paramref name="start"/> and <paramref name="end"/> into the pieces before, inside and after.</summary>
    private static IEnumerable<(E820Entry Entry, bool Inside)> Split(E820Entry entry, ulong start, ulong end)
    {
        ulong insideStart = Math.Max(entry.Start, start), insideEnd = Math.Min(entry.End, end);
        if (insideStart >= insideEnd)
        {
            yield return (entry, false);
            yield break;
        }

        if (entry.Start < insideStart)
        {
            yield return (entry with { End = insideStart }, false);
        }

        yield return (new E820Entry(insideStart, insideEnd, entry.Type), true);
        if (insideEnd < entry.End)
        {
            yield return (entry with { Start = insideEnd }, false);
        }
    }
}
