using BenchmarkDotNet.Attributes;
using PamtGen.Generator.Probe;

namespace PamtGen.Benchmarks;

/// <summary>
/// Translate on x86-64 4-level, 1024 reads of random addresses in 16 MiB of 4 KiB pages per invocation: the runtime's
/// per-level loop over its Geometry (the baseline), the generated walk, a walk hand-written here for this geometry, a TLB
/// hit, and a two-stage walk (the same stage 1 over AMD 4-level nested tables with 4 KiB pages, nothing cached); beside
/// them the generated walk of RISC-V Sv48 (4 levels too) over the same pages.
/// </summary>
public class TranslateBenchmarks
{
    private const int Addresses = 1024;
    private const ulong Base = 0x40_0000_0000;
    private const ulong Size = 16UL << 20;
    private readonly ulong[] _va = new ulong[Addresses];
    private X86_64FourLevel.AddressSpace _mm = null!;
    private X86_64FourLevel.AddressSpace _cached = null!;
    private X86_64FourLevel.AddressSpace _guest = null!;
    private RiscVSv48.AddressSpace _riscV = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        for (int i = 0; i < Addresses; i++)
        {
            _va[i] = Base + ((ulong)random.NextInt64((long)Size) & ~7UL);
        }

        _mm = Mapped(PageAllocator.Synthetic(1 << 14));
        _cached = Mapped(PageAllocator.Synthetic(1 << 14));
        _cached.TrackTlb();
        foreach (ulong va in _va)
        {
            Check(_cached.Translate(va, Access.Read));
        }

        var stage2 = new AmdNpt.AddressSpace(PageAllocator.Synthetic(1 << 14)); // AMD nested tables: user-accessible, as every nested access is a user access
        var guest = new GuestPhysicalSpace(stage2, [new GuestMemorySlot(0x1000_0000, 0x200_0000, 1UL << 40)], 12, 0x67, MapRangeOptions.PagesOnly);
        _guest = new X86_64FourLevel.AddressSpace(guest.Allocator);
        if (X86_64FourLevel.MapRange(_guest, Base, 0x1000_0000, Size, X86_64FourLevel.Entry.Page(0).WithWritable(true).WithAccessed(true), MapRangeOptions.PagesOnly) != 0)
        {
            throw new InvalidOperationException("the guest's mapping failed");
        }

        _riscV = new RiscVSv48.AddressSpace(PageAllocator.Synthetic(1 << 14));
        if (_riscV.MapRange(Base, 1UL << 32, Size, RiscVSv48.Entry.Page(0).WithRead(true).WithWrite(true).WithAccessed(true).WithDirty(true), MapRangeOptions.PagesOnly) != 0)
        {
            throw new InvalidOperationException("the RISC-V mapping failed");
        }

