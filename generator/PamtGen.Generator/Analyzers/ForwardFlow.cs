using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;

namespace PamtGen.Generator.Analyzers;

/// <summary>
/// A forward data-flow analysis over Roslyn's control-flow graph: a state flows along the edges, is
/// refined on the two edges of a conditional branch, and is changed by each operation in evaluation order.
/// Runs to a fixpoint, then once more with <c>report</c> set, so each finding is reported once. Reachable
/// blocks nothing flows into (the start of a finally or catch region) start from <see cref="Entry"/>;
/// unreachable blocks are skipped.
/// </summary>
internal abstract class ForwardFlow<TState>
    where TState : class
{
    /// <summary>The state at the method's entry.</summary>
    protected abstract TState Entry { get; }

    /// <summary>The state where two paths meet.</summary>
    protected abstract TState Meet(TState a, TState b);

    /// <summary>Whether two states are the same (the fixpoint test).</summary>
    protected abstract bool Same(TState a, TState b);

    /// <summary>The state after <paramref name="operation"/>, its operands already applied.</summary>
    protected abstract TState Transfer(IOperation operation, TState state, bool report);

    /// <summary>The states on the true and false edges of a branch on <paramref name="condition"/>.</summary>
    protected virtual (TState WhenTrue, TState WhenFalse) Refine(IOperation condition, TState state) => (state, state);

    /// <summary>The state after <paramref name="value"/> is returned.</summary>
    protected virtual TState Return(IOperation value, TState state, bool report) => state;

    /// <summary>Called with the state that reaches the exit of the method.</summary>
    protected virtual void AtExit(TState state)
    {
    }

    /// <summary>Runs the analysis; returns false if it gave up (a graph too large to settle).</summary>
    public bool Run(ControlFlowGraph graph)
    {
        var blocks = graph.Blocks;
        var incoming = new TState?[blocks.Length];
        incoming[0] = Entry;
        bool changed = true;
        for (int round = 0; changed; round++)
        {
            if (round > 64)
            {
                return false;
            }

            changed = false;
            foreach (var block in blocks)
            {
                if (Start(block, incoming) is not { } start)
                {
                    continue;
                }

                foreach (var (target, state) in Flow(block, start, report: false))
                {
                    var merged = incoming[target.Ordinal] is { } existing ? Meet(existing, state) : state;
                    if (incoming[target.Ordinal] is not { } before || !Same(before, merged))
                    {
                        incoming[target.Ordinal] = merged;
                        changed = true;
                    }
                }
            }
        }

        foreach (var block in blocks)
        {
            if (Start(block, incoming) is { } start)
            {
                _ = Flow(block, start, report: true).ToList();
            }
        }

        if (incoming[blocks.Length - 1] is { } exit)
        {
            AtExit(exit);
        }

        return true;
    }

    /// <summary>
    /// The state a block starts from, or null if nothing reaches it. Code the compiler proves unreachable (after a
    /// return on every path) is never analysed: no path runs it, so nothing there can be a finding.
    /// </summary>
    private TState? Start(BasicBlock block, TState?[] incoming) =>
        !block.IsReachable ? null : incoming[block.Ordinal] ?? (block.Predecessors.IsEmpty ? Entry : null);

    private IEnumerable<(BasicBlock Target, TState State)> Flow(BasicBlock block, TState state, bool report)
    {
        foreach (var operation in block.Operations)
        {
            state = Visit(operation, state, report);
        }

        if (block.BranchValue is { } branch)
        {
            state = Visit(branch, state, report);
            if (block.ConditionKind != ControlFlowConditionKind.None)
            {
                var (whenTrue, whenFalse) = Refine(branch, state);
                bool conditionalOnTrue = block.ConditionKind == ControlFlowConditionKind.WhenTrue;
                if (block.ConditionalSuccessor?.Destination is { } conditional)
                {
                    yield return (conditional, conditionalOnTrue ? whenTrue : whenFalse);
                }

                if (block.FallThroughSuccessor?.Destination is { } fallThrough)
                {
                    yield return (fallThrough, conditionalOnTrue ? whenFalse : whenTrue);
                }

                yield break;
            }

            if (block.FallThroughSuccessor?.Semantics == ControlFlowBranchSemantics.Return)
            {
                state = Return(branch, state, report);
            }
        }

        if (block.FallThroughSuccessor?.Destination is { } next)
        {
            yield return (next, state);
        }
    }

    /// <summary>Operands first, then the operation: evaluation order for the expressions kernel code is made of.</summary>
    private TState Visit(IOperation operation, TState state, bool report)
    {
        foreach (var child in operation.ChildOperations)
        {
            state = Visit(child, state, report);
        }

        return Transfer(operation, state, report);
    }
}
