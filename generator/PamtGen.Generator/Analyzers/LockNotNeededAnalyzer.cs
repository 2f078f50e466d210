using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Text;

namespace PamtGen.Generator.Analyzers;

/// <summary>
/// PG0005: a PTE callback that takes the mm's page-table lock. apply_to_page_range() takes
/// init_mm.page_table_lock itself while it installs a missing table, and the caller owns the range it walks,
/// so populate and depopulate never race on one PTE (Rick Edgecombe, Kiryl Shutsemau in the seed's review).
/// Not reported where the lock guards a second check of a condition the callback already checked without it:
/// double-checked locking is code written for callers whose ranges share a page table and do race (vmalloc areas
/// sharing a KASAN shadow page: kasan_populate_vmalloc_pte()).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LockNotNeededAnalyzer : OperationBlockAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = [DiagnosticDescriptors.LockNotNeeded];

    /// <inheritdoc/>
    private protected override void Analyze(OperationBlockAnalysisContext context, KernelApi api)
    {
        if (!api.IsPteCallback(context.OwningSymbol, out var pte))
        {
            return;
        }

        var operations = context.OperationBlocks.SelectMany(b => b.DescendantsAndSelf()).ToList();
        var locks = operations.OfType<ILockOperation>()
            .Where(l => api.IsPageTableLock(l.LockedValue) && l.Syntax is LockStatementSyntax && !InNestedFunction(l))
            .ToList();
        if (locks.Count == 0)
        {
            return;
        }

        var facts = CallbackFacts.Of(api, context.OperationBlocks, pte);
        var conditions = operations.OfType<IConditionalOperation>().Where(c => !InNestedFunction(c)).ToList();
        foreach (var lockOperation in locks)
        {
            if (GuardsASecondCheck(lockOperation, conditions, facts))
            {
                continue;
            }

            // The lock (...) header, not the body.
            var statement = (LockStatementSyntax)lockOperation.Syntax;
            var header = TextSpan.FromBounds(statement.LockKeyword.SpanStart, statement.CloseParenToken.Span.End);
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.LockNotNeeded, Location.Create(statement.SyntaxTree, header), KernelApi.Unwrap(lockOperation.LockedValue)!.Syntax.ToString()));
        }
    }

    /// <summary>
    /// Double-checked locking: a condition tested inside the lock was tested before it, outside any page-table lock.
    /// Two tests are of the same condition when both are checks of the callback's PTE (pte_none(), pte_present(), through
    /// any entry local or flag, either polarity), or when they are the same expression but for a leading !.
    /// </summary>
    private static bool GuardsASecondCheck(ILockOperation lockOperation, List<IConditionalOperation> conditions, CallbackFacts facts)
    {
        var body = lockOperation.Body.Syntax.Span;
        var inside = conditions.Where(c => body.Contains(c.Syntax.Span)).ToList();
        var before = conditions.Where(c => c.Syntax.SpanStart < lockOperation.Syntax.SpanStart && !InPageTableLock(c, facts.Api)).ToList();
        return inside.Any(i => before.Any(b => SameCondition(i.Condition, b.Condition, facts)));
    }

    private static bool SameCondition(IOperation a, IOperation b, CallbackFacts facts)
    {
        if (facts.NoneWhenTrue(a) is not null && facts.NoneWhenTrue(b) is not null)
        {
            return true;
        }

        return SyntaxFactory.AreEquivalent(WithoutNot(a.Syntax), WithoutNot(b.Syntax));
    }

    private static SyntaxNode WithoutNot(SyntaxNode node)
    {
        while (node is ParenthesizedExpressionSyntax or PrefixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.LogicalNotExpression })
        {
            node = node is ParenthesizedExpressionSyntax parenthesized ? parenthesized.Expression : ((PrefixUnaryExpressionSyntax)node).Operand;
        }

        return node;
    }

    private static bool InPageTableLock(IOperation operation, KernelApi api) =>
        HasAncestor(operation, parent => parent is ILockOperation l && api.IsPageTableLock(l.LockedValue));

    /// <summary>A lambda or local function in the callback is a function of its own, not the callback's body.</summary>
    private static bool InNestedFunction(IOperation operation) =>
        HasAncestor(operation, parent => parent is IAnonymousFunctionOperation or ILocalFunctionOperation);

    private static bool HasAncestor(IOperation operation, System.Func<IOperation, bool> match)
    {
        for (var parent = operation.Parent; parent is not null; parent = parent.Parent)
        {
            if (match(parent))
            {
                return true;
            }
        }

        return false;
    }
}
