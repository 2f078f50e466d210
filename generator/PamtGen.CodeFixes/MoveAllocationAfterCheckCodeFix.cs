using System.Collections.Generic;
using System.Composition;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Formatting;
using PamtGen.Generator;
using PamtGen.Generator.Analyzers;

namespace PamtGen.CodeFixes;

/// <summary>
/// PG0003: returns early where the PTE is already populated, before the allocation, and drops the branch that
/// freed the page again: the shape of the seed's populate after Nikolay Borisov's review.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MoveAllocationAfterCheckCodeFix)), Shared]
public sealed class MoveAllocationAfterCheckCodeFix() : KernelCodeFix(DiagnosticDescriptors.AllocationBeforeCheck)
{
    private const string FixTitle = "Check pte_none first, allocate only where the PTE is none";

    private protected override string? Title(SyntaxNode root, Diagnostic diagnostic) => FixTitle;

    /// <summary>The first allocation of the member's findings that the fix knows the shape of, fixed (the others are the same populate).</summary>
    private protected override SyntaxNode? FixMember(SyntaxNode member, SemanticModel model, IReadOnlyList<Diagnostic> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
        {
            var allocation = member.FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<StatementSyntax>();
            if (allocation?.Parent is BlockSyntax { Parent: MethodDeclarationSyntax } body && PteCheckSyntax.PteParameter(body) is { } pte
                && KernelApi.For(model.Compilation) is { } api && FindCheck(body, allocation, model, api) is var (check, noneWhenTrue))
            {
                return Fix(member, body, allocation, check, noneWhenTrue, pte);
            }
        }

        return null;
    }

    /// <summary>
    /// The early return before the allocation, and the check after it replaced by what runs where the PTE is none: its
    /// none branch (nothing, where the check has only the populated one), and where that branch always leaves the
    /// method without an else, the rest of its block dropped too (it ran only where the PTE was populated).
    /// </summary>
    private static SyntaxNode Fix(SyntaxNode root, BlockSyntax body, StatementSyntax allocation, IfStatementSyntax check, bool noneWhenTrue, string pte)
    {
        var earlyOut = PteCheckSyntax.ReturnEarly(body, pte, whereNone: false);
        var none = noneWhenTrue ? check.Statement : check.Else?.Statement;
        var kept = none is null ? [] : none is BlockSyntax block ? block.Statements.ToArray() : [none];
        var replacement = kept.Select(s => s.WithAdditionalAnnotations(Formatter.Annotation)).ToList();
        var dead = check.Else is null && noneWhenTrue && kept.Length > 0 && Leaves(kept[kept.Length - 1]) && check.Parent is BlockSyntax container
            ? container.Statements.SkipWhile(st => st != check).Skip(1).ToList()
            : [];
        var tracked = root.TrackNodes([allocation, check, .. dead]);
        tracked = tracked.RemoveNodes(dead.Select(d => tracked.GetCurrentNode(d)!), SyntaxRemoveOptions.KeepNoTrivia)!;
        var currentCheck = tracked.GetCurrentNode(check)!;
        tracked = replacement.Count > 0 ? tracked.ReplaceNode(currentCheck, replacement) : tracked.RemoveNode(currentCheck, SyntaxRemoveOptions.KeepNoTrivia)!;
        var currentAllocation = tracked.GetCurrentNode(allocation)!;
        return tracked.InsertNodesBefore(currentAllocation, [earlyOut.WithLeadingTrivia(currentAllocation.GetLeadingTrivia())]);
    }

    /// <summary>A statement that always leaves the method: a return or a throw.</summary>
    private static bool Leaves(StatementSyntax statement) => statement is ReturnStatementSyntax or ThrowStatementSyntax;

    /// <summary>
    /// The if statement after the allocation, at any depth (inside a lock, say), that tests whether the PTE is none:
    /// PteNone(...) of PtepGet(pte) or of a local holding it, negated or not, or a bool local holding such a test; and
    /// whether its condition being true means none.
    /// </summary>
    private static (IfStatementSyntax Check, bool NoneWhenTrue)? FindCheck(BlockSyntax body, StatementSyntax allocation, SemanticModel model, KernelApi api)
    {
        foreach (var candidate in body.DescendantNodes().OfType<IfStatementSyntax>().Where(i => i.SpanStart > allocation.Span.End))
        {
            if (IsPteNoneTest(candidate.Condition, model, api, depth: 0) is { } noneWhenTrue)
            {
                return (candidate, noneWhenTrue);
            }
        }

        return null;
    }

    /// <summary>True for PteNone(...), false for !PteNone(...): the call recognised as the symbol pte_none() is, whatever its spelling; a bool local by its initializer.</summary>
    private static bool? IsPteNoneTest(ExpressionSyntax condition, SemanticModel model, KernelApi api, int depth) => condition switch
    {
        PrefixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.LogicalNotExpression } not => IsPteNoneTest(not.Operand, model, api, depth) is { } inner ? !inner : null,
        ParenthesizedExpressionSyntax parenthesized => IsPteNoneTest(parenthesized.Expression, model, api, depth),
        InvocationExpressionSyntax call when api.IsCall(model.GetOperation(call), KernelFunction.PteNone, out _) => true,
        IdentifierNameSyntax flag when depth < 4 && model.GetSymbolInfo(flag).Symbol is ILocalSymbol { Type.SpecialType: SpecialType.System_Boolean } local
            && local.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() is VariableDeclaratorSyntax { Initializer.Value: { } value } => IsPteNoneTest(value, model, api, depth + 1),
        _ => null,
    };
}