        // Every flavour must give the same answers before it is timed.
        foreach (ulong va in _va)
        {
            var expected = Translator.Translate(_mm, va, Access.Read);
            Check(expected);
            if (X86_64FourLevel.Translate(_mm, va, Access.Read) != expected || HandWritten(_mm, va, Access.Read) != expected)
            {
                throw new InvalidOperationException($"the walks disagree at 0x{va:x}");
            }

            Check(_guest.Translate(va, Access.Read));
            if (RiscVSv48.Translate(_riscV, va, Access.Read) is var riscV && (riscV != Translator.Translate(_riscV, va, Access.Read) || riscV.OutputAddress != expected.OutputAddress))
            {
                throw new InvalidOperationException($"the RISC-V walks disagree at 0x{va:x}");
            }
        }
    }

    [Benchmark(OperationsPerInvoke = Addresses, Description = "generated, RISC-V Sv48")]
    public ulong GeneratedRiscV()
    {
        ulong sum = 0;
        foreach (ulong va in _va)
        {
            sum += RiscVSv48.Translate(_riscV, va, Access.Read).OutputAddress;
        }

        return sum;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Addresses, Description = "runtime loop over Geometry")]
    public ulong RuntimeLoop()
    {
        ulong sum = 0;
        foreach (ulong va in _va)
        {
            sum += Translator.Translate(_mm, va, Access.Read).OutputAddress;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Addresses, Description = "generated")]
    public ulong Generated()
    {
        ulong sum = 0;
        foreach (ulong va in _va)
        {
            sum += X86_64FourLevel.Translate(_mm, va, Access.Read).OutputAddress;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Addresses, Description = "hand-written for x86-64 4-level")]
    public ulong HandWrittenX86()
    {
        ulong sum = 0;
        foreach (ulong va in _va)
        {
            sum += HandWritten(_mm, va, Access.Read).OutputAddress;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Addresses, Description = "generated, TLB hit")]
    public ulong TlbHit()
    {
        ulong sum = 0;
        foreach (ulong va in _va)
        {
            sum += X86_64FourLevel.Translate(_cached, va, Access.Read).OutputAddress;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Addresses, Description = "generated, two stages (4 over 4, 24 reads)")]
    public ulong Nested()
    {
        ulong sum = 0;
        foreach (ulong va in _va)
        {
            sum += X86_64FourLevel.Translate(_guest, va, Access.Read).OutputAddress;
        }

        return sum;
    }

    /// <summary>
    /// A translate written by hand for x86-64 4-level (SDM 4.5): PML4E, PDPTE, PDE, PTE, with its reserved bits, leaves and
    /// permission rules as constants. Faults are reported at the level they happen, as the generated walk does.
    /// </summary>
    public static Translation HandWritten(Mm mm, ulong va, Access access)
    {
        var allocator = mm.Allocator;
        ulong and = ~0UL, or = 0;
        ulong e = allocator.PfnToPage(mm.Pgd.PhysAddr >> 12).Storage[(int)((va >> 39) & 511)];
        if ((e & 1) == 0)
        {
            return Fault(FaultReason.NotPresent, PageTableLevel.P4d, access, va, 1);
        }

        if ((e & 0x80) != 0)
        {
            return Fault(FaultReason.ReservedBits, PageTableLevel.P4d, access, va, 1);
        }

        and &= e;
        or |= e;
        e = allocator.PfnToPage((e & 0xf_ffff_ffff_f000) >> 12).Storage[(int)((va >> 30) & 511)];
        if ((e & 1) == 0)
        {
            return Fault(FaultReason.NotPresent, PageTableLevel.Pud, access, va, 2);
        }

        if ((e & 0x80) != 0)
        {
            return (e & 0x3fff_e000) != 0 ? Fault(FaultReason.ReservedBits, PageTableLevel.Pud, access, va, 2) : Leaf(PageTableLevel.Pud, e, and, or, va, access, 2);
        }

        and &= e;
        or |= e;
        e = allocator.PfnToPage((e & 0xf_ffff_ffff_f000) >> 12).Storage[(int)((va >> 21) & 511)];
        if ((e & 1) == 0)
        {
            return Fault(FaultReason.NotPresent, PageTableLevel.Pmd, access, va, 3);
        }

        if ((e & 0x80) != 0)
        {
            return (e & 0x1f_e000) != 0 ? Fault(FaultReason.ReservedBits, PageTableLevel.Pmd, access, va, 3) : Leaf(PageTableLevel.Pmd, e, and, or, va, access, 3);
        }

        and &= e;
        or |= e;
        e = allocator.PfnToPage((e & 0xf_ffff_ffff_f000) >> 12).Storage[(int)((va >> 12) & 511)];
        return (e & 1) == 0 ? Fault(FaultReason.NotPresent, PageTableLevel.Pte, access, va, 4) : Leaf(PageTableLevel.Pte, e, and, or, va, access, 4);
    }

    private static Translation Leaf(PageTableLevel level, ulong e, ulong and, ulong or, ulong va, Access access, int reads)
    {
        and &= e;
        or |= e;
        bool w = (and & 2) != 0, u = (and & 4) != 0, x = (or >> 63) == 0;
        var kernel = Permissions.KernelRead | (w ? Permissions.KernelWrite : 0) | (x ? Permissions.KernelExecute : 0);
        var permissions = kernel | (u ? (Permissions)((int)kernel << 3) : 0);
        bool user = (access & Access.User) != 0;
        var needed = (access & Access.Execute) != 0 ? Permissions.KernelExecute : (access & Access.Write) != 0 ? Permissions.KernelWrite : Permissions.KernelRead;
        if ((permissions & (user ? (Permissions)((int)needed << 3) : needed)) == 0)
        {
            var reason = user && (permissions & needed) != 0 ? FaultReason.User : (access & Access.Execute) != 0 ? FaultReason.Execute : (access & Access.Write) != 0 ? FaultReason.Write : FaultReason.Read;
            return Fault(reason, level, access, va, reads);
        }

        int shift = level == PageTableLevel.Pte ? 12 : level == PageTableLevel.Pmd ? 21 : 30;
        ulong size = 1UL << shift;
        return new Translation(FaultReason.None, TranslationStage.Stage1, level, (e & 0xf_ffff_ffff_f000 & ~(size - 1)) + (va & (size - 1)), size, permissions, (e & 0x40) != 0, access, reads, va);
    }

    private static Translation Fault(FaultReason reason, PageTableLevel level, Access access, ulong va, int reads) =>
        new(reason, TranslationStage.Stage1, level, 0, 0, Permissions.None, false, access, reads, va);

    private static X86_64FourLevel.AddressSpace Mapped(PageAllocator allocator)
    {
        var mm = new X86_64FourLevel.AddressSpace(allocator);
        if (X86_64FourLevel.MapRange(mm, Base, 1UL << 32, Size, X86_64FourLevel.Entry.Page(0).WithWritable(true).WithAccessed(true).WithDirty(true), MapRangeOptions.PagesOnly) != 0)
        {
            throw new InvalidOperationException("mapping failed");
        }

        return mm;
    }

    private static void Check(Translation t)
    {
        if (!t.Ok)
        {
            throw new InvalidOperationException(t.ToString());
        }
    }
}
