using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace PamtGen.Generator.Analyzers;

/// <summary>
/// Where each allocated page may be, on some path (may-information): owned by this method, null (the
/// allocation failed), freed, or handed on (mapped with set_pte_at(), stored in a field, returned, passed to a
/// [TakesPageOwnership] parameter). Also whether the callback's PTE is cleared on every path, for a free of the
/// page behind it.
/// </summary>
internal sealed class PageOwnershipFlow(CallbackFacts facts) : ForwardFlow<PageOwnershipFlow.State>
{
    private const int Owned = 1, MaybeNull = 2, Freed = 4, Moved = 8;

    /// <summary>Findings: where, what, and for a leak the exits where the page is lost (additional locations).</summary>
    public List<(Location Location, string Problem, IReadOnlyList<Location> Exits)> Problems { get; } = [];

    /// <summary>The returns each allocation local still owns its page at, on some path: where it leaks.</summary>
    private readonly Dictionary<ILocalSymbol, List<Location>> _leakingExits = new(SymbolEqualityComparer.Default);

    protected override State Entry { get; } = new(new int[facts.TrackedLocals.Count], PteCleared: false, facts);

    protected override State Meet(State a, State b)
    {
        var flags = (int[])a.Flags.Clone();
        for (int i = 0; i < flags.Length; i++)
        {
            flags[i] |= b.Flags[i];
        }

        return new State(flags, a.PteCleared && b.PteCleared, facts);
    }

    protected override bool Same(State a, State b) => a.PteCleared == b.PteCleared && a.Flags.SequenceEqual(b.Flags);

