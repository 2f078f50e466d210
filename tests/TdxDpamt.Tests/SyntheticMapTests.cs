using PamtGen;
using PamtGen.MemoryMaps;
using TdxDpamt.Cli;

namespace TdxDpamt.Tests;

public class SyntheticMapTests
{
    [Fact]
    public void Nodes_ram_stride_and_base_lay_out_the_nodes()
    {
        var map = SyntheticMap.Parse("nodes=4,ram=64G,stride=1T,base=2T");
        Assert.Equal(
            Enumerable.Range(0, 4).Select(n => new PhysRange((2UL << 40) + ((ulong)n << 40), (2UL << 40) + ((ulong)n << 40) + (64UL << 30))),
            map.RamRanges);
    }

    [Fact]
    public void Explicit_ranges_and_low_memory()
    {
        var map = SyntheticMap.Parse("low=2G, ranges=0x100000000-0x4000000000;16T-17T");
        Assert.Equal([new PhysRange(1UL << 20, (1UL << 20) + (2UL << 30)), new PhysRange(1UL << 32, 0x4000000000), new PhysRange(16UL << 40, 17UL << 40)], map.RamRanges);
    }

    [Theory]
    [InlineData("nodes=2", "ram=")]
    [InlineData("ram=1G,ram=2G", "twice")]
    [InlineData("ram=1X", "not a size")]
    [InlineData("ram=1G,stride=512M", "stride at least ram")]
    [InlineData("ram=1G,ranges=0-1G", "not both")]
    [InlineData("ranges=2G-1G", "reversed")]
    [InlineData("nodes=16,ram=1T,stride=1P", "2^52")]
    [InlineData("speed=fast", "not one of")]
    public void Bad_specs_say_what_is_wrong(string spec, string reason)
    {
        var error = Assert.Throws<MemoryMapException>(() => SyntheticMap.Parse(spec));
        Assert.Contains(reason, error.Message);
    }
}
