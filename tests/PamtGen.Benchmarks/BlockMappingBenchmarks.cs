using BenchmarkDotNet.Attributes;
using PamtGen.Generator.Probe;

namespace PamtGen.Benchmarks;

/// <summary>
/// MapRange of 16 GiB of device-like physical memory on x86-64 4-level: 4 KiB pages only (baseline) against the largest
/// blocks (16 leaves of 1 GiB), each into a fresh address space; and a Split + Collapse round trip of a 2 MiB block.
/// </summary>
[MemoryDiagnoser]
public class BlockMappingBenchmarks
{
    private const ulong Size = 16UL << 30;
    private static readonly X86_64FourLevel.Entry Writable = X86_64FourLevel.Entry.Page(0).WithWritable(true);
    private X86_64FourLevel.AddressSpace _split = null!;

    [GlobalSetup(Target = nameof(SplitCollapse))]
    public void SetupSplit()
    {
        _split = new X86_64FourLevel.AddressSpace(PageAllocator.Synthetic(64));
        Check(X86_64FourLevel.MapRange(_split, 1UL << 30, 1UL << 32, 2UL << 20, Writable));
    }

    [Benchmark(Baseline = true, Description = "MapRange 16 GiB, 4 KiB pages only")]
    public long PagesOnly() => Map(MapRangeOptions.PagesOnly);

    [Benchmark(Description = "MapRange 16 GiB, largest blocks")]
    public long Blocks() => Map(default);

    [Benchmark(Description = "Split + Collapse of a 2 MiB block")]
    public int SplitCollapse()
    {
        Check(X86_64FourLevel.Split(_split, 1UL << 30, PageTableLevel.Pmd));
        Check(X86_64FourLevel.Collapse(_split, 1UL << 30, PageTableLevel.Pmd));
        return 0;
    }

    /// <summary>Maps 16 GiB at a 1 GiB-aligned address in a fresh address space; returns the table pages it took (root included).</summary>
    public static long Map(MapRangeOptions options)
    {
        var allocator = PageAllocator.Synthetic(1 << 14);
        var mm = new X86_64FourLevel.AddressSpace(allocator);
        Check(X86_64FourLevel.MapRange(mm, 1UL << 40, 1UL << 40, Size, Writable, options));
        return allocator.Stats.PageTablePages;
    }

    private static void Check(int err)
    {
        if (err != 0)
        {
            throw new InvalidOperationException($"failed: {err}");
        }
    }
}
