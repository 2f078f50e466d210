namespace PamtGen.Runtime.Tests;

public class PageAllocatorTests
{
    [Fact]
    public void Pfns_come_from_ram_ranges_in_order_and_freed_ones_are_reused_first()
    {
        var allocator = new PageAllocator([new PfnRange(0x10, 0x12), new PfnRange(0x100, 0x102)]);
        var pfns = Enumerable.Range(0, 4).Select(_ => allocator.AllocPage(Gfp.Kernel)!.Pfn).ToArray();
        Assert.Equal([0x10UL, 0x11, 0x100, 0x101], pfns);
        Assert.Null(allocator.AllocPage(Gfp.Kernel)); // out of RAM
        allocator.FreePage(allocator.PfnToPage(0x11));
        Assert.Equal(0x11UL, allocator.AllocPage(Gfp.Kernel)!.Pfn);
        Assert.Equal(1, allocator.Stats.Failures);
    }

    [Fact]
    public void Gfp_zero_zeroes_and_without_it_the_page_is_poisoned()
    {
        var allocator = PageAllocator.Synthetic(4);
        Assert.All(allocator.AllocPage(Gfp.Kernel | Gfp.Zero)!.Bytes.ToArray(), b => Assert.Equal(0, b));
        Assert.All(allocator.AllocPage(Gfp.Kernel)!.Bytes.ToArray(), b => Assert.Equal(PageAllocator.PagePoison, b));
    }

    [Fact]
    public void Accounting_splits_data_and_page_table_pages_and_keeps_peaks()
    {
        var allocator = PageAllocator.Synthetic(16);
        var data = Enumerable.Range(0, 3).Select(_ => allocator.AllocPage(Gfp.Zero)!).ToList();
        var table = allocator.AllocPageTable(512)!;
        allocator.FreePage(data[0]);
        allocator.FreePage(table);
        var stats = allocator.Stats;
        Assert.Equal(new AllocatorStats(DataPages: 2, PageTablePages: 0, PeakPages: 4, PeakDataPages: 3, PeakPageTablePages: 1, Attempts: 4, Failures: 0, Frees: 2), stats);
        Assert.Equal([new LeakedPage(data[1].Pfn, PagePurpose.Data), new LeakedPage(data[2].Pfn, PagePurpose.Data)], allocator.LeakReport());
        string report = allocator.FormatLeakReport();
        Assert.StartsWith("2 page(s) still allocated: 2 data, 0 page-table", report);
        Assert.Contains($"pfn 0x{data[1].Pfn:x} (data)", report);
    }

    [Fact]
    public void Freeing_a_page_twice_is_a_kernel_bug_naming_the_pfn()
    {
        var allocator = PageAllocator.Synthetic(4);
        var page = allocator.AllocPage(Gfp.Kernel)!;
        allocator.FreePage(page);
        var bug = Assert.Throws<KernelBugException>(() => allocator.FreePage(page));
        Assert.Equal(page.Pfn, bug.Pfn);
        Assert.Contains($"pfn 0x{page.Pfn:x}", bug.Message);
        Assert.Contains("double free", bug.Message);
    }

    [Fact]
    public void Freeing_a_stale_handle_whose_pfn_was_reallocated_is_a_kernel_bug()
    {
        var allocator = PageAllocator.Synthetic(4);
        var stale = allocator.AllocPage(Gfp.Kernel)!;
        allocator.FreePage(stale);
        var current = allocator.AllocPage(Gfp.Kernel)!;
        Assert.Equal(stale.Pfn, current.Pfn);
        Assert.Throws<KernelBugException>(() => allocator.FreePage(stale));
        Assert.False(current.IsFreed);
    }

    [Fact]
    public void Freeing_a_page_this_allocator_never_allocated_is_a_kernel_bug_naming_the_pfn()
    {
        var other = PageAllocator.Synthetic(4, firstPfn: 0x777);
        var allocator = PageAllocator.Synthetic(4);
        var bug = Assert.Throws<KernelBugException>(() => allocator.FreePage(other.AllocPage(Gfp.Kernel)!));
        Assert.Equal(0x777UL, bug.Pfn);
        Assert.Contains("never allocated", bug.Message);
        Assert.Throws<KernelBugException>(() => allocator.PfnToPage(0x12345));
    }

    [Fact]
    public void Pfn_to_page_never_finds_a_freed_page_through_its_lock_free_path()
    {
        var allocator = PageAllocator.Synthetic(4096);
        var first = allocator.AllocPage(Gfp.Zero)!;
        Assert.Same(first, allocator.PfnToPage(first.Pfn)); // now in the fast path's slot
        allocator.FreePage(first);
        var bug = Assert.Throws<KernelBugException>(() => allocator.PfnToPage(first.Pfn));
        Assert.Contains("not allocated", bug.Message);
        var again = allocator.AllocPage(Gfp.Zero)!; // freed PFNs are reused first: the same PFN, a new page
        Assert.Equal(first.Pfn, again.Pfn);
        Assert.Same(again, allocator.PfnToPage(again.Pfn));

        // Two PFNs sharing a slot (1024 apart) each find their own page.
        var pages = Enumerable.Range(0, 1100).Select(_ => allocator.AllocPage(Gfp.Kernel)!).ToList();
        foreach (var page in pages.Concat(pages))
        {
            Assert.Same(page, allocator.PfnToPage(page.Pfn));
        }
    }

