using PamtGen.MemoryMaps;

namespace PamtGen.Runtime.Tests;

/// <summary>Every malformed map gives a <see cref="MemoryMapException"/> that names the line and quotes it; nothing else escapes.</summary>
public class MemoryMapErrorTests
{
    private const string Good = "BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n";

    public static TheoryData<string, string, int, string> MalformedLines => new()
    {
        // name, text, line at fault, words the reason must contain
        { "non-hex address", Good + "BIOS-e820: [mem 0x00000000000g0000-0x00000000000fffff] reserved", 2, "malformed" },
        { "reversed range", Good + "BIOS-e820: [mem 0x0000000000200000-0x00000000000fffff] usable", 2, "ends before it starts" },
        { "truncated line", Good + "BIOS-e820: [mem 0x0000000000100000-0x00000", 2, "malformed" },
        { "type missing", Good + "BIOS-e820: [mem 0x0000000000100000-0x00000000001fffff]", 2, "malformed" },
        { "unknown type", Good + "BIOS-e820: [mem 0x0000000000100000-0x00000000001fffff] bogus", 2, "unknown e820 type 'bogus'" },
        { "address over 64 bits", Good + "BIOS-e820: [mem 0x10000000000000000-0x20000000000000000] usable", 2, "64-bit" },
        { "end at the last byte of the address space", Good + "BIOS-e820: [mem 0x0000000100000000-0xffffffffffffffff] usable", 2, "last byte" },
        { "old format reversed", " BIOS-e820: 0000000000100000 - 0000000000000000 (usable)", 1, "ends before it starts" },
        { "old format unterminated type", " BIOS-e820: 0000000000000000 - 00000000000a0000 (usable", 1, "malformed" },
        { "malformed update", Good + "e820: update [mem 0x00000000-0x00000fff] usable =>", 2, "malformed e820 update" },
        { "update with unknown type", Good + "e820: update [mem 0x00000000-0x00000fff] usable ==> weird", 2, "unknown e820 type 'weird'" },
        { "malformed remove", Good + "e820: remove [mem 0x000a0000-]", 2, "malformed e820 remove" },
        { "update without a table", "e820: update [mem 0x00000000-0x00000fff] usable ==> reserved", 1, "no e820 table" },
        { "iomem malformed line", "00000000-00000fff : Reserved\n00001000-0009fbff System RAM\n", 2, "neither a dmesg e820 line" },
        { "iomem reversed range", "00100000-00000fff : System RAM\n", 1, "ends before it starts" },
        { "iomem read without root", "00000000-00000000 : Reserved\n00000000-00000000 : System RAM\n", 1, "root" },
        { "a log without e820 lines", "Linux version 6.1.0\nCommand line: quiet\n", 1, "no e820 line" },
        { "binary data", "BIOS-e820: [mem 0x0-0x9ffff] usable\n\0\u0001\u0002garbage", 2, "binary" },
    };

    [Theory]
    [MemberData(nameof(MalformedLines))]
    public void A_malformed_line_is_an_error_that_names_and_quotes_it(string name, string text, int line, string reason)
    {
        var error = Assert.Throws<MemoryMapException>(() => MemoryMap.Parse(text, "map.txt"));
        Assert.True(error.LineNumber == line, $"{name}: expected line {line}, got {error.LineNumber}: {error.Message}");
        Assert.Contains(reason, error.Message);
        Assert.StartsWith($"map.txt:{line}: ", error.Message);
        string atFault = text.Split('\n')[line - 1];
        Assert.Equal(atFault, error.Line);
        Assert.Contains($": \"{atFault[..Math.Min(20, atFault.IndexOf('\0') is >= 0 and var nul ? nul : atFault.Length)]}", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n   \n")]
    public void An_empty_map_is_an_error(string text)
    {
        var error = Assert.Throws<MemoryMapException>(() => MemoryMap.Parse(text, "empty.txt"));
        Assert.Contains("empty", error.Message);
        Assert.Null(error.LineNumber);
    }

    [Theory]
    [InlineData("BIOS-e820: [mem 0x0000000000000000-0x00000000ffffffff] reserved\n")]
    [InlineData("BIOS-e820: [mem 0x0000000000000800-0x0000000000000fff] usable\n")] // less than a whole page
    [InlineData("BIOS-e820: [mem 0x0000000000000000-0x000000000009ffff] usable\ne820: remove [mem 0x00000000-0x0009ffff] usable\n")]
    public void A_map_without_ram_is_an_error(string text)
    {
        var error = Assert.Throws<MemoryMapException>(() => MemoryMap.Parse(text, "noram.txt"));
        Assert.Contains("no usable RAM", error.Message);
    }

    [Fact]
    public void A_megabyte_of_binary_noise_is_a_line_numbered_error()
    {
        var noise = new byte[1 << 20];
        new Random(820).NextBytes(noise);
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, noise);
            var error = Assert.Throws<MemoryMapException>(() => MemoryMap.Load(path));
            Assert.NotNull(error.LineNumber);
            Assert.StartsWith($"{path}:{error.LineNumber}: ", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_missing_file_is_an_error_naming_it()
    {
        string path = Path.Combine(Path.GetTempPath(), "pamtgen-no-such-map.e820");
        var error = Assert.Throws<MemoryMapException>(() => MemoryMap.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("cannot read", error.Message);
    }

    [Fact]
    public void A_directory_that_is_not_a_memmap_is_an_error_naming_it()
    {
        string dir = Directory.CreateTempSubdirectory("notmemmap").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "x"));
            var error = Assert.Throws<MemoryMapException>(() => MemoryMap.Load(dir));
            Assert.Contains("not a numbered memmap entry", error.Message);
            Directory.Delete(Path.Combine(dir, "x"));
            Directory.CreateDirectory(Path.Combine(dir, "0"));
            error = Assert.Throws<MemoryMapException>(() => MemoryMap.Load(dir));
            Assert.Contains("start", error.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
