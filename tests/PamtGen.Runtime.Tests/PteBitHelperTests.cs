using static PamtGen.Pgtable;

namespace PamtGen.Runtime.Tests;

/// <summary>The pte bit helpers the kernel callback corpus uses, bit for bit against the x86 layout the model writes.</summary>
public class PteBitHelperTests
{
    private static readonly Pte Mapped = PfnPte(0x12345, PageKernel);

    [Fact]
    public void Set_and_clear_pte_bit_change_exactly_the_bits_of_the_mask()
    {
        var mask = new PgProt(1UL << 63 | 1UL << 2);
        Assert.Equal(Mapped.Value | mask.Value, SetPteBit(Mapped, mask).Value);
        Assert.Equal(Mapped.Value & ~(ulong)PteFlags.ReadWrite, ClearPteBit(Mapped, new PgProt((ulong)PteFlags.ReadWrite)).Value);
        Assert.Equal(Mapped, ClearPteBit(SetPteBit(Mapped, mask), mask));
        Assert.Equal(0x12345UL, PtePfn(SetPteBit(Mapped, mask)) & 0xfffff);
    }

    [Fact]
    public void Special_write_protect_and_make_write_are_the_x86_bits()
    {
        Assert.Equal(Mapped.Value | 1UL << 9, PteMkspecial(Mapped).Value);
        Assert.Equal(Mapped.Value & ~2UL, PteWrprotect(Mapped).Value);
        Assert.Equal(Mapped, PteMkwrite(PteWrprotect(Mapped)));
        Assert.Equal(PtePfn(Mapped), PtePfn(PteMkspecial(PteWrprotect(Mapped))));
    }

    [Fact]
    public void Pte_update_clears_then_sets_in_place_and_returns_the_old_entry()
    {
        var mm = new Mm(Geometry.X86_64FourLevel, PageAllocator.Synthetic(16));
        Assert.True(mm.SetEntry(PageTableLevel.Pte, 0x1000, Mapped.Value));
        var entry = mm.VirtToKpte(0x1000)!.Value;
        ulong old = PteUpdate(mm, 0x1000, entry, clr: (ulong)PteFlags.ReadWrite, set: 1UL << 63);
        Assert.Equal(Mapped.Value, old);
        Assert.Equal((Mapped.Value & ~(ulong)PteFlags.ReadWrite) | 1UL << 63, PtepGet(entry).Value);
    }

    [Fact]
    public void Pte_update_loses_no_update_under_contention()
    {
        var mm = new Mm(Geometry.X86_64FourLevel, PageAllocator.Synthetic(16));
        Assert.True(mm.SetEntry(PageTableLevel.Pte, 0, 0));
        var entry = mm.VirtToKpte(0)!.Value;
        Parallel.For(0, 8, bit =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                PteUpdate(mm, 0, entry, clr: 0, set: 1UL << (52 + bit));
                PteUpdate(mm, 0, entry, clr: 1UL << (52 + bit), set: 0);
            }

            PteUpdate(mm, 0, entry, clr: 0, set: 1UL << (52 + bit));
        });
        Assert.Equal(0xffUL << 52, PtepGet(entry).Value);
    }
}
