using System.Collections.Generic;
using System.Composition;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Formatting;
using PamtGen.Generator;

namespace PamtGen.CodeFixes;

/// <summary>PG0004: replaces the truncating size with the generated <c>RefcountAreaSize(maxPfn)</c>, the one size init and teardown share.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseRefcountAreaSizeCodeFix)), Shared]
public sealed class UseRefcountAreaSizeCodeFix() : KernelCodeFix(DiagnosticDescriptors.TruncatingSize)
{
    private protected override string? Title(SyntaxNode root, Diagnostic diagnostic) =>
        Parts(root, diagnostic) is var (_, floor, geometry) ? $"Use {geometry}.RefcountAreaSize({floor.Left})" : null;

    private protected override string? EquivalenceKey(SyntaxNode root, Diagnostic diagnostic) => nameof(UseRefcountAreaSizeCodeFix);

    private protected override SyntaxNode? FixMember(SyntaxNode member, SemanticModel model, IReadOnlyList<Diagnostic> diagnostics) =>
        FixEach(member, diagnostics.Select(d => Parts(member, d)?.Size).OfType<BinaryExpressionSyntax>().ToList(), (current, size, _) =>
            Parts(size) is var (_, floor, geometry)
                ? current.ReplaceNode(size, SyntaxFactory.InvocationExpression(
                        SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, geometry.WithoutTrivia(), SyntaxFactory.IdentifierName("RefcountAreaSize")),
                        SyntaxFactory.ArgumentList(SyntaxFactory.SingletonSeparatedList(SyntaxFactory.Argument(floor.Left.WithoutTrivia()))))
                    .WithTriviaFrom(size)
                    .WithAdditionalAnnotations(Formatter.Annotation))
                : current);

    /// <summary>The reported size expression, the floor in it, and the geometry as the code spells it.</summary>
    private static (BinaryExpressionSyntax Size, BinaryExpressionSyntax Floor, ExpressionSyntax Geometry)? Parts(SyntaxNode root, Diagnostic diagnostic) =>
        root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is ExpressionSyntax reported
        && reported.AncestorsAndSelf().OfType<BinaryExpressionSyntax>().FirstOrDefault(b => b.Span == diagnostic.Location.SourceSpan) is { } size
            ? Parts(size)
            : null;

    private static (BinaryExpressionSyntax Size, BinaryExpressionSyntax Floor, ExpressionSyntax Geometry)? Parts(BinaryExpressionSyntax size)
    {
        var floor = size.DescendantNodesAndSelf().OfType<BinaryExpressionSyntax>()
            .FirstOrDefault(b => b.IsKind(SyntaxKind.DivideExpression) || b.IsKind(SyntaxKind.RightShiftExpression));

        // The geometry as the code spells it: the class of the first constant the divisor or shift names (G.PtrsPerPte,
        // G.PmdShift - G.PageShift).
        return floor?.Right.DescendantNodesAndSelf().OfType<MemberAccessExpressionSyntax>().FirstOrDefault() is { Expression: var geometry }
            ? (size, floor, geometry)
            : null;
    }
}
