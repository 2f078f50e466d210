using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Simplification;

namespace PamtGen.CodeFixes;

/// <summary>The check the fixes insert, <c>PteNone(PtepGet(pte))</c>, fully qualified and marked for simplification.</summary>
internal static class PteCheckSyntax
{
    /// <summary>The check, written as short as the file's usings allow: PteNone(...) under <c>using static PamtGen.Pgtable</c>.</summary>
    public static ExpressionSyntax PteNone(SyntaxNode context, string pteParameter, bool negate)
    {
        string prefix = PgtablePrefix(context);
        var check = SyntaxFactory.ParseExpression($"{prefix}PteNone({prefix}PtepGet({pteParameter}))").WithAdditionalAnnotations(Simplifier.Annotation);
        return negate ? SyntaxFactory.PrefixUnaryExpression(SyntaxKind.LogicalNotExpression, check) : check;
    }

    /// <summary>
    /// The check first, as kernel callbacks write it: <c>if (!PteNone(PtepGet(pte))) return 0;</c> (returning where the PTE
    /// is populated; with <paramref name="whereNone"/>, where it is none), with <paramref name="exit"/> as the return.
    /// </summary>
    public static IfStatementSyntax ReturnEarly(SyntaxNode context, string pteParameter, bool whereNone, ReturnStatementSyntax? exit = null) =>
        SyntaxFactory.IfStatement(
                PteNone(context, pteParameter, negate: !whereNone),
                SyntaxFactory.Block(exit ?? SyntaxFactory.ReturnStatement(SyntaxFactory.LiteralExpression(SyntaxKind.NumericLiteralExpression, SyntaxFactory.Literal(0)))))
            .WithAdditionalAnnotations(Microsoft.CodeAnalysis.Formatting.Formatter.Annotation);

    /// <summary>What a call of a <c>Pgtable</c> helper needs in front of its name in the file of <paramref name="context"/>: nothing under <c>using static PamtGen.Pgtable</c>.</summary>
    public static string PgtablePrefix(SyntaxNode context)
    {
        var usings = context.SyntaxTree.GetCompilationUnitRoot().Usings;
        return usings.Any(u => u.StaticKeyword.IsKind(SyntaxKind.StaticKeyword) && u.Name?.ToString() == "PamtGen.Pgtable") ? ""
            : usings.Any(u => !u.StaticKeyword.IsKind(SyntaxKind.StaticKeyword) && u.Alias is null && u.Name?.ToString() == "PamtGen") ? "Pgtable."
            : "global::PamtGen.Pgtable.";
    }

    /// <summary>The name of the PTE parameter of the method around <paramref name="node"/>.</summary>
    public static string? PteParameter(SyntaxNode node) =>
        node.FirstAncestorOrSelf<MethodDeclarationSyntax>() is { ParameterList.Parameters: { Count: > 0 } parameters }
            ? parameters[0].Identifier.ValueText
            : null;
}
