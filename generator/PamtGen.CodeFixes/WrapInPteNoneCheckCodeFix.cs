using System.Composition;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Formatting;
using PamtGen.Generator;
using PamtGen.Generator.Analyzers;

namespace PamtGen.CodeFixes;

/// <summary>PG0001: wraps the statement in the check it lacks, <c>if (PteNone(PtepGet(pte)))</c> or its negation.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(WrapInPteNoneCheckCodeFix)), Shared]
public sealed class WrapInPteNoneCheckCodeFix() : KernelCodeFix(DiagnosticDescriptors.MissingPteNoneCheck)
{
    private protected override FixOf? Fix(SyntaxNode root, SemanticModel model, Diagnostic diagnostic)
    {
        var statement = root.FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<StatementSyntax>();
        bool needsNone = diagnostic.Properties.TryGetValue(PteNoneCheckAnalyzer.CheckProperty, out var check) && check == "None";
        if (statement is null || PteCheckSyntax.PteParameter(statement) is not { } pte)
        {
            return null;
        }

        string title = needsNone ? "Do it only where PteNone(PtepGet(pte))" : "Do it only where !PteNone(PtepGet(pte))";
        return new FixOf(title, () => root.ReplaceNode(statement, Wrap(statement, pte, needsNone)));
    }

    private static IfStatementSyntax Wrap(StatementSyntax statement, string pte, bool needsNone) =>
        SyntaxFactory.IfStatement(PteCheckSyntax.PteNone(statement, pte, negate: !needsNone), SyntaxFactory.Block(statement.WithoutTrivia()))
            .WithTriviaFrom(statement)
            .WithAdditionalAnnotations(Formatter.Annotation);
}
