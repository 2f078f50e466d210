using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace PamtGen.Generator.Analyzers;

/// <summary>
/// PG0006's analysis of a PTE callback on a format with break-before-make. A path's state is what the PTE holds (none;
/// the entry it held when the callback started, kept up to changes that need no break-before-make; or another entry),
/// what the TLB may still hold for its address that no invalidation removed since the PTE stopped holding it (of the
/// same two kinds), and whether the address is in a <c>TlbGather</c> not flushed yet. There are 24 such states; a fact
/// is the set of them some path reaches (a bit each), so paths meet by union and nothing is lost where they do: the
/// rule is exactly "on some path". A write is a finding when, on some path, the PTE may hold, or the TLB may still
/// cache, an entry the new value differs from in a way that needs break-before-make: the model's strict TLB mode,
/// followed statically.
/// </summary>
/// <remarks>
/// As with PG0001, a check refines what a path knows and never rules a branch out, and a check of a local holding the
/// entry read earlier counts as a check of the PTE now. A check that finds an entry on a path that had none finds the
/// entry the callback started with (on a path that cleared the PTE, it read that entry before the clear); what the
/// TLB may hold is kept, so a write after it is still compared with the translations not invalidated.
/// </remarks>
internal sealed class BreakBeforeMakeFlow(CallbackFacts facts, Func<IOperation?, bool> keepsEntry) : ForwardFlow<BreakBeforeMakeFlow.Fact>
{
    /// <summary>set_pte_at() calls that may need break-before-make; Direct when the PTE itself may still be valid there.</summary>
    public Dictionary<IInvocationOperation, bool> Findings { get; } = [];

    protected override Fact Entry { get; } = new(Bit(Held.None, Held.Nothing, false) | Bit(Held.Original, Held.Nothing, false));

    protected override Fact Meet(Fact a, Fact b) => new(a.Paths | b.Paths);

    protected override bool Same(Fact a, Fact b) => a == b;

    protected override Fact Transfer(IOperation operation, Fact state, bool report)
    {
        var api = facts.Api;
        if (operation is not IInvocationOperation call)
        {
            return state;
        }

        if (api.IsCall(call, KernelFunction.SetPteAt, out _) && facts.TargetsPte(call))
        {
            var written = keepsEntry(KernelApi.Argument(call, "pte")) ? Held.Original : Held.Other;
            bool direct = false, stale = false;
            var after = Map(state, (pte, cached, gathered) =>
            {
                direct |= Breaks(pte & ~Held.None, written);
                stale |= Breaks(cached, written);
                return (written, cached | (pte & ~Held.None), gathered);
            });
            if (report && (direct || stale))
            {
                Findings[call] = direct || (Findings.TryGetValue(call, out bool before) && before);
            }

            return after;
        }

        if (api.IsCall(call, KernelFunction.PteClear, out _) && facts.TargetsPte(call))
        {
            return Map(state, (pte, cached, gathered) => (Held.None, cached | (pte & ~Held.None), gathered));
        }

        if (IsInvalidation(call))
        {
            return Map(state, (pte, _, gathered) => (pte, Held.Nothing, gathered));
        }

        if (api.IsCall(call, KernelFunction.TlbGatherAdd, out _))
        {
            return Map(state, (pte, cached, _) => (pte, cached, true));
        }

        // A gather flushed here, or handed to another method, which may flush it (the rule trusts it to).
        bool flushes = api.IsCall(call, KernelFunction.TlbGatherFlush, out _)
            || call.Arguments.Any(a => Is(a.Value.Type, api.TlbGather));
        return flushes ? Map(state, (pte, cached, gathered) => (pte, gathered ? Held.Nothing : cached, false)) : state;
    }

    protected override (Fact WhenTrue, Fact WhenFalse) Refine(IOperation condition, Fact state)
    {
        // `mm.Tlb?.InvalidateAddress(addr)`: on the branch where the space tracks no TLB, nothing is cached to invalidate.
        if (condition is IIsNullOperation { Operand.Type: var type } && Is(type, facts.Api.Tlb))
        {
            return (Map(state, (pte, _, gathered) => (pte, Held.Nothing, gathered)), state);
        }

        return (Apply(facts.NoneIf(condition, outcome: true)), Apply(facts.NoneIf(condition, outcome: false)));

        Fact Apply(bool? none) => none switch
        {
            true => Map(state, (_, cached, gathered) => (Held.None, cached, gathered)),
            false => Map(state, (pte, cached, gathered) => (pte == Held.None ? Held.Original : pte, cached, gathered)),
            null => state,
        };
    }

    /// <summary>Whether writing an entry of kind <paramref name="written"/> over one of <paramref name="held"/> may need break-before-make.</summary>
    private static bool Breaks(Held held, Held written) =>
        (held & Held.Other) != 0 || ((held & Held.Original) != 0 && written == Held.Other);

    /// <summary>A TLB invalidation: <c>Tlb.InvalidateAddress/InvalidateRange/InvalidateAll</c> or flush_tlb_kernel_range().</summary>
    private bool IsInvalidation(IInvocationOperation call) =>
        facts.Api.FunctionOf(call) is KernelFunction.TlbInvalidate or KernelFunction.FlushTlbKernelRange;

    private static bool Is(ITypeSymbol? type, INamedTypeSymbol? wanted) => wanted is not null && SymbolEqualityComparer.Default.Equals(type, wanted);

    /// <summary>Each path's state through <paramref name="step"/>.</summary>
    private static Fact Map(Fact fact, Func<Held, Held, bool, (Held Pte, Held Cached, bool Gathered)> step)
    {
        uint paths = 0;
        for (int i = 0; i < 24; i++)
        {
            if ((fact.Paths & (1u << i)) != 0)
            {
                var (pte, cached, gathered) = step((Held)(1 << (i >> 3)), (Held)(((i >> 1) & 3) << 1), (i & 1) != 0);
                paths |= Bit(pte, cached, gathered);
            }
        }

        return new Fact(paths);
    }

    /// <summary>The bit of one path state: the PTE's kind (one of None, Original, Other), the TLB's stale kinds (Original, Other), the gather.</summary>
    private static uint Bit(Held pte, Held cached, bool gathered) =>
        1u << ((pte == Held.None ? 0 : pte == Held.Original ? 8 : 16) + ((int)cached >> 1 << 1) + (gathered ? 1 : 0));

    /// <summary>Which entries the PTE (or the TLB) holds.</summary>
    [Flags]
    internal enum Held
    {
        Nothing = 0,

        /// <summary>No entry: pte_none().</summary>
        None = 1,

        /// <summary>The entry the PTE held when the callback started, or it changed where no break-before-make is needed.</summary>
        Original = 2,

        /// <summary>Any other entry: a new mapping, or the entry with a field changed that needs break-before-make.</summary>
        Other = 4,
    }

    /// <summary>The path states some path reaches, a bit each (see <see cref="Bit"/>).</summary>
    internal sealed record Fact(uint Paths);
}
