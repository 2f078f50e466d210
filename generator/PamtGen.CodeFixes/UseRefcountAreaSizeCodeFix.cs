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
    private protected override FixOf? Fix(SyntaxNode root, SemanticModel model, Diagnostic diagnostic)
    {
        if (root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not ExpressionSyntax reported)
        {
            return null;
        }

        var size = reported.AncestorsAndSelf().OfType<BinaryExpressionSyntax>().FirstOrDefault(b => b.Span == diagnostic.Location.SourceSpan);
        var floor = size?.DescendantNodesAndSelf().OfType<BinaryExpressionSyntax>()
            .FirstOrDefault(b => b.IsKind(SyntaxKind.DivideExpression) || b.IsKind(SyntaxKind.RightShiftExpression));
        // The geometry as the code spells it: the class of the first constant the divisor or shift names (G.PtrsPerPte,
        // G.PmdShift - G.PageShift).
        if (size is null || floor?.Right.DescendantNodesAndSelf().OfType<MemberAccessExpressionSyntax>().FirstOrDefault() is not { Expression: var geometry })
        {
            return null;
        }

        var call = SyntaxFactory.InvocationExpression(
                SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, geometry.WithoutTrivia(), SyntaxFactory.IdentifierName("RefcountAreaSize")),
                SyntaxFactory.ArgumentList(SyntaxFactory.SingletonSeparatedList(SyntaxFactory.Argument(floor.Left.WithoutTrivia()))))
            .WithTriviaFrom(size)
            .WithAdditionalAnnotations(Formatter.Annotation);
        return new FixOf($"Use {geometry}.RefcountAreaSize({floor.Left})", () => root.ReplaceNode(size, call), nameof(UseRefcountAreaSizeCodeFix));
    }
}
