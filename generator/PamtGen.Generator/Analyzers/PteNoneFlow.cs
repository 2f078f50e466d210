using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace PamtGen.Generator.Analyzers;

/// <summary>
/// What is proven about the callback's PTE at each point (must-information: a fact holds only if it holds on
/// every path): whether the PTE is none, not none or unknown now, and whether the entry read from it was proven
/// populated. Checks of pte_none() refine both on each branch; set_pte_at() makes the PTE not none, pte_clear()
/// none. Freeing the page behind the entry needs the entry proven populated, which a pte_clear() before the
/// free (the right order) does not undo.
/// </summary>
internal sealed class PteNoneFlow(CallbackFacts facts) : ForwardFlow<PteNoneFlow.Fact>
{
    /// <summary>set_pte_at()/pte_clear()/__free_page(pte_page()) where the needed fact was not proven (PG0001).</summary>
    public List<(IInvocationOperation Call, bool NeedsNone)> Unchecked { get; } = [];

    /// <summary>Allocated pages freed where the PTE is proven populated (PG0003).</summary>
    public HashSet<ILocalSymbol> FreedWherePopulated { get; } = new(SymbolEqualityComparer.Default);

    protected override Fact Entry => Fact.Start;

    protected override Fact Meet(Fact a, Fact b) => new(a.Pte == b.Pte ? a.Pte : PteState.Unknown, a.EntryPopulated && b.EntryPopulated);

    protected override bool Same(Fact a, Fact b) => a == b;

    protected override Fact Transfer(IOperation operation, Fact state, bool report)
    {
        if (operation is not IInvocationOperation call)
        {
            return state;
        }

        if (KernelApi.IsPgtableCall(call, "SetPteAt", out _) && facts.TargetsPte(call))
        {
            Record(report, state.Pte != PteState.None, call, needsNone: true);
            return state with { Pte = PteState.NotNone };
        }

        if (KernelApi.IsPgtableCall(call, "PteClear", out _) && facts.TargetsPte(call))
        {
            Record(report, state.Pte != PteState.NotNone, call, needsNone: false);
            return state with { Pte = PteState.None };
        }

        if (KernelApi.IsAllocatorCall(call, "FreePage", out _))
        {
            var page = KernelApi.Argument(call, "page");
            if (facts.IsPtePage(page))
            {
                Record(report, !state.EntryPopulated, call, needsNone: false);
            }
            else if (report && state.Pte == PteState.NotNone && KernelApi.IsLocal(page, out var local) && facts.Allocations.ContainsKey(local))
            {
                FreedWherePopulated.Add(local);
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
            false => new Fact(PteState.NotNone, EntryPopulated: true),
            null => state,
        };
    }

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

    /// <summary>The PTE's state, and whether the entry read from it was proven populated.</summary>
    internal sealed record Fact(PteState Pte, bool EntryPopulated)
    {
        public static readonly Fact Start = new(PteState.Unknown, EntryPopulated: false);
    }
}
