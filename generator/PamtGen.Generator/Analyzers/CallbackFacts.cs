using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace PamtGen.Generator.Analyzers;

/// <summary>
/// What the locals of one method hold, found by one pass over its operations: entries read with
/// ptep_get(pte), pages taken with pte_page() of such an entry, pages from an allocation, and entries made
/// with mk_pte() of such a page. Kernel callbacks assign these once, so a flow-insensitive view serves.
/// </summary>
internal sealed class CallbackFacts
{
    private CallbackFacts(IParameterSymbol? pte) => Pte = pte;

    /// <summary>The callback's PTE parameter, or null in a method that is not a PTE callback.</summary>
    public IParameterSymbol? Pte { get; }

    public HashSet<ILocalSymbol> EntryLocals { get; } = new(SymbolEqualityComparer.Default);

    public HashSet<ILocalSymbol> PtePageLocals { get; } = new(SymbolEqualityComparer.Default);

    public HashSet<ILocalSymbol> NoneFlagLocals { get; } = new(SymbolEqualityComparer.Default);

    /// <summary>Locals that receive an allocation, with each allocating call.</summary>
    public Dictionary<ILocalSymbol, List<IInvocationOperation>> Allocations { get; } = new(SymbolEqualityComparer.Default);

    /// <summary>Entries made from a page: mk_pte(page, prot) stored in a local.</summary>
    public Dictionary<ILocalSymbol, ILocalSymbol> EntryOfPage { get; } = new(SymbolEqualityComparer.Default);

    public static CallbackFacts Scan(IEnumerable<IOperation> roots, IParameterSymbol? pte)
    {
        var facts = new CallbackFacts(pte);
        var assignments = roots.SelectMany(r => r.DescendantsAndSelf())
            .Select(o => o switch
            {
                IVariableDeclaratorOperation { Initializer.Value: { } value } d => (Local: d.Symbol, Value: value),
                ISimpleAssignmentOperation { Target: ILocalReferenceOperation target, Value: { } value } => (Local: target.Local, Value: value),
                _ => (Local: null!, Value: null!),
            })
            .Where(a => a.Local is not null)
            .ToList();

        // Two passes: an entry local must be known before a pte_page() of it is.
        for (int pass = 0; pass < 2; pass++)
        {
            foreach (var (local, value) in assignments)
            {
                if (facts.IsEntry(value))
                {
                    facts.EntryLocals.Add(local);
                }
                else if (facts.IsPtePage(value))
                {
                    facts.PtePageLocals.Add(local);
                }
                else if (facts.NoneWhenTrue(value) is not null)
                {
                    facts.NoneFlagLocals.Add(local);
                }
                else if (KernelApi.IsAllocation(value) && pass == 0)
                {
                    if (!facts.Allocations.TryGetValue(local, out var calls))
                    {
                        facts.Allocations[local] = calls = [];
                    }

                    calls.Add((IInvocationOperation)KernelApi.Unwrap(value)!);
                }
                else if (KernelApi.IsPgtableCall(value, "MkPte", out var mkPte) && KernelApi.IsLocal(KernelApi.Argument(mkPte, "page"), out var page))
                {
                    facts.EntryOfPage[local] = page;
                }
            }
        }

        return facts;
    }

    /// <summary>ptep_get(pte) of the callback's PTE, or a local holding it.</summary>
    public bool IsEntry(IOperation? operation) =>
        Pte is not null
        && ((KernelApi.IsPgtableCall(operation, "PtepGet", out var call) && KernelApi.IsParameter(KernelApi.Argument(call, "ptep"), Pte))
            || (KernelApi.IsLocal(operation, out var local) && EntryLocals.Contains(local)));

    /// <summary>pte_page() of the callback's PTE, or a local holding it.</summary>
    public bool IsPtePage(IOperation? operation) =>
        (KernelApi.IsAllocatorCall(operation, "PtePage", out var call) && IsEntry(KernelApi.Argument(call, "pte")))
        || (KernelApi.IsLocal(operation, out var local) && PtePageLocals.Contains(local));

    /// <summary>True/false when <paramref name="condition"/> being true proves the PTE none / not none; null when it says nothing.</summary>
    public bool? NoneWhenTrue(IOperation? condition) => NoneIf(condition, outcome: true);

    /// <summary>
    /// What <paramref name="condition"/> evaluating to <paramref name="outcome"/> proves: the PTE none (true), not none
    /// (false), or nothing (null). Composes through !, || (false: both operands false) and &amp;&amp; (true: both true).
    /// </summary>
    public bool? NoneIf(IOperation? condition, bool outcome)
    {
        condition = KernelApi.Unwrap(condition);
        switch (condition)
        {
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Not } not:
                return NoneIf(not.Operand, !outcome);
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.ConditionalOr } or IBinaryOperation { OperatorKind: BinaryOperatorKind.Or, Type.SpecialType: SpecialType.System_Boolean } when !outcome:
                return NoneIf(((IBinaryOperation)condition).LeftOperand, false) ?? NoneIf(((IBinaryOperation)condition).RightOperand, false);
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.ConditionalAnd } or IBinaryOperation { OperatorKind: BinaryOperatorKind.And, Type.SpecialType: SpecialType.System_Boolean } when outcome:
                return NoneIf(((IBinaryOperation)condition).LeftOperand, true) ?? NoneIf(((IBinaryOperation)condition).RightOperand, true);
        }

        if (KernelApi.IsPgtableCall(condition, "PteNone", out var call) && IsEntry(KernelApi.Argument(call, "pte")))
        {
            return outcome;
        }

        return KernelApi.IsLocal(condition, out var flag) && NoneFlagLocals.Contains(flag) ? outcome : null;
    }

    /// <summary>The page local a set_pte_at() value maps: mk_pte(page, ...) directly or through an entry local.</summary>
    public ILocalSymbol? MappedPage(IOperation? value)
    {
        value = KernelApi.Unwrap(value);
        if (KernelApi.IsPgtableCall(value, "MkPte", out var mkPte) && KernelApi.IsLocal(KernelApi.Argument(mkPte, "page"), out var page))
        {
            return page;
        }

        return KernelApi.IsLocal(value, out var entry) && EntryOfPage.TryGetValue(entry, out var mapped) ? mapped : null;
    }

    /// <summary>set_pte_at()/pte_clear() of the callback's PTE.</summary>
    public bool TargetsPte(IInvocationOperation call) => Pte is not null && KernelApi.IsParameter(KernelApi.Argument(call, "ptep"), Pte);
}