    [Fact]
    public void Using_a_page_after_freeing_it_is_a_kernel_bug()
    {
        var allocator = PageAllocator.Synthetic(4);
        var page = allocator.AllocPage(Gfp.Zero)!;
        allocator.FreePage(page);
        Assert.Throws<KernelBugException>(() => page.AtomicAt(0));
    }

    [Fact]
    public void Fault_injection_fails_the_nth_attempt_only()
    {
        var allocator = PageAllocator.Synthetic(16);
        allocator.FaultInjection = FailPageAlloc.Nth(3);
        var results = Enumerable.Range(0, 5).Select(_ => allocator.AllocPage(Gfp.Kernel) is not null).ToArray();
        Assert.Equal([true, true, false, true, true], results);
    }

    [Fact]
    public void Fault_injection_fails_every_attempt_after_n()
    {
        var allocator = PageAllocator.Synthetic(16);
        allocator.FaultInjection = FailPageAlloc.After(2);
        var results = Enumerable.Range(0, 5).Select(_ => allocator.AllocPageTable(512) is not null).ToArray();
        Assert.Equal([true, true, false, false, false], results);
        Assert.Equal(3, allocator.Stats.Failures);
    }

    [Fact]
    public void A_fault_injection_scope_counts_from_its_start_and_puts_the_policy_back()
    {
        var allocator = PageAllocator.Synthetic(32);
        allocator.AllocPage(Gfp.Kernel); // attempts before the scope do not count
        allocator.AllocPage(Gfp.Kernel);
        var outer = FailPageAlloc.Probability(0, 1);
        allocator.FaultInjection = outer;
        using (var failure = allocator.FailNth(2))
        {
            Assert.False(failure.Injected);
            Assert.NotNull(allocator.AllocPage(Gfp.Kernel));
            Assert.Null(allocator.AllocPageTable(512)); // the scope's second attempt, data or table alike
            Assert.True(failure.Injected);
            Assert.NotNull(allocator.AllocPage(Gfp.Kernel));
            Assert.Equal(3, failure.Attempts);
        }

        Assert.Same(outer, allocator.FaultInjection);
        using (var failure = allocator.FailAfter(1))
        {
            Assert.NotNull(allocator.AllocPage(Gfp.Kernel));
            Assert.False(failure.Injected);
            Assert.Null(allocator.AllocPage(Gfp.Kernel));
            Assert.Null(allocator.AllocPage(Gfp.Kernel));
            Assert.True(failure.Injected);
        }

        using (var nothing = allocator.FailAfter(0))
        {
            Assert.Equal(0, nothing.Attempts);
            Assert.False(nothing.Injected); // no attempt, no failure: an operation that needs no allocation passes under it
        }

        Assert.Same(outer, allocator.FaultInjection);
        Assert.Throws<ArgumentOutOfRangeException>(() => allocator.FailNth(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => allocator.FailAfter(-1));
    }

    [Fact]
    public void Fault_injection_by_probability_is_deterministic_per_seed_and_near_p()
    {
        static bool[] Run(ulong seed)
        {
            var allocator = PageAllocator.Synthetic(20_000);
            allocator.FaultInjection = FailPageAlloc.Probability(0.25, seed);
            return Enumerable.Range(0, 10_000).Select(_ => allocator.AllocPage(Gfp.Kernel) is null).ToArray();
        }

        var first = Run(42);
        Assert.Equal(first, Run(42));
        Assert.NotEqual(first, Run(43));
        double rate = first.Count(f => f) / 10_000.0;
        Assert.InRange(rate, 0.23, 0.27);
    }

    [Fact]
    public void Never_fails_with_probability_zero_and_always_with_one()
    {
        var allocator = PageAllocator.Synthetic(200);
        allocator.FaultInjection = FailPageAlloc.Probability(0, 1);
        Assert.All(Enumerable.Range(0, 100), _ => Assert.NotNull(allocator.AllocPage(Gfp.Kernel)));
        allocator.FaultInjection = FailPageAlloc.Probability(1, 1);
        Assert.All(Enumerable.Range(0, 100), _ => Assert.Null(allocator.AllocPage(Gfp.Kernel)));
    }

    [Fact]
    public void Atomic_refcounts_in_a_page_work_with_interlocked()
    {
        var page = PageAllocator.Synthetic(1).AllocPage(Gfp.Zero)!;
        Parallel.For(0, 8, _ =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                Interlocked.Increment(ref page.AtomicAt(4092));
            }
        });
        Assert.Equal(80_000, page.AtomicAt(4092));
        Assert.Throws<ArgumentOutOfRangeException>(() => page.AtomicAt(4096));
        Assert.Throws<ArgumentOutOfRangeException>(() => page.AtomicAt(2));
    }
}
