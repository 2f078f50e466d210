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
    private const string Title = "Check pte_none first, allocate only where the PTE is none";

    private protected override FixOf? Fix(SyntaxNode root, SemanticModel model, Diagnostic diagnostic)
    {
        var allocation = root.FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<StatementSyntax>();
        return allocation?.Parent is BlockSyntax { Parent: MethodDeclarationSyntax } body && PteCheckSyntax.PteParameter(body) is { } pte
            && KernelApi.For(model.Compilation) is { } api && FindCheck(body, allocation, model, api) is { } check && NoneBranch(check, model, api) is { } keep
            ? new FixOf(Title, () => Fix(root, body, allocation, check, keep, pte))
            : null;
    }

    private static SyntaxNode Fix(SyntaxNode root, BlockSyntax body, StatementSyntax allocation, IfStatementSyntax check, StatementSyntax keep, string pte)
    {
        var earlyOut = SyntaxFactory.IfStatement(
                PteCheckSyntax.PteNone(body, pte, negate: true),
                SyntaxFactory.Block(SyntaxFactory.ReturnStatement(SyntaxFactory.LiteralExpression(SyntaxKind.NumericLiteralExpression, SyntaxFactory.Literal(0)))))
            .WithAdditionalAnnotations(Formatter.Annotation);
        var replacement = keep is BlockSyntax block ? block.Statements.Select(s => s.WithAdditionalAnnotations(Formatter.Annotation)).ToArray() : [keep.WithAdditionalAnnotations(Formatter.Annotation)];
        var tracked = root.TrackNodes(allocation, check);
        tracked = tracked.ReplaceNode(tracked.GetCurrentNode(check)!, replacement);
        var currentAllocation = tracked.GetCurrentNode(allocation)!;
        return tracked.InsertNodesBefore(currentAllocation, [earlyOut.WithLeadingTrivia(currentAllocation.GetLeadingTrivia())]);
    }

    /// <summary>The if statement after the allocation that tests PteNone(PtepGet(pte)), at any depth (inside a lock, say).</summary>
    private static IfStatementSyntax? FindCheck(BlockSyntax body, StatementSyntax allocation, SemanticModel model, KernelApi api) =>
        body.DescendantNodes().OfType<IfStatementSyntax>()
            .FirstOrDefault(i => i.SpanStart > allocation.Span.End && IsPteNoneTest(i.Condition, model, api) is not null && i.Else is not null);

    /// <summary>The branch that runs where the PTE is none.</summary>
    private static StatementSyntax? NoneBranch(IfStatementSyntax check, SemanticModel model, KernelApi api) =>
        IsPteNoneTest(check.Condition, model, api) switch
        {
            true => check.Statement,
            false => check.Else?.Statement,
            null => null,
        };

    /// <summary>True for PteNone(...), false for !PteNone(...): the call recognised as the symbol pte_none() is, whatever its spelling.</summary>
    private static bool? IsPteNoneTest(ExpressionSyntax condition, SemanticModel model, KernelApi api) => condition switch
    {
        PrefixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.LogicalNotExpression } not => IsPteNoneTest(not.Operand, model, api) is { } inner ? !inner : null,
        ParenthesizedExpressionSyntax parenthesized => IsPteNoneTest(parenthesized.Expression, model, api),
        InvocationExpressionSyntax call when api.IsCall(model.GetOperation(call), KernelFunction.PteNone, out _) => true,
        _ => null,
    };
}
