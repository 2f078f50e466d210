using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;

namespace PamtGen.CodeFixes;

/// <summary>
/// PG0003: returns early where the PTE is already populated, before the allocation, and drops the branch that
/// freed the page again: the shape of the seed's populate after Nikolay Borisov's review.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MoveAllocationAfterCheckCodeFix)), Shared]
public sealed class MoveAllocationAfterCheckCodeFix : CodeFixProvider
{
    private const string Title = "Check pte_none first, allocate only where the PTE is none";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["PG0003"];

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (var diagnostic in context.Diagnostics)
        {
            var allocation = root?.FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<StatementSyntax>();
            if (allocation?.Parent is not BlockSyntax body || body.Parent is not MethodDeclarationSyntax || PteCheckSyntax.PteParameter(body) is not { } pte
                || FindCheck(body, allocation) is not { } check || NoneBranch(check) is not { } keep)
            {
                continue;
            }

            context.RegisterCodeFix(CodeAction.Create(Title, _ => Task.FromResult(context.Document.WithSyntaxRoot(Fix(root!, body, allocation, check, keep, pte))), Title), diagnostic);
        }
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
    private static IfStatementSyntax? FindCheck(BlockSyntax body, StatementSyntax allocation) =>
        body.DescendantNodes().OfType<IfStatementSyntax>()
            .FirstOrDefault(i => i.SpanStart > allocation.Span.End && IsPteNoneTest(i.Condition) is not null && i.Else is not null);

    /// <summary>The branch that runs where the PTE is none.</summary>
    private static StatementSyntax? NoneBranch(IfStatementSyntax check) =>
        IsPteNoneTest(check.Condition) switch
        {
            true => check.Statement,
            false => check.Else?.Statement,
            null => null,
        };

    /// <summary>True for PteNone(...), false for !PteNone(...).</summary>
    private static bool? IsPteNoneTest(ExpressionSyntax condition) => condition switch
    {
        PrefixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.LogicalNotExpression } not => IsPteNoneTest(not.Operand) is { } inner ? !inner : null,
        ParenthesizedExpressionSyntax parenthesized => IsPteNoneTest(parenthesized.Expression),
        InvocationExpressionSyntax { Expression: var callee } when callee.ToString().EndsWith("PteNone", System.StringComparison.Ordinal) => true,
        _ => null,
    };
}
