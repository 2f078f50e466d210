namespace PamtGen;

/// <summary>
/// Deterministic fault injection for the page allocator, after the kernel's
/// <c>fail_page_alloc</c> (Documentation/fault-injection). Every allocation attempt, data page or
/// page-table page, is numbered from 1; the policy decides from that number alone, so a failing
/// run can be replayed exactly.
/// </summary>
public abstract class FailPageAlloc
{
    private FailPageAlloc() { }

    /// <summary>Never fail (fault injection off).</summary>
    public static FailPageAlloc Never { get; } = new NeverPolicy();

    /// <summary>Fail only allocation attempt number <paramref name="n"/> (1-based).</summary>
    public static FailPageAlloc Nth(long n) =>
        n >= 1 ? new NthPolicy(n) : throw new ArgumentOutOfRangeException(nameof(n), n, "attempts are numbered from 1");

    /// <summary>Let the first <paramref name="n"/> attempts succeed and fail every one after them.</summary>
    public static FailPageAlloc After(long n) =>
        n >= 0 ? new AfterPolicy(n) : throw new ArgumentOutOfRangeException(nameof(n), n, "must not be negative");

    /// <summary>Fail each attempt with probability <paramref name="p"/>, drawn from <paramref name="seed"/> and the attempt number.</summary>
    public static FailPageAlloc Probability(double p, ulong seed) =>
        p is >= 0 and <= 1 ? new ProbabilityPolicy(p, seed) : throw new ArgumentOutOfRangeException(nameof(p), p, "a probability is between 0 and 1");

    /// <summary>True when attempt number <paramref name="attempt"/> (1-based) must fail.</summary>
    public abstract bool ShouldFail(long attempt);

    private sealed class NeverPolicy : FailPageAlloc
    {
        public override bool ShouldFail(long attempt) => false;
        public override string ToString() => "never";
    }

    private sealed class NthPolicy(long n) : FailPageAlloc
    {
        public override bool ShouldFail(long attempt) => attempt == n;
        public override string ToString() => $"fail attempt {n}";
    }

    private sealed class AfterPolicy(long n) : FailPageAlloc
    {
        public override bool ShouldFail(long attempt) => attempt > n;
        public override string ToString() => $"fail every attempt after {n}";
    }

    private sealed class ProbabilityPolicy(double p, ulong seed) : FailPageAlloc
    {
        // A hash of (seed, attempt) rather than a stateful generator: the decision for attempt k
        // does not depend on which attempts were asked about before it.
        public override bool ShouldFail(long attempt) =>
            (SplitMix64(seed ^ SplitMix64((ulong)attempt)) >> 11) * (1.0 / (1UL << 53)) < p;

        public override string ToString() => $"fail with probability {p} (seed {seed})";
    }

    internal static ulong SplitMix64(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}

/// <summary>
/// Fault injection for the length of a <c>using</c> block: attempts are counted from the scope's start, and the policy the
/// allocator had before comes back when the scope is disposed. <see cref="Injected"/> says whether the scope's failure
/// happened, so an exhaustive test is a loop: <c>for (k = 1; ; k++) { using var f = allocator.FailNth(k); ...; if (!f.Injected) break; }</c>.
/// </summary>
public sealed class FaultInjectionScope : IDisposable
{
    private readonly PageAllocator _allocator;
    private readonly FailPageAlloc _previous;
    private readonly FailPageAlloc _policy;
    private readonly long _start;
    private readonly long _firstFailing;

    internal FaultInjectionScope(PageAllocator allocator, Func<long, FailPageAlloc> policy, long firstFailing)
    {
        _allocator = allocator;
        _previous = allocator.FaultInjection;
        _start = allocator.Stats.Attempts;
        _firstFailing = firstFailing;
        _policy = policy(_start);
        allocator.FaultInjection = _policy;
    }

    /// <summary>Allocation attempts made since the scope began.</summary>
    public long Attempts => _allocator.Stats.Attempts - _start;

    /// <summary>True once an attempt the scope fails was made (the k-th, or the first after the n allowed).</summary>
    public bool Injected => Attempts >= _firstFailing;

    /// <summary>Puts back the policy the allocator had before the scope.</summary>
    public void Dispose()
    {
        if (ReferenceEquals(_allocator.FaultInjection, _policy))
        {
            _allocator.FaultInjection = _previous;
        }
    }
}
