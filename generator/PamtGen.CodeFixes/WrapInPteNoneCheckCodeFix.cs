using System.Collections.Immutable;
using System.Composition;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;
using PamtGen.Generator.Analyzers;

namespace PamtGen.CodeFixes;

/// <summary>PG0001: wraps the statement in the check it lacks, <c>if (PteNone(PtepGet(pte)))</c> or its negation.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(WrapInPteNoneCheckCodeFix)), Shared]
public sealed class WrapInPteNoneCheckCodeFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["PG0001"];

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (var diagnostic in context.Diagnostics)
        {
            var statement = root?.FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<StatementSyntax>();
            bool needsNone = diagnostic.Properties.TryGetValue(PteNoneCheckAnalyzer.CheckProperty, out var check) && check == "None";
            if (statement is null || PteCheckSyntax.PteParameter(statement) is not { } pte)
            {
                continue;
            }

            string title = needsNone ? "Do it only where PteNone(PtepGet(pte))" : "Do it only where !PteNone(PtepGet(pte))";
            context.RegisterCodeFix(
                CodeAction.Create(title, _ => Task.FromResult(context.Document.WithSyntaxRoot(root!.ReplaceNode(statement, Wrap(statement, pte, needsNone)))), title),
                diagnostic);
        }
    }

    private static IfStatementSyntax Wrap(StatementSyntax statement, string pte, bool needsNone) =>
        SyntaxFactory.IfStatement(PteCheckSyntax.PteNone(statement, pte, negate: !needsNone), SyntaxFactory.Block(statement.WithoutTrivia()))
            .WithTriviaFrom(statement)
            .WithAdditionalAnnotations(Formatter.Annotation);
}
