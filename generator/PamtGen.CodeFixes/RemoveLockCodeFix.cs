using System.Collections.Generic;
using System.Composition;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Formatting;
using PamtGen.Generator;

namespace PamtGen.CodeFixes;

/// <summary>PG0005: removes the lock and keeps what it guarded.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RemoveLockCodeFix)), Shared]
public sealed class RemoveLockCodeFix() : KernelCodeFix(DiagnosticDescriptors.LockNotNeeded)
{
    private const string FixTitle = "Remove the page-table lock";

    private protected override string? Title(SyntaxNode root, Diagnostic diagnostic) => LockOf(root, diagnostic) is null ? null : FixTitle;

    private protected override SyntaxNode? FixMember(SyntaxNode member, SemanticModel model, IReadOnlyList<Diagnostic> diagnostics) =>
        FixEach(member, diagnostics.Select(d => LockOf(member, d)).OfType<LockStatementSyntax>().ToList(), (current, lockStatement, _) => Unwrap(current, lockStatement));

    private static LockStatementSyntax? LockOf(SyntaxNode root, Diagnostic diagnostic) =>
        root.FindToken(diagnostic.Location.SourceSpan.Start).Parent?.FirstAncestorOrSelf<LockStatementSyntax>();

    private static SyntaxNode Unwrap(SyntaxNode root, LockStatementSyntax lockStatement)
    {
        var body = lockStatement.Statement is BlockSyntax block ? block.Statements.ToArray() : [lockStatement.Statement];
        var statements = body.Select(s => s.WithAdditionalAnnotations(Formatter.Annotation)).ToArray();
        return lockStatement.Parent is BlockSyntax && statements.Length > 0
            ? root.ReplaceNode(lockStatement, statements.Select((s, i) => i == 0 ? s.WithLeadingTrivia(lockStatement.GetLeadingTrivia().AddRange(s.GetLeadingTrivia())) : s))
            : root.ReplaceNode(lockStatement, lockStatement.Statement.WithTriviaFrom(lockStatement));
    }
}
