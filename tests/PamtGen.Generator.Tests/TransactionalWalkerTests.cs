using PamtGen.Generator.Probe;
using static PamtGen.Pgtable;

namespace PamtGen.Generator.Tests;

/// <summary>The generated ApplyToPageRangeTransactional and FreeEmptyTables (beyond the kernel).</summary>
public class TransactionalWalkerTests
{
    private const ulong Base = 0xffffc00000000000UL;
    private const ulong P = 4096, Pmd = 1UL << 21;

    private static X86_64FourLevel.AddressSpace NewMm() => new(PageAllocator.Synthetic(1 << 14));

    [Fact]
    public void Without_failures_it_is_apply_to_page_range_callback_for_callback()
    {
        for (int seed = 0; seed < 200; seed++)
        {
            var rng = new Random(seed);
            ulong start = Base + Pmd - ((ulong)rng.Next(0, 600) * P), size = (ulong)rng.Next(1, 1200) * P;
            var (a, callsA) = (NewMm(), new List<(ulong, ulong)>());
            var (b, callsB) = (NewMm(), new List<(ulong, ulong)>());
            var fnA = new RecordingMap(a, callsA);
            var fnB = new RecordingMap(b, callsB);
            var undo = new Unmap(b);
            Assert.Equal(X86_64FourLevel.ApplyToPageRange(a, start, size, ref fnA), X86_64FourLevel.ApplyToPageRangeTransactional(b, start, size, ref fnB, ref undo));
            Assert.Equal(callsA, callsB);
            Assert.Equal(a.Snapshot(), b.Snapshot());
            Assert.Equal((a.Allocator.Stats.DataPages, a.Allocator.Stats.PageTablePages), (b.Allocator.Stats.DataPages, b.Allocator.Stats.PageTablePages));
        }
    }

    [Fact]
    public void Every_failure_is_rolled_back_to_the_exact_state_before_the_call()
    {
        ulong start = Base + (3 * Pmd) - (5 * P), size = 700 * P; // across two PTE tables
        for (long k = 1; ; k++)
        {
            var mm = NewMm();
            Prepopulate(mm, start);
            var tables = mm.Snapshot();
            var stats = mm.Allocator.Stats;
            using var failure = mm.Allocator.FailNth(k);
            var mapped = new HashSet<ulong>();
            var fn = new RecordingMap(mm, [], mapped);
            var undo = new UndoMapped(mm, mapped);
            int err = X86_64FourLevel.ApplyToPageRangeTransactional(mm, start, size, ref fn, ref undo);
            if (!failure.Injected)
            {
                Assert.Equal(0, err); // the walk makes no k-th attempt: every one before failed once
                Assert.Equal(k - 1, failure.Attempts);
                Assert.True(k > 600);
                break;
            }

            Assert.Equal(-Errno.ENOMEM, err);
            Assert.Equal(tables, mm.Snapshot());
            Assert.Equal((stats.DataPages, stats.PageTablePages), (mm.Allocator.Stats.DataPages, mm.Allocator.Stats.PageTablePages));
        }
    }

    [Fact]
    public void A_callback_error_is_rolled_back_too()
    {
        var mm = NewMm();
        var before = mm.Snapshot();
        var mapped = new HashSet<ulong>();
        var fn = new FailingAt(mm, Base + (100 * P), mapped);
        var undo = new UndoMapped(mm, mapped);
        Assert.Equal(-Errno.EIO, X86_64FourLevel.ApplyToPageRangeTransactional(mm, Base, 200 * P, ref fn, ref undo));
        Assert.Equal(before, mm.Snapshot());
        Assert.Equal(1, mm.Allocator.Stats.PageTablePages);
        Assert.Equal(0, mm.Allocator.Stats.DataPages);
    }

