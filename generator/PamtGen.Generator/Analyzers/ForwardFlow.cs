using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;

namespace PamtGen.Generator.Analyzers;

/// <summary>
/// A forward data-flow analysis over Roslyn's control-flow graph: a state flows along the edges, is
/// refined on the two edges of a conditional branch, and is changed by each operation in evaluation order.
/// Runs to a fixpoint, then once more with <c>report</c> set, so each finding is reported once per state.
/// A branch that leaves a try block (falling out of it, or a return) carries its own state through each
/// finally block it runs, in order, so what a finally does happens on exactly the paths that run it.
/// Reachable blocks nothing flows into (the start of a catch, or a finally only an exception reaches) start
/// from <see cref="Entry"/>; unreachable blocks are skipped.
/// </summary>
internal abstract class ForwardFlow<TState>
    where TState : class
{
    /// <summary>Rounds without settling after which the analysis gives up, as a guard for pathological graphs.</summary>
    private const int MaxRounds = 64;

    /// <summary>
    /// Blocks flowed through, in all, after which the analysis gives up: an analyzer runs as the user types, and
    /// finally blocks nested in finally blocks multiply the work, so adversarial code must not hang the editor.
    /// </summary>
    private const int MaxBlockVisits = 200_000;

    /// <summary>Finally regions run by some branch in a report pass; the others are checked from the entry state.</summary>
    private readonly HashSet<ControlFlowRegion> reachedFinally = [];

    /// <summary>
    /// What each finally region has been run with: the entry state, the state out of its end, and whether that run
    /// reported. The same region from the same state always gives the same end, so it is run once per state.
    /// </summary>
    private readonly Dictionary<ControlFlowRegion, List<(TState Entry, TState? End, bool Reported)>> finallyRuns = [];

    private int blockVisits;
    private bool gaveUp;

    /// <summary>Blocks flowed through so far, in all rounds and finally runs: the work the analysis did.</summary>
    public int BlockVisits => blockVisits;

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
        var (incoming, _) = Solve(graph, region: null, Entry, report: true);
        if (gaveUp)
        {
            return false;
        }

        if (incoming[incoming.Length - 1] is { } exit)
        {
            AtExit(exit);
        }

        return true;
    }

    /// <summary>
    /// Settles the blocks of <paramref name="region"/> (a finally region, or null for the method outside every
    /// finally) from <paramref name="entry"/> at its first block; then, if <paramref name="report"/>, runs them once
    /// more reporting. Returns the state entering each block, and the state that falls out of the end of the
    /// region's finally (null for the method, or a finally that never ends normally).
    /// </summary>
    private (TState?[] Incoming, TState? End) Solve(ControlFlowGraph graph, ControlFlowRegion? region, TState entry, bool report)
    {
        var incoming = new TState?[graph.Blocks.Length];
        incoming[region?.FirstBlockOrdinal ?? 0] = entry;
        TState? end = null;
        bool changed = true;
        for (int round = 0; changed && !gaveUp; round++)
        {
            if (round > MaxRounds)
            {
                gaveUp = true;
                break;
            }

            changed = false;
            end = null;
            foreach (var (block, start) in Started(graph, region, incoming))
            {
                foreach (var (target, state) in Flow(graph, block, start, report: false))
                {
                    if (target is null)
                    {
                        end = end is null ? state : Meet(end, state);
                        continue;
                    }

                    var merged = incoming[target.Ordinal] is { } existing ? Meet(existing, state) : state;
                    if (incoming[target.Ordinal] is not { } before || !Same(before, merged))
                    {
                        incoming[target.Ordinal] = merged;
                        changed = true;
                    }
                }
            }
        }

        if (report && !gaveUp)
        {
            foreach (var (block, start) in Started(graph, region, incoming))
            {
                _ = Flow(graph, block, start, report: true).ToList();
            }

            // A finally that only an exception reaches still holds code to check: from the entry state, like a catch block.
            foreach (var unreached in FinallyRegionsIn(graph, region).Where(f => !reachedFinally.Contains(f)))
            {
                reachedFinally.Add(unreached);
                _ = Solve(graph, unreached, Entry, report: true);
            }
        }

        return (incoming, end);
    }

    /// <summary>
    /// The blocks of <paramref name="region"/> (not those of a finally nested in it) that something reaches, with the
    /// state each starts from, in order; each one counts against the work bound, and past it the analysis gives up.
    /// </summary>
    private IEnumerable<(BasicBlock Block, TState Start)> Started(ControlFlowGraph graph, ControlFlowRegion? region, TState?[] incoming)
    {
        for (int ordinal = region?.FirstBlockOrdinal ?? 0; ordinal <= (region?.LastBlockOrdinal ?? graph.Blocks.Length - 1); ordinal++)
        {
            var block = graph.Blocks[ordinal];
            if (FinallyAround(block.EnclosingRegion) != region || Start(block, incoming) is not { } start)
            {
                continue;
            }

            if (++blockVisits > MaxBlockVisits)
            {
                gaveUp = true;
                yield break;
            }

            yield return (block, start);
        }
    }

    /// <summary>
    /// The state a block starts from, or null if nothing reaches it. Code the compiler proves unreachable (after a
    /// return on every path) is never analysed: no path runs it, so nothing there can be a finding.
    /// </summary>
    private TState? Start(BasicBlock block, TState?[] incoming) =>
        !block.IsReachable ? null : incoming[block.Ordinal] ?? (block.Predecessors.IsEmpty ? Entry : null);

    /// <summary>
    /// The edges out of <paramref name="block"/> with the state on each; a null target is the end of a finally
    /// (or catch) block, where control goes back to whoever entered it.
    /// </summary>
    private IEnumerable<(BasicBlock? Target, TState State)> Flow(ControlFlowGraph graph, BasicBlock block, TState state, bool report)
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
                if (Take(graph, block.ConditionalSuccessor, conditionalOnTrue ? whenTrue : whenFalse, report) is { } conditional)
                {
                    yield return conditional;
                }

                if (Take(graph, block.FallThroughSuccessor, conditionalOnTrue ? whenFalse : whenTrue, report) is { } fallThrough)
                {
                    yield return fallThrough;
                }

                yield break;
            }

            if (block.FallThroughSuccessor?.Semantics == ControlFlowBranchSemantics.Return)
            {
                state = Return(branch, state, report);
            }
        }

        if (Take(graph, block.FallThroughSuccessor, state, report) is { } next)
        {
            yield return next;
        }
    }

    /// <summary>
    /// The edge <paramref name="branch"/> with the state that arrives at its destination: first through every
    /// finally block the branch runs on its way out of try blocks (innermost first, as the runtime does).
    /// Null when nothing arrives (a throw, or a finally that never completes).
    /// </summary>
    private (BasicBlock? Target, TState State)? Take(ControlFlowGraph graph, ControlFlowBranch? branch, TState state, bool report)
    {
        if (branch is null)
        {
            return null;
        }

        foreach (var finallyRegion in branch.FinallyRegions)
        {
            if (report)
            {
                reachedFinally.Add(finallyRegion);
            }

            var end = RunFinally(graph, finallyRegion, state, report);
            if (end is null)
            {
                return null;
            }

            state = end;
        }

        return branch.Semantics == ControlFlowBranchSemantics.StructuredExceptionHandling ? (null, state)
            : branch.Destination is { } destination ? (destination, state)
            : null;
    }

    /// <summary>The state out of the end of <paramref name="finallyRegion"/> entered with <paramref name="state"/>, run once per state.</summary>
    private TState? RunFinally(ControlFlowGraph graph, ControlFlowRegion finallyRegion, TState state, bool report)
    {
        if (!finallyRuns.TryGetValue(finallyRegion, out var runs))
        {
            finallyRuns[finallyRegion] = runs = [];
        }

        int known = runs.FindIndex(r => Same(r.Entry, state));
        if (known >= 0 && (runs[known].Reported || !report))
        {
            return runs[known].End;
        }

        var (_, end) = Solve(graph, finallyRegion, state, report);
        if (known >= 0)
        {
            runs[known] = (state, end, true);
        }
        else
        {
            runs.Add((state, end, report));
        }

        return end;
    }

    /// <summary><paramref name="region"/> itself if it is a finally, else the innermost finally around it; null outside every finally.</summary>
    private static ControlFlowRegion? FinallyAround(ControlFlowRegion? region)
    {
        while (region is not null && region.Kind != ControlFlowRegionKind.Finally)
        {
            region = region.EnclosingRegion;
        }

        return region;
    }

    /// <summary>The finally regions directly inside <paramref name="region"/> (or the method), not those nested in another finally.</summary>
    private static IEnumerable<ControlFlowRegion> FinallyRegionsIn(ControlFlowGraph graph, ControlFlowRegion? region) =>
        graph.Blocks
            .Select(b => FinallyAround(b.EnclosingRegion))
            .OfType<ControlFlowRegion>()
            .Where(f => f != region && FinallyAround(f.EnclosingRegion) == region)
            .Distinct();

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
