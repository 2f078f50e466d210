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

/// <summary>PG0004: replaces the truncating size with the generated <c>RefcountAreaSize(maxPfn)</c>, the one size init and teardown share.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseRefcountAreaSizeCodeFix)), Shared]
public sealed class UseRefcountAreaSizeCodeFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["PG0004"];

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (var diagnostic in context.Diagnostics)
        {
            if (root?.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not ExpressionSyntax reported)
            {
                continue;
            }

            var size = reported.AncestorsAndSelf().OfType<BinaryExpressionSyntax>().FirstOrDefault(b => b.Span == diagnostic.Location.SourceSpan);
            var floor = size?.DescendantNodesAndSelf().OfType<BinaryExpressionSyntax>()
                .FirstOrDefault(b => b.IsKind(SyntaxKind.DivideExpression) || b.IsKind(SyntaxKind.RightShiftExpression));
            if (size is null || floor?.Right is not MemberAccessExpressionSyntax { Expression: var geometry })
            {
                continue;
            }

            string title = $"Use {geometry}.RefcountAreaSize({floor.Left})";
            var call = SyntaxFactory.InvocationExpression(
                    SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, geometry.WithoutTrivia(), SyntaxFactory.IdentifierName("RefcountAreaSize")),
                    SyntaxFactory.ArgumentList(SyntaxFactory.SingletonSeparatedList(SyntaxFactory.Argument(floor.Left.WithoutTrivia()))))
                .WithTriviaFrom(size)
                .WithAdditionalAnnotations(Formatter.Annotation);
            context.RegisterCodeFix(CodeAction.Create(title, _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(size, call))), nameof(UseRefcountAreaSizeCodeFix)), diagnostic);
        }
    }
}