    [Fact]
    public void Free_empty_tables_keeps_every_mapping_and_every_table_serving_addresses_outside_the_range()
    {
        for (int seed = 0; seed < 300; seed++)
        {
            var rng = new Random(seed);
            var mm = NewMm();
            ulong window = Base + (1UL << 30) - (2 * Pmd); // straddles a pud boundary: 4 PMDs
            ulong windowPages = 4 * 512;
            for (int step = 0; step < 6; step++)
            {
                ulong a = (ulong)rng.NextInt64((long)windowPages), n = (ulong)rng.Next(1, 700);
                n = Math.Min(n, windowPages - a);
                if (rng.Next(2) == 0)
                {
                    var map = new RecordingMap(mm, []);
                    X86_64FourLevel.ApplyToPageRange(mm, window + (a * P), n * P, ref map);
                }
                else
                {
                    var unmap = new Unmap(mm);
                    X86_64FourLevel.ApplyToExistingPageRange(mm, window + (a * P), n * P, ref unmap);
                }
            }

            var mapped = mm.Snapshot().Where(e => e.Level == PageTableLevel.Pte).ToList();
            ulong from = (ulong)rng.NextInt64((long)windowPages), count = (ulong)rng.Next(1, (int)(windowPages - from) + 1);
            ulong start = window + (from * P), end = start + (count * P);
            var upperBefore = mm.Snapshot().Where(e => e.Level != PageTableLevel.Pte).ToList();
            int freed = X86_64FourLevel.FreeEmptyTables(mm, start, end - start);
            var upperAfter = mm.Snapshot().Where(e => e.Level != PageTableLevel.Pte).ToList();

            Assert.Equal(mapped, mm.Snapshot().Where(e => e.Level == PageTableLevel.Pte).ToList()); // no mapping lost
            Assert.Equal(upperBefore.Count - freed, upperAfter.Count);
            foreach (var gone in upperBefore.Except(upperAfter))
            {
                // A freed table's whole span lies inside the range.
                ulong span = gone.Level == PageTableLevel.Pmd ? Pmd : gone.Level == PageTableLevel.Pud ? 1UL << 30 : 1UL << 39;
                ulong spanStart = (start & ~((1UL << 48) - 1)) | gone.Address;
                Assert.True(spanStart >= start && spanStart + span <= end, $"seed {seed}: freed {gone} outside [0x{start:x}, 0x{end:x})");
            }

            // Depopulate everything, reclaim everything: only the root is left.
            var all = new Unmap(mm);
            X86_64FourLevel.ApplyToExistingPageRange(mm, window, windowPages * P, ref all);
            X86_64FourLevel.FreeEmptyTables(mm, Base, 1UL << 45);
            Assert.Equal((0L, 1L), (mm.Allocator.Stats.DataPages, mm.Allocator.Stats.PageTablePages));
        }
    }

    private static void Prepopulate(X86_64FourLevel.AddressSpace mm, ulong start)
    {
        var fn = new RecordingMap(mm, []);
        Assert.Equal(0, X86_64FourLevel.ApplyToPageRange(mm, start + (3 * P), 4 * P, ref fn));
    }

    /// <summary>Maps a page where the PTE is none; records (addr, value seen) and which PTEs it mapped.</summary>
    private struct RecordingMap(Mm mm, List<(ulong, ulong)> calls, HashSet<ulong>? mapped = null) : IPteFn
    {
        public int Invoke(PtePointer pte, ulong addr)
        {
            calls.Add((addr, PtepGet(pte).Value));
            if (!PteNone(PtepGet(pte)))
            {
                return 0;
            }

            var page = mm.Allocator.AllocPage(Gfp.Zero);
            if (page is null)
            {
                return -Errno.ENOMEM;
            }

            SetPteAt(mm, addr, pte, MkPte(page, PageKernel));
            mapped?.Add(addr);
            return 0;
        }
    }

    /// <summary>Unmaps and frees every populated PTE (a depopulate).</summary>
    private readonly struct Unmap(Mm mm) : IPteFn
    {
        public int Invoke(PtePointer pte, ulong addr)
        {
            var entry = PtepGet(pte);
            if (!PteNone(entry))
            {
                PteClear(mm, addr, pte);
                mm.Allocator.FreePage(mm.Allocator.PtePage(entry));
            }

            return 0;
        }
    }

    /// <summary>The undo of a RecordingMap: unmaps only the PTEs the walk itself mapped, so what was there before stays.</summary>
    private readonly struct UndoMapped(Mm mm, HashSet<ulong> mapped) : IPteFn
    {
        public int Invoke(PtePointer pte, ulong addr) => mapped.Remove(addr) ? new Unmap(mm).Invoke(pte, addr) : 0;
    }

    private struct FailingAt(Mm mm, ulong failAt, HashSet<ulong> mapped) : IPteFn
    {
        public int Invoke(PtePointer pte, ulong addr) => addr == failAt ? -Errno.EIO : new RecordingMap(mm, [], mapped).Invoke(pte, addr);
    }
}
