using System.Globalization;

namespace PamtGen.MemoryMaps;

/// <summary>
/// /sys/firmware/memmap (drivers/firmware/memmap.c): one directory per firmware entry, each with
/// <c>start</c>, <c>end</c> (inclusive) and <c>type</c> files; the type strings are /proc/iomem's.
/// </summary>
internal static class SysfsMemmapReader
{
    public static MemoryMap Read(string directory)
    {
        var entries = new List<E820Entry>();
        string[] children;
        try
        {
            children = Directory.GetDirectories(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MemoryMapException(directory, $"cannot read the directory: {e.Message}", inner: e);
        }

        var numbered = children
            .Select(path => (Path: path, Ok: int.TryParse(Path.GetFileName(path), NumberStyles.None, CultureInfo.InvariantCulture, out int n), N: n))
            .ToArray();
        if (numbered.FirstOrDefault(c => !c.Ok) is { Path: { } stray })
        {
            throw new MemoryMapException(directory, $"'{Path.GetFileName(stray)}' is not a numbered memmap entry directory");
        }

        foreach (var (path, _, _) in numbered.OrderBy(c => c.N))
        {
            ulong start = ReadHex(path, "start");
            ulong last = ReadHex(path, "end");
            string typePath = Path.Combine(path, "type");
            string type = ReadSingleLine(typePath);
            if (last < start)
            {
                throw new MemoryMapException(Path.Combine(path, "end"), "the range ends before it starts", 1, $"0x{last:x}");
            }

            if (MemoryMapReader.IomemType(type) is { } e820Type)
            {
                entries.Add(new E820Entry(start, MemoryMapReader.ExclusiveEnd(last, 1, $"0x{last:x}", Path.Combine(path, "end")), e820Type));
            }
            else if (type != "Unknown E820 type")
            {
                throw new MemoryMapException(typePath, $"unknown memmap type '{type}'", 1, type);
            }
        }

        return MemoryMap.Create(directory, MemoryMapFormat.SysfsMemmap, entries, []);
    }

    private static ulong ReadHex(string entryDirectory, string name)
    {
        string path = Path.Combine(entryDirectory, name);
        string text = ReadSingleLine(path);
        return MemoryMapReader.ParseHex(text, 1, text, path);
    }

    private static string ReadSingleLine(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MemoryMapException(path, $"cannot read the file: {e.Message}", inner: e);
        }

        string[] lines = text.TrimEnd('\n', '\r').Split('\n');
        if (lines.Length != 1 || lines[0].Length == 0)
        {
            throw new MemoryMapException(path, "expected exactly one non-empty line", 1, lines.Length > 0 ? lines[0] : "");
        }

        return lines[0].TrimEnd('\r').Trim();
    }
}