    protected override State Transfer(IOperation operation, State state, bool report)
    {
        switch (operation)
        {
            case ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } when facts.PtePageLocals.Contains(target.Local):
                // The page behind the PTE, read (again): not freed by this method yet.
                return state.With(target.Local, 0);

            case ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment when facts.Allocations.ContainsKey(target.Local):
                if (report && (state.FlagsOf(target.Local) & Owned) != 0)
                {
                    // The page the local still holds on some path is lost: the same leak as one kept at the exit.
                    Leaked(target.Local, "is overwritten while the page in it is neither freed, mapped with SetPteAt, stored, nor returned on some path");
                }

                return state.With(target.Local, facts.Api.IsAllocation(assignment.Value) ? Owned | MaybeNull : 0);

            case ISimpleAssignmentOperation { Target: IFieldReferenceOperation or IPropertyReferenceOperation or IArrayElementReferenceOperation } stored:
                return HandOn(stored.Value, state);

            case IInvocationOperation call when facts.Api.IsCall(call, KernelFunction.FreePage, out _):
                return Free(call, state, report);

            case IInvocationOperation call when facts.Api.IsCall(call, KernelFunction.SetPteAt, out _):
                state = facts.TargetsPte(call) ? state.WithPteCleared(false) : state;
                return facts.MappedPage(KernelApi.Argument(call, "pte")) is { } mapped && facts.Allocations.ContainsKey(facts.Canonical(mapped)) ? state.With(mapped, Moved) : state;

            case IInvocationOperation call when facts.Api.IsCall(call, KernelFunction.PteClear, out _) && facts.TargetsPte(call):
                return state.WithPteCleared(true);

            case IInvocationOperation call:
                foreach (var argument in call.Arguments.Where(a => facts.Api.TakesOwnership(a.Parameter)))
                {
                    state = HandOn(argument.Value, state);
                }

                return state;

            case ILocalReferenceOperation reference when report && facts.TrackedIndex(reference.Local) >= 0 && (state.FlagsOf(reference.Local) & Freed) != 0 && !IsWrittenOrFreed(reference):
                Problems.Add((reference.Syntax.GetLocation(), $"'{reference.Local.Name}' is used after it was freed", []));
                return state;

            default:
                return state;
        }
    }

    protected override State Return(IOperation value, State state, bool report)
    {
        state = HandOn(value, state);
        if (report && value.Syntax.FirstAncestorOrSelf<ReturnStatementSyntax>() is { } exit)
        {
            foreach (var local in facts.Allocations.Keys.Where(local => (state.FlagsOf(local) & Owned) != 0))
            {
                if (!_leakingExits.TryGetValue(local, out var exits))
                {
                    _leakingExits[local] = exits = [];
                }

                var location = exit.GetLocation();
                if (!exits.Contains(location))
                {
                    exits.Add(location);
                }
            }
        }

        return state;
    }

    protected override (State WhenTrue, State WhenFalse) Refine(IOperation condition, State state) =>
        (RefineIf(condition, true, state), RefineIf(condition, false, state));

    /// <summary>The state where <paramref name="condition"/> evaluated to <paramref name="outcome"/>; composes through !, || and &amp;&amp;.</summary>
    private State RefineIf(IOperation condition, bool outcome, State state)
    {
        condition = KernelApi.Unwrap(condition)!;
        switch (condition)
        {
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Not } not:
                return RefineIf(not.Operand, !outcome, state);
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.ConditionalOr } either when !outcome:
                return RefineIf(either.RightOperand, false, RefineIf(either.LeftOperand, false, state));
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.ConditionalAnd } both when outcome:
                return RefineIf(both.RightOperand, true, RefineIf(both.LeftOperand, true, state));
        }

        if (NullTest(condition) is not { } test || !facts.Allocations.ContainsKey(facts.Canonical(test.Local)))
        {
            return state;
        }

        int flags = state.FlagsOf(test.Local);
        bool isNull = test.NullWhenTrue == outcome;
        return state.With(test.Local, isNull ? ((flags & MaybeNull) != 0 ? MaybeNull : 0) : flags & ~MaybeNull);
    }

    protected override void AtExit(State state)
    {
        foreach (var local in facts.TrackedLocals.Where(local => (state.FlagsOf(local) & Owned) != 0))
        {
            var exits = _leakingExits.TryGetValue(local, out var known) ? known : [];
            string where = exits.Count == 0 ? "the exit" : exits.Count == 1 ? $"the return on line {Line(exits[0])}" : $"the returns on lines {string.Join(", ", exits.Select(Line))}";
            Leaked(local, $"keeps a page that is neither freed, mapped with SetPteAt, stored, nor returned on some path to {where}", exits);
        }
    }

    private static int Line(Location location) => location.GetLineSpan().StartLinePosition.Line + 1;

    /// <summary>A leak of the page in <paramref name="local"/>, reported at each allocation that may have put it there.</summary>
    private void Leaked(ILocalSymbol local, string how, IReadOnlyList<Location>? exits = null)
    {
        foreach (var allocation in facts.Allocations[local])
        {
            Problems.Add((allocation.Syntax.GetLocation(), $"'{local.Name}' {how}", exits ?? []));
        }
    }

    private State Free(IInvocationOperation call, State state, bool report)
    {
        var page = KernelApi.Argument(call, "page");
        if (KernelApi.IsLocal(page, out var freed) && facts.Canonical(freed) is var local && facts.Allocations.ContainsKey(local))
        {
            int flags = state.FlagsOf(local);
            if (report && (flags & Freed) != 0)
            {
                Problems.Add((call.Syntax.GetLocation(), $"'{local.Name}' may be freed twice", []));
            }
            else if (report && (flags & Moved) != 0)
            {
                Problems.Add((call.Syntax.GetLocation(), $"'{local.Name}' is freed after its ownership moved (to a page table, a field or a callee)", []));
            }

            return state.With(local, Freed);
        }

        if (report && facts.IsPtePage(page) && !state.PteCleared)
        {
            Problems.Add((call.Syntax.GetLocation(), "the page behind the PTE is freed while the PTE still maps it; PteClear the PTE first", []));
        }

        // The page behind the PTE, held in a local: a second free of it on some path is a double free all the same.
        if (KernelApi.IsLocal(page, out var freedPtePage) && facts.Canonical(freedPtePage) is var ptePage && facts.PtePageLocals.Contains(ptePage))
        {
            if (report && (state.FlagsOf(ptePage) & Freed) != 0)
            {
                Problems.Add((call.Syntax.GetLocation(), $"'{ptePage.Name}' may be freed twice", []));
            }

            return state.With(ptePage, Freed);
        }

        return state;
    }

    /// <summary>Every tracked page the value mentions is handed on.</summary>
    private State HandOn(IOperation value, State state)
    {
        foreach (var reference in value.DescendantsAndSelf().OfType<ILocalReferenceOperation>())
        {
            if (facts.Allocations.ContainsKey(facts.Canonical(reference.Local)))
            {
                state = state.With(reference.Local, Moved);
            }
        }

        return state;
    }

    private bool IsWrittenOrFreed(ILocalReferenceOperation reference) =>
        reference.Parent is ISimpleAssignmentOperation assignment && assignment.Target == reference
        || (reference.Parent is IArgumentOperation { Parent: IInvocationOperation call } && facts.Api.IsCall(call, KernelFunction.FreePage, out _))
        || NullTest(reference.Parent) is not null;

    /// <summary><c>x is null</c>, <c>x == null</c>, <c>x is not null</c>, <c>x != null</c> on a local.</summary>
    private static (ILocalSymbol Local, bool NullWhenTrue)? NullTest(IOperation? condition)
    {
        condition = KernelApi.Unwrap(condition);
        switch (condition)
        {
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Not } not when NullTest(not.Operand) is { } inner:
                return (inner.Local, !inner.NullWhenTrue);
            case IIsPatternOperation { Pattern: IConstantPatternOperation { Value: var constant } } pattern
                when KernelApi.IsLocal(pattern.Value, out var local) && IsNull(constant):
                return (local, true);
            case IIsPatternOperation { Pattern: INegatedPatternOperation { Pattern: IConstantPatternOperation { Value: var constant } } } pattern
                when KernelApi.IsLocal(pattern.Value, out var local) && IsNull(constant):
                return (local, false);
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals } binary:
                var (local2, other) = KernelApi.IsLocal(binary.LeftOperand, out var l) ? (l, binary.RightOperand) : KernelApi.IsLocal(binary.RightOperand, out var r) ? (r, binary.LeftOperand) : (null, null);
                return local2 is not null && IsNull(other) ? (local2, binary.OperatorKind == BinaryOperatorKind.Equals) : null;
            default:
                return null;
        }
    }

    private static bool IsNull(IOperation? operation) =>
        KernelApi.Unwrap(operation) is ILiteralOperation { ConstantValue: { HasValue: true, Value: null } } or IDefaultValueOperation;

    /// <summary>
    /// The flags of every tracked local (allocations and pages taken from the PTE), by the index
    /// <see cref="CallbackFacts.TrackedLocals"/> gives it, and whether the PTE is cleared on every path. A plain array,
    /// copied on write: the states are small, and the analyzer JIT-compiles less than with immutable collections.
    /// </summary>
    internal sealed class State(int[] flags, bool PteCleared, CallbackFacts facts)
    {
        public int[] Flags { get; } = flags;

        public bool PteCleared { get; } = PteCleared;

        public int FlagsOf(ILocalSymbol local) => facts.TrackedIndex(local) is int i and >= 0 ? Flags[i] : 0;

        public State With(ILocalSymbol local, int value)
        {
            int i = facts.TrackedIndex(local);
            if (i < 0 || Flags[i] == value)
            {
                return this;
            }

            var copy = (int[])Flags.Clone();
            copy[i] = value;
            return new State(copy, PteCleared, facts);
        }

        public State WithPteCleared(bool cleared) => cleared == PteCleared ? this : new State(Flags, cleared, facts);
    }
}
