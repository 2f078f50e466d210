using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace PamtGen.Generator.Analyzers;

/// <summary>
/// What is proven about the callback's PTE at each point (must-information: a fact holds only if it holds on
/// every path): whether the PTE is none, not none or unknown now, and whether the entry read from it was proven
/// populated. Checks of pte_none() refine both on each branch; set_pte_at() makes the PTE not none, pte_clear()
/// none. Freeing the page behind the entry needs the entry proven populated, which a pte_clear() before the
/// free (the right order) does not undo. Beside it, a may-fact: the pages allocated, on some path, while the PTE
/// was not proven none (before any check), for PG0003.
/// </summary>
internal sealed class PteNoneFlow(CallbackFacts facts) : ForwardFlow<PteNoneFlow.Fact>
{
    /// <summary>set_pte_at()/pte_clear()/__free_page(pte_page()) where the needed fact was not proven (PG0001).</summary>
    public List<(IInvocationOperation Call, bool NeedsNone)> Unchecked { get; } = [];

    /// <summary>Each set_pte_at() of the PTE: whether the PTE is proven populated there on every path (PG0006's fix reads it).</summary>
    public Dictionary<IInvocationOperation, bool> PopulatedAtWrite { get; } = [];

    /// <summary>Pages allocated before the check and freed where the PTE is proven populated (PG0003).</summary>
    public HashSet<ILocalSymbol> FreedWherePopulated { get; } = new(SymbolEqualityComparer.Default);

    protected override Fact Entry { get; } = new(PteState.Unknown, EntryPopulated: false, AllocatedBeforeCheck: 0);

    protected override Fact Meet(Fact a, Fact b) =>
        new(a.Pte == b.Pte ? a.Pte : PteState.Unknown, a.EntryPopulated && b.EntryPopulated, a.AllocatedBeforeCheck | b.AllocatedBeforeCheck);

    protected override bool Same(Fact a, Fact b) => a == b;

    protected override Fact Transfer(IOperation operation, Fact state, bool report)
    {
        var api = facts.Api;
        if (operation is ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment && facts.Allocations.ContainsKey(target.Local))
        {
            // A page allocated where the PTE is proven none was allocated after the check: the double-checked
            // populate (check, allocate, check again under the lock, free if someone else filled it) is not PG0003.
            bool beforeCheck = api.IsAllocation(assignment.Value) && state.Pte != PteState.None;
            ulong bit = Bit(target.Local);
            return state with { AllocatedBeforeCheck = beforeCheck ? state.AllocatedBeforeCheck | bit : state.AllocatedBeforeCheck & ~bit };
        }

        if (operation is not IInvocationOperation call)
        {
            return state;
        }

        if (api.IsCall(call, KernelFunction.SetPteAt, out _) && facts.TargetsPte(call))
        {
            // Writing back the PTE's own entry with bits changed (change_page_range()) keeps the mapping that is there.
            bool modifies = facts.IsModifiedEntry(KernelApi.Argument(call, "pte"));
            if (report)
            {
                PopulatedAtWrite[call] = state.Pte == PteState.NotNone && (!PopulatedAtWrite.TryGetValue(call, out bool before) || before);
            }

            Record(report, !modifies && state.Pte != PteState.None, call, needsNone: true);
            return state with { Pte = PteState.NotNone };
        }

        if (api.IsCall(call, KernelFunction.PteClear, out _) && facts.TargetsPte(call))
        {
            Record(report, state.Pte != PteState.NotNone, call, needsNone: false);
            return state with { Pte = PteState.None };
        }

        if (api.IsCall(call, KernelFunction.FreePage, out _))
        {
            var page = KernelApi.Argument(call, "page");
            if (facts.IsPtePage(page))
            {
                Record(report, !state.EntryPopulated, call, needsNone: false);
            }
            else if (report && state.Pte == PteState.NotNone && KernelApi.IsLocal(page, out var local) && (state.AllocatedBeforeCheck & Bit(local)) != 0)
            {
                FreedWherePopulated.Add(facts.Canonical(local)); // through a copy: the allocation is the original's
            }
        }

        return state;
    }

    protected override (Fact WhenTrue, Fact WhenFalse) Refine(IOperation condition, Fact state)
    {
        return (Apply(facts.NoneIf(condition, outcome: true)), Apply(facts.NoneIf(condition, outcome: false)));

        Fact Apply(bool? none) => none switch
        {
            true => state with { Pte = PteState.None },
            false => state with { Pte = PteState.NotNone, EntryPopulated = true },
            null => state,
        };
    }

    /// <summary>
    /// The bit of an allocation local in <see cref="Fact.AllocatedBeforeCheck"/> (allocations come first among the tracked
    /// locals); a method with more than 64 allocation locals leaves the others out of PG0003.
    /// </summary>
    private ulong Bit(ILocalSymbol local) => facts.TrackedIndex(local) is int i and >= 0 and < 64 ? 1UL << i : 0;

    private void Record(bool report, bool missing, IInvocationOperation call, bool needsNone)
    {
        if (report && missing)
        {
            Unchecked.Add((call, needsNone));
        }
    }

    /// <summary>What the PTE holds now, as far as every path agrees.</summary>
    internal enum PteState
    {
        Unknown,
        None,
        NotNone,
    }

    /// <summary>The PTE's state, whether the entry read from it was proven populated, and (a bit per allocation local) the pages allocated before a check on some path.</summary>
    internal sealed record Fact(PteState Pte, bool EntryPopulated, ulong AllocatedBeforeCheck);
}
