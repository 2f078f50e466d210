using System.Text;
using PamtGen.MemoryMaps;
using Xunit.Abstractions;
using PamtGen.Testing;

namespace TdxDpamt.Tests;

/// <summary>
/// Random and mutated memory maps (from the bundled ones): the reader gives a map or a MemoryMapException that names
/// the line, never anything else; a parsed map is consistent (sorted, non-overlapping, RAM ranges with whole pages).
/// </summary>
[Trait(Category.Name, Category.Slow)]
public class MemoryMapFuzzTests(ITestOutputHelper output)
{
    private static readonly string[] Bundled = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "memmaps"), "*.e820").Select(File.ReadAllText).ToArray();

    [Fact]
    public void Mutated_and_random_maps_parse_or_fail_with_a_line_numbered_error()
    {
        var random = new Random(9);
        int parsed = 0, rejected = 0;
        for (int i = 0; i < FuzzSize.Cases; i++)
        {
            string text = Mutate(Bundled[random.Next(Bundled.Length)], random);
            try
            {
                var map = MemoryMap.Parse(text, "fuzz");
                AssertConsistent(map);
                parsed++;
            }
            catch (MemoryMapException e)
            {
                Assert.StartsWith("fuzz", e.Message);
                Assert.True(e.LineNumber is null || (e.LineNumber >= 1 && e.LineNumber <= text.Split('\n').Length), $"case {i}: line {e.LineNumber} out of range");
                rejected++;
            }
        }

        output.WriteLine($"{FuzzSize.Cases} mutated maps: {parsed} parsed, {rejected} rejected with a line-numbered error, no other exception");
        Assert.True(parsed > 0 && rejected > 0);
    }

    [Fact]
    public void A_lone_carriage_return_does_not_end_a_line()
    {
        // Minimized from long-run case 19 859: the reader counted a lone '\r' as a line end and named line 14 of a
        // 13-line map. grep -n, less and the kernel's log end lines at '\n' only.
        string text = "[    0.000000] Command line: quiet\r splash\n[    0.000000] BIOS-e820: [mem 0x00000000000a0000-0x00000000000fffff] usablee\n";
        var error = Assert.Throws<MemoryMapException>(() => MemoryMap.Parse(text, "fuzz"));
        Assert.Equal(2, error.LineNumber);
    }

    [Fact]
    public void Crlf_and_a_large_boot_log_read_like_the_original()
    {
        string map = Bundled[0];
        var expected = MemoryMap.Parse(map).Entries;
        Assert.Equal(expected, MemoryMap.Parse(map.ReplaceLineEndings("\r\n")).Entries);

        // A boot log of noise lines around the table: 10 MB in CI, 100 MB in the long run.
        long target = FuzzSize.LongRun ? 100L << 20 : 10L << 20;
        string path = Path.GetTempFileName();
        try
        {
            using (var writer = new StreamWriter(path))
            {
                writer.Write(map);
                string noise = "[    1.234567] pci 0000:00:1f.3: [8086:51c8] type 00 class 0x040380 conventional PCI endpoint\n";
                for (long written = 0; written < target; written += noise.Length)
                {
                    writer.Write(noise);
                }
            }

            Assert.Equal(expected, MemoryMap.Load(path).Entries);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void AssertConsistent(MemoryMap map)
    {
        for (int i = 1; i < map.Entries.Count; i++)
        {
            Assert.True(map.Entries[i - 1].End <= map.Entries[i].Start, $"{map.Entries[i - 1]} overlaps {map.Entries[i]}");
        }

        Assert.All(map.ForEachMemPfnRange(), r => Assert.True(r.End > r.Start));
        Assert.True(map.MaxPfn > 0);
    }

    /// <summary>One to four edits: delete, duplicate or swap lines, flip or insert characters, change a type, truncate.</summary>
    internal static string Mutate(string text, Random random)
    {
        var lines = text.Split('\n').ToList();
        for (int edits = random.Next(1, 5); edits > 0 && lines.Count > 0; edits--)
        {
            int at = random.Next(lines.Count);
            string line = lines[at];
            switch (random.Next(8))
            {
                case 0: lines.RemoveAt(at); break;
                case 1: lines.Insert(at, line); break;
                case 2: lines[at] = lines[random.Next(lines.Count)]; break;
                case 3 when line.Length > 0: lines[at] = line.Remove(random.Next(line.Length), 1); break;
                case 4 when line.Length > 0: lines[at] = line.Insert(random.Next(line.Length), ((char)random.Next(32, 127)).ToString()); break;
                case 5: lines[at] = line.Replace("usable", new[] { "reserved", "ACPI data", "type 20", "bogus", "" }[random.Next(5)], StringComparison.Ordinal); break;
                case 6 when line.Length > 0: lines[at] = line[..random.Next(line.Length)]; break;
                default:
                    var bytes = new byte[random.Next(1, 40)];
                    random.NextBytes(bytes);
                    lines.Insert(at, Encoding.Latin1.GetString(bytes));
                    break;
            }
        }

        return string.Join('\n', lines);
    }
}
