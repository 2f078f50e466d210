using BenchmarkDotNet.Attributes;
using PamtGen.Generator.Probe;

namespace PamtGen.Benchmarks;

/// <summary>
/// An existing-range walk over 2^20 mapped PTEs with a callback that sums them: the runtime's generic walker and a
/// delegate (baseline), the generated walker and a struct callback, and a flat loop over the same PTE tables (the limit).
/// </summary>
[MemoryDiagnoser]
public class WalkBenchmarks
{
    private const int Ptes = 1 << 20;
    private Mm _mm = null!;
    private ulong _start;
    private ulong _size;
    private Page[] _tables = [];

    [Params("x86-64 4-level", "arm64 64K")]
    public string Geometry { get; set; } = "x86-64 4-level";

    [GlobalSetup]
    public void Setup()
    {
        var geometry = Geometry == "arm64 64K" ? Arm64Granule64K.Geometry : X86_64FourLevel.Geometry;
        var allocator = PageAllocator.Synthetic(4096, geometry.PageShift);
        _mm = Geometry == "arm64 64K" ? new Arm64Granule64K.AddressSpace(allocator) : new X86_64FourLevel.AddressSpace(allocator);
        _start = new VmallocSpace(_mm).VmallocStart;
        _size = (ulong)Ptes << geometry.PageShift;
        // Map every PTE to some PFN; no data page is allocated, only the tables.
        int err = ReferenceWalkers.ApplyToPageRange(_mm, _start, _size, static (PtePointer pte, ulong addr, Mm mm) =>
        {
            ulong pa = ((addr >> mm.Geometry.PageShift) & 0xfffff) << mm.Geometry.PageShift;
            Pgtable.SetPteAt(mm, addr, pte, new Pte(mm.Geometry.MakeKernelPageEntry(pa))); // in the geometry's own format
            return 0;
        }, _mm);
        if (err != 0)
        {
            throw new InvalidOperationException($"setup failed: {err}");
        }

        var tables = new List<Page>();
        for (ulong addr = _start; addr < _start + _size; addr += geometry.Size(PageTableLevel.Pmd))
        {
            _mm.TryGetEntry(PageTableLevel.Pmd, addr, out ulong pmd);
            tables.Add(ModelMemory.Of(_mm).TableAt(geometry.TableAddress(pmd))!);
        }

        _tables = [.. tables];
    }

    [Benchmark(Baseline = true, Description = "generic walker + delegate")]
    public ulong Generic()
    {
        var sum = new Sum();
        ReferenceWalkers.ApplyToExistingPageRange(_mm, _start, _size, static (PtePointer pte, ulong addr, Sum s) =>
        {
            s.Value += Pgtable.PtepGet(pte).Value;
            return 0;
        }, sum);
        return sum.Value;
    }

    [Benchmark(Description = "generated walker + struct")]
    public ulong Generated()
    {
        var fn = new SumFn();
        if (Geometry == "arm64 64K")
        {
            Arm64Granule64K.ApplyToExistingPageRange((Arm64Granule64K.AddressSpace)_mm, _start, _size, ref fn);
        }
        else
        {
            X86_64FourLevel.ApplyToExistingPageRange((X86_64FourLevel.AddressSpace)_mm, _start, _size, ref fn);
        }

        return fn.Value;
    }

    [Benchmark(Description = "flat loop over the PTE tables")]
    public ulong FlatLoop()
    {
        ulong sum = 0;
        foreach (var table in _tables)
        {
            foreach (ulong pte in table.Storage)
            {
                if (pte != 0)
                {
                    sum += pte;
                }
            }
        }

        return sum;
    }

    private sealed class Sum
    {
        public ulong Value;
    }

    private struct SumFn : IPteFn
    {
        public ulong Value;

        public int Invoke(PtePointer pte, ulong addr)
        {
            Value += Pgtable.PtepGet(pte).Value;
            return 0;
        }
    }
}
