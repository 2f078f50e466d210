using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;

namespace PamtGen.CodeFixes;

/// <summary>PG0005: removes the lock and keeps what it guarded.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RemoveLockCodeFix)), Shared]
public sealed class RemoveLockCodeFix : CodeFixProvider
{
    private const string Title = "Remove the page-table lock";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["PG0005"];

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (var diagnostic in context.Diagnostics)
        {
            if (root?.FindToken(diagnostic.Location.SourceSpan.Start).Parent?.FirstAncestorOrSelf<LockStatementSyntax>() is not { } lockStatement)
            {
                continue;
            }

            context.RegisterCodeFix(CodeAction.Create(Title, _ => Task.FromResult(context.Document.WithSyntaxRoot(Unwrap(root, lockStatement))), Title), diagnostic);
        }
    }

    private static SyntaxNode Unwrap(SyntaxNode root, LockStatementSyntax lockStatement)
    {
        var body = lockStatement.Statement is BlockSyntax block ? block.Statements.ToArray() : [lockStatement.Statement];
        var statements = body.Select(s => s.WithAdditionalAnnotations(Formatter.Annotation)).ToArray();
        return lockStatement.Parent is BlockSyntax && statements.Length > 0
            ? root.ReplaceNode(lockStatement, statements.Select((s, i) => i == 0 ? s.WithLeadingTrivia(lockStatement.GetLeadingTrivia().AddRange(s.GetLeadingTrivia())) : s))
            : root.ReplaceNode(lockStatement, lockStatement.Statement.WithTriviaFrom(lockStatement));
    }
}
