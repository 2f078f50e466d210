using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace PamtGen.CodeFixes;

/// <summary>
/// The skeleton every PamtGen code fix shares: the id it fixes taken from the rule's descriptor, one registration loop
/// over the reported diagnostics, and Fix All. A fix rewrites the member (method, property, field) the diagnostics are
/// in, given all of its diagnostics at once: so Fix All fixes a method with two findings in one pass, as one edit (the
/// batch fixer merges per-diagnostic edits and drops those that touch the same lines, which is why a method-level
/// fix such as an early return before the allocation needs its own provider).
/// </summary>
public abstract class KernelCodeFix : CodeFixProvider
{
    private protected KernelCodeFix(DiagnosticDescriptor rule) => FixableDiagnosticIds = [rule.Id];

    /// <inheritdoc/>
    public sealed override ImmutableArray<string> FixableDiagnosticIds { get; }

    /// <inheritdoc/>
    public sealed override FixAllProvider GetFixAllProvider() =>
        FixAllProvider.Create(FixDocumentAsync, [FixAllScope.Document, FixAllScope.Project, FixAllScope.Solution, FixAllScope.ContainingMember, FixAllScope.ContainingType]);

    /// <inheritdoc/>
    public sealed override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        if (await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false) is not { } root
            || await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false) is not { } model)
        {
            return;
        }

        foreach (var diagnostic in context.Diagnostics)
        {
            if (MemberOf(root, diagnostic) is { } member && Title(root, diagnostic) is { } title && FixMember(member, model, [diagnostic]) is { } fixedMember)
            {
                var document = context.Document;
                context.RegisterCodeFix(
                    CodeAction.Create(title, _ => Task.FromResult(document.WithSyntaxRoot(root.ReplaceNode(member, fixedMember))), EquivalenceKey(root, diagnostic)),
                    diagnostic);
            }
        }
    }

    /// <summary>Fix All in one document: the diagnostics of the chosen kind, grouped by member, each member fixed once.</summary>
    private async Task<Document?> FixDocumentAsync(FixAllContext context, Document document, ImmutableArray<Diagnostic> diagnostics)
    {
        if (await document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false) is not { } root
            || await document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false) is not { } model)
        {
            return null;
        }

        var fixes = new Dictionary<SyntaxNode, SyntaxNode>();
        foreach (var group in diagnostics
            .Where(d => context.CodeActionEquivalenceKey is null || EquivalenceKey(root, d) == context.CodeActionEquivalenceKey)
            .GroupBy(d => MemberOf(root, d)))
        {
            if (group.Key is { } member && FixMember(member, model, group.OrderBy(d => d.Location.SourceSpan.Start).ToList()) is { } fixedMember)
            {
                fixes[member] = fixedMember;
            }
        }

        return fixes.Count == 0 ? document : document.WithSyntaxRoot(root.ReplaceNodes(fixes.Keys, (original, _) => fixes[original]));
    }

    /// <summary>The member a diagnostic is in: the innermost method, property, field or other member around it.</summary>
    private static SyntaxNode? MemberOf(SyntaxNode root, Diagnostic diagnostic) =>
        root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).FirstAncestorOrSelf<MemberDeclarationSyntax>(m => m is not BaseTypeDeclarationSyntax);

    /// <summary>The title of the fix of <paramref name="diagnostic"/>, or null where it has none.</summary>
    private protected abstract string? Title(SyntaxNode root, Diagnostic diagnostic);

    /// <summary>The key Fix All groups by: the title unless one key serves several titles.</summary>
    private protected virtual string? EquivalenceKey(SyntaxNode root, Diagnostic diagnostic) => Title(root, diagnostic);

    /// <summary>
    /// <paramref name="member"/> (of the document <paramref name="model"/> is of) with <paramref name="diagnostics"/>, all
    /// in it and in source order, fixed; null where the code is not of a shape the fix knows. The model is there to
    /// recognise kernel calls as symbols (<see cref="Generator.Analyzers.KernelApi"/>), never by their text.
    /// </summary>
    private protected abstract SyntaxNode? FixMember(SyntaxNode member, SemanticModel model, IReadOnlyList<Diagnostic> diagnostics);

    /// <summary>
    /// Applies <paramref name="fix"/> to each node of <paramref name="targets"/> in <paramref name="member"/> in turn, each
    /// found again in the member as the earlier ones left it (the fix gets the member now, the node now, and the node as
    /// it was): for fixes whose findings are independent statements.
    /// </summary>
    private protected static SyntaxNode? FixEach<TNode>(SyntaxNode member, IReadOnlyList<TNode> targets, System.Func<SyntaxNode, TNode, TNode, SyntaxNode> fix)
        where TNode : SyntaxNode
    {
        var distinct = targets.Distinct().ToList();
        if (distinct.Count == 0)
        {
            return null;
        }

        var current = member.TrackNodes(distinct);
        foreach (var target in distinct)
        {
            if (current.GetCurrentNode(target) is { } now)
            {
                current = fix(current, now, target);
            }
        }

        return current;
    }
}
