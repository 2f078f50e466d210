using PamtGen.Generator.Probe;
using Xunit.Abstractions;
using static PamtGen.Pgtable;
using PamtGen.Testing;

namespace PamtGen.Generator.Tests;

/// <summary>
/// The generated walkers against the runtime's reference walkers, on random scenarios: ranges that cross
/// every level boundary, start at 0 or end near the top of the address space; random prior populations and
/// leaf entries; callbacks that map, unmap and fail at random; random allocation failures. Every callback
/// invocation (in order, with the PTE or entry value it saw), the return code, the final table state and the
/// allocator's accounting must be identical. One case in four also holds hostile entries (HostileEntries); then the
/// warnings the walkers record and the kernel BUG they raise, if any, must be identical too. CI runs 1 000 cases per geometry, scaled by
/// PAMTGEN_FUZZ_CASES (FuzzSize).
/// </summary>
public class DifferentialWalkerTests(ITestOutputHelper output)
{
    private static readonly int Cases =
        FuzzSize.Scaled(1_000);

    public static TheoryData<string> Names => ProbeGeometries.Theory();

    [Theory]
    [MemberData(nameof(Names))]
    public void Generated_walkers_match_the_reference_callback_for_callback(string name)
    {
        var kinds = new Dictionary<string, int>();
        for (int i = 0; i < Cases; i++)
        {
            var scenario = Scenario.Random(name, seed: (ulong)i * 0x9E3779B97F4A7C15UL + (ulong)name.Length);
            var generated = scenario.Run(useGenerated: true);
            var reference = scenario.Run(useGenerated: false);
            string what = $"case {i} ({scenario})";
            Assert.True(reference.Calls.SequenceEqual(generated.Calls), $"{what}: callbacks differ\nreference: {string.Join(", ", reference.Calls.Take(12))}\ngenerated: {string.Join(", ", generated.Calls.Take(12))}");
            Assert.True(reference.Result == generated.Result, $"{what}: returned {generated.Result}, reference {reference.Result}");
            Assert.True(reference.Tables.SequenceEqual(generated.Tables), $"{what}: table state differs");
            Assert.True(reference.Stats == generated.Stats, $"{what}: accounting differs: {generated.Stats} vs {reference.Stats}");
            Assert.True(reference.Warnings.SequenceEqual(generated.Warnings), $"{what}: warnings differ\nreference: {string.Join(" | ", reference.Warnings)}\ngenerated: {string.Join(" | ", generated.Warnings)}");
            Assert.True(reference.Bug == generated.Bug, $"{what}: BUG differs: {generated.Bug} vs {reference.Bug}");
            string kind = $"{scenario.Operation}:{(reference.Bug is not null ? "BUG" : reference.Result == 0 ? "ok" : reference.Result.ToString(System.Globalization.CultureInfo.InvariantCulture))}{(reference.Warnings.Count > 0 ? "+WARN" : "")}";
            kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
        }

        output.WriteLine($"{name}: {Cases} cases, identical; outcomes: {string.Join(", ", kinds.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}"))}");
        Assert.True(kinds.Keys.Count(k => !k.EndsWith(":ok", StringComparison.Ordinal)) >= 3, "the cases must exercise failures too");
    }

    private enum Operation
    {
        Apply,
        ApplyExisting,
        Walk,
    }

    /// <summary>One callback invocation: which callback, where, and the value it saw.</summary>
    private readonly record struct Call(char Kind, ulong Addr, ulong Next, ulong Value);

    private sealed record Outcome(List<Call> Calls, int Result, IReadOnlyList<EntryState> Tables, AllocatorStats Stats, IReadOnlyList<string> Warnings, string? Bug);

    private sealed record Scenario(
        string Name, ulong Seed, Geometry Geometry, ulong Window, int WindowPages, int[] Prior, (PageTableLevel Level, int Page)? Leaf,
        Operation Operation, ulong Start, ulong Size, PageWalkCallbacks Callbacks, int FailNth, double FailProbability, int HostileSeed)
    {
        public override string ToString() =>
            $"{Operation} [0x{Start:x} +0x{Size:x}) window 0x{Window:x}, {Prior.Length} prior, leaf {Leaf?.Level}, hostile seed {HostileSeed}, callbacks {Callbacks}, fail attempt {FailNth} after setup, fail probability {FailProbability}";

        public static Scenario Random(string name, ulong seed)
        {
            var rng = new Random((int)(seed ^ (seed >> 32)));
            var g = ProbeGeometries.GeometryOf(name);
            ulong page = g.PageSize;
            int windowPages = rng.Next(1, Math.Min(3 * g.PtrsPerTable, 2048));

            // Where the window sits: at 0, just below a boundary of some level, near the top, or anywhere.
            var level = (PageTableLevel)rng.Next(0, 4);
            ulong boundary = g.Size(level) * (ulong)rng.Next(1, 4);
            ulong below = (ulong)rng.Next(0, windowPages) * page;
            ulong window = rng.Next(6) switch
            {
                0 => 0,
                1 => 0 - ((ulong)windowPages + (ulong)rng.Next(0, 3)) * page, // ends at or near 2^64
                2 => (ulong)rng.NextInt64() & ~(page - 1),
                _ => 0xffff_c000_0000_0000UL + boundary - below,
            };

            var prior = Enumerable.Range(0, rng.Next(0, 24)).Select(_ => rng.Next(windowPages)).Distinct().ToArray();
            (PageTableLevel, int)? leaf = rng.Next(8) == 0 ? (rng.Next(2) == 0 || g.Levels < 3 ? PageTableLevel.Pmd : PageTableLevel.Pud, rng.Next(windowPages)) : null;
            var operation = (Operation)rng.Next(3);
            ulong start = window + (ulong)rng.Next(windowPages) * page;
            ulong size = rng.Next(20) switch
            {
                0 => 0, // empty: -EINVAL
                1 => ulong.MaxValue - (page * 3) + 1, // wraps: -EINVAL
                _ => (ulong)rng.Next(1, windowPages + 1) * page,
            };
            PageWalkCallbacks[] callbackSets = [OpsPteAndHole.Set, OpsAll.Set, OpsHoleOnly.Set, OpsPmdAndHole.Set, OpsPudOnly.Set];
            int failure = rng.Next(4);
            int failNth = failure == 1 ? rng.Next(1, 12) : 0;
            double failProbability = failure == 0 ? (rng.Next(2) == 0 ? 0.05 : 0.3) : 0;
            int hostileSeed = rng.Next(4) == 0 ? rng.Next(1, int.MaxValue) : 0;
            return new Scenario(name, seed, g, window, windowPages, prior, leaf, operation, start, size, callbackSets[rng.Next(callbackSets.Length)], failNth, failProbability, hostileSeed);
        }

        /// <summary>Builds the machine the same way each time, then runs the operation through one walker implementation.</summary>
        public Outcome Run(bool useGenerated)
        {
            var allocator = PageAllocator.Synthetic(1 << 14, Geometry.PageShift);
            var mm = ProbeGeometries.AddressSpaceOf(Name, allocator);
            var state = new CallbackState(mm, Seed);
            foreach (int p in Prior)
            {
                ReferenceWalkers.ApplyToPageRange(mm, Window + (ulong)p * Geometry.PageSize, Geometry.PageSize, MapOne, state);
            }

            if (Leaf is { } leaf)
            {
                // A block in the geometry's own format where it has blocks (an arm64 block descriptor on arm64), else an
                // entry that is neither none nor valid: the walkers must stop at both as the kernel's pXd_leaf()/pXd_bad() do.
                ulong value = Geometry.HoldsLeaves(leaf.Level) ? Geometry.MakeLeafEntry(leaf.Level, 5 * Geometry.Size(leaf.Level), ProbeGeometries.LeafFields(Geometry)) : 0x2;
                mm.SetEntry(leaf.Level, Window + (ulong)leaf.Page * Geometry.PageSize, value);
            }

            if (HostileSeed != 0)
            {
                HostileEntries.Corrupt(mm, new Random(HostileSeed));
            }

            // Failures count from the operation's first allocation, after the setup's.
            if (FailNth > 0)
            {
                allocator.FaultInjection = FailPageAlloc.Nth(allocator.Stats.Attempts + FailNth);
            }
            else if (FailProbability > 0)
            {
                allocator.FaultInjection = FailPageAlloc.Probability(FailProbability, Seed);
            }

            int result = 0;
            string? bug = null;
            try
            {
                result = (Operation, useGenerated) switch
                {
                    (Operation.Apply, true) => ApplyGenerated(mm, state, create: true),
                    (Operation.ApplyExisting, true) => ApplyGenerated(mm, state, create: false),
                    (Operation.Apply, false) => ReferenceWalkers.ApplyToPageRange(mm, Start, Size, CallbackState.Apply, state),
                    (Operation.ApplyExisting, false) => ReferenceWalkers.ApplyToExistingPageRange(mm, Start, Size, CallbackState.Apply, state),
                    (_, true) => WalkGenerated(mm, state),
                    (_, false) => ReferenceWalkers.WalkPageRange(mm, Start, Start + Size, state.ReferenceOps(Callbacks), state),
                };
            }
            catch (KernelBugException e) when (HostileSeed != 0)
            {
                bug = e.Message; // only hostile tables may make a walker BUG, and both must BUG alike
            }

            return new Outcome(state.Calls, result, mm.Snapshot(), allocator.Stats, [.. mm.Warnings], bug);
        }

        private int ApplyGenerated(Mm mm, CallbackState state, bool create)
        {
            var fn = new ApplyFn(state);
            Assert.NotEqual(typeof(Mm), mm.GetType()); // a generated AddressSpace: its overrides are the generated walkers
            return create ? mm.ApplyToPageRange(Start, Size, ref fn) : mm.ApplyToExistingPageRange(Start, Size, ref fn);
        }

        private int WalkGenerated(Mm mm, CallbackState state) => Callbacks switch
        {
            var c when c == OpsPteAndHole.Set => Walk(mm, new OpsPteAndHole(state)),
            var c when c == OpsAll.Set => Walk(mm, new OpsAll(state)),
            var c when c == OpsHoleOnly.Set => Walk(mm, new OpsHoleOnly(state)),
            var c when c == OpsPmdAndHole.Set => Walk(mm, new OpsPmdAndHole(state)),
            _ => Walk(mm, new OpsPudOnly(state)),
        };

        private int Walk<TOps>(Mm mm, TOps ops)
            where TOps : struct, IPageWalkOps
        {
            Assert.NotEqual(typeof(Mm), mm.GetType());
            return mm.WalkPageRange(Start, Start + Size, ref ops);
        }

        private static int MapOne(PtePointer pte, ulong addr, CallbackState state)
        {
            if (PteNone(PtepGet(pte)) && state.Mm.Allocator.AllocPage(Gfp.Zero) is { } page)
            {
                state.Owned.Add(page.Pfn);
                SetPteAt(state.Mm, addr, pte, CallbackState.PageEntry(state.Mm, page));
            }

            return 0;
        }
    }

    /// <summary>The callbacks' shared state: the record of calls, and a deterministic choice of what each call does.</summary>
    private sealed class CallbackState(Mm mm, ulong seed)
    {
        public Mm Mm { get; } = mm;

        public List<Call> Calls { get; } = [];

        /// <summary>The pages the callbacks mapped: the only ones they free (a hostile PTE may map anything, the root included).</summary>
        public HashSet<ulong> Owned { get; } = [];

        /// <summary>A pte_fn_t that maps a page into some none PTEs, unmaps some present ones, and now and then fails.</summary>
        public static int Apply(PtePointer pte, ulong addr, CallbackState state)
        {
            var entry = PtepGet(pte);
            state.Calls.Add(new Call('f', addr, 0, entry.Value));
            ulong roll = state.Roll();
            if (roll % 499 == 0)
            {
                return roll % 2 == 0 ? -Errno.EIO : 7;
            }

            if (PteNone(entry) && roll % 5 == 0)
            {
                var page = state.Mm.Allocator.AllocPage(Gfp.Zero);
                if (page is null)
                {
                    return -Errno.ENOMEM;
                }

                state.Owned.Add(page.Pfn);
                SetPteAt(state.Mm, addr, pte, PageEntry(state.Mm, page));
            }
            else if (!PteNone(entry) && roll % 3 == 0)
            {
                PteClear(state.Mm, addr, pte);
                var geometry = state.Mm.Geometry;
                ulong pfn = geometry.LeafAddress(PageTableLevel.Pte, entry.Value) >> geometry.PageShift;
                if (state.Owned.Remove(pfn))
                {
                    state.Mm.Allocator.FreePage(state.Mm.Allocator.PfnToPage(pfn));
                }
            }

            return 0;
        }

        /// <summary>mk_pte() in the geometry's own format.</summary>
        public static Pte PageEntry(Mm mm, Page page) => new(mm.Geometry.MakeLeafEntry(PageTableLevel.Pte, page.PhysAddr, ProbeGeometries.LeafFields(mm.Geometry)));

        public int PteEntry(PtePointer pte, ulong addr, ulong next) => Record('e', addr, next, Pgtable.PtepGet(pte).Value);

        public int PteHole(ulong addr, ulong next, int depth) => Record('h', addr, next, (ulong)depth);

        public int PmdEntry(PmdPointer pmd, ulong addr, ulong next) => Record('m', addr, next, Pgtable.PmdpGet(pmd).Value);

        public int PudEntry(PudPointer pud, ulong addr, ulong next) => Record('u', addr, next, Pgtable.PudpGet(pud).Value);

        public MmWalkOps<CallbackState> ReferenceOps(PageWalkCallbacks callbacks) => new()
        {
            PteEntry = (callbacks & PageWalkCallbacks.PteEntry) != 0 ? (PtePointer pte, ulong a, ulong n, CallbackState s) => s.PteEntry(pte, a, n) : null,
            PteHole = (callbacks & PageWalkCallbacks.PteHole) != 0 ? (ulong a, ulong n, int d, CallbackState s) => s.PteHole(a, n, d) : null,
            PmdEntry = (callbacks & PageWalkCallbacks.PmdEntry) != 0 ? (PmdPointer pmd, ulong a, ulong n, CallbackState s) => s.PmdEntry(pmd, a, n) : null,
            PudEntry = (callbacks & PageWalkCallbacks.PudEntry) != 0 ? (PudPointer pud, ulong a, ulong n, CallbackState s) => s.PudEntry(pud, a, n) : null,
        };

        private int Record(char kind, ulong addr, ulong next, ulong value)
        {
            Calls.Add(new Call(kind, addr, next, value));
            ulong roll = Roll();
            return roll % 199 == 0 ? -Errno.EIO : 0;
        }

        /// <summary>The decision for the next call: a function of the seed and the call's number only.</summary>
        private ulong Roll()
        {
            ulong x = seed + ((ulong)Calls.Count * 0x9E3779B97F4A7C15UL);
            x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
            x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
            return x ^ (x >> 31);
        }
    }

    private readonly struct ApplyFn(CallbackState state) : IPteFn
    {
        public int Invoke(PtePointer pte, ulong addr) => CallbackState.Apply(pte, addr, state);
    }

    // One ops type per set of callbacks: the set is a static property, as the kernel's mm_walk_ops are constant.
    private readonly struct OpsPteAndHole(CallbackState s) : IPageWalkOps
    {
        public const PageWalkCallbacks Set = PageWalkCallbacks.PteEntry | PageWalkCallbacks.PteHole;

        public int PteEntry(PtePointer pte, ulong addr, ulong next) => s.PteEntry(pte, addr, next);

        public int PteHole(ulong addr, ulong next, int depth) => s.PteHole(addr, next, depth);

        public int PmdEntry(PmdPointer pmd, ulong addr, ulong next) => throw new InvalidOperationException("not declared");

        public int PudEntry(PudPointer pud, ulong addr, ulong next) => throw new InvalidOperationException("not declared");
    }

    private readonly struct OpsAll(CallbackState s) : IPageWalkOps
    {
        public const PageWalkCallbacks Set = PageWalkCallbacks.PteEntry | PageWalkCallbacks.PteHole | PageWalkCallbacks.PmdEntry | PageWalkCallbacks.PudEntry;

        static PageWalkCallbacks IPageWalkOps.Callbacks => Set;

        public int PteEntry(PtePointer pte, ulong addr, ulong next) => s.PteEntry(pte, addr, next);

        public int PteHole(ulong addr, ulong next, int depth) => s.PteHole(addr, next, depth);

        public int PmdEntry(PmdPointer pmd, ulong addr, ulong next) => s.PmdEntry(pmd, addr, next);

        public int PudEntry(PudPointer pud, ulong addr, ulong next) => s.PudEntry(pud, addr, next);
    }

    private readonly struct OpsHoleOnly(CallbackState s) : IPageWalkOps
    {
        public const PageWalkCallbacks Set = PageWalkCallbacks.PteHole;

        static PageWalkCallbacks IPageWalkOps.Callbacks => Set;

        public int PteEntry(PtePointer pte, ulong addr, ulong next) => throw new InvalidOperationException("not declared");

        public int PteHole(ulong addr, ulong next, int depth) => s.PteHole(addr, next, depth);

        public int PmdEntry(PmdPointer pmd, ulong addr, ulong next) => throw new InvalidOperationException("not declared");

        public int PudEntry(PudPointer pud, ulong addr, ulong next) => throw new InvalidOperationException("not declared");
    }

    private readonly struct OpsPmdAndHole(CallbackState s) : IPageWalkOps
    {
        public const PageWalkCallbacks Set = PageWalkCallbacks.PmdEntry | PageWalkCallbacks.PteHole;

        static PageWalkCallbacks IPageWalkOps.Callbacks => Set;

        public int PteEntry(PtePointer pte, ulong addr, ulong next) => throw new InvalidOperationException("not declared");

        public int PteHole(ulong addr, ulong next, int depth) => s.PteHole(addr, next, depth);

        public int PmdEntry(PmdPointer pmd, ulong addr, ulong next) => s.PmdEntry(pmd, addr, next);

        public int PudEntry(PudPointer pud, ulong addr, ulong next) => throw new InvalidOperationException("not declared");
    }

    private readonly struct OpsPudOnly(CallbackState s) : IPageWalkOps
    {
        public const PageWalkCallbacks Set = PageWalkCallbacks.PudEntry;

        static PageWalkCallbacks IPageWalkOps.Callbacks => Set;

        public int PteEntry(PtePointer pte, ulong addr, ulong next) => throw new InvalidOperationException("not declared");

        public int PteHole(ulong addr, ulong next, int depth) => throw new InvalidOperationException("not declared");

        public int PmdEntry(PmdPointer pmd, ulong addr, ulong next) => throw new InvalidOperationException("not declared");

        public int PudEntry(PudPointer pud, ulong addr, ulong next) => s.PudEntry(pud, addr, next);
    }
}
