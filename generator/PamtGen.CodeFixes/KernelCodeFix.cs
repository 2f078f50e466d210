using System;
using System.Collections.Immutable;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;

namespace PamtGen.CodeFixes;

/// <summary>
/// The skeleton every PamtGen code fix shares: the id it fixes taken from the rule's descriptor, Fix All by batch, and
/// one registration loop over the reported diagnostics; a fix says only what it would do for one diagnostic.
/// </summary>
public abstract class KernelCodeFix : CodeFixProvider
{
    private protected KernelCodeFix(DiagnosticDescriptor rule) => FixableDiagnosticIds = [rule.Id];

    /// <inheritdoc/>
    public sealed override ImmutableArray<string> FixableDiagnosticIds { get; }

    /// <inheritdoc/>
    public sealed override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

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
            if (Fix(root, model, diagnostic) is { } fix)
            {
                var document = context.Document;
                context.RegisterCodeFix(
                    CodeAction.Create(fix.Title, _ => Task.FromResult(document.WithSyntaxRoot(fix.Apply())), fix.EquivalenceKey),
                    diagnostic);
            }
        }
    }

    /// <summary>
    /// The fix of one diagnostic in <paramref name="root"/>, or null where the code is not of a shape the fix knows; the
    /// model is there to recognise kernel calls as symbols (<see cref="Generator.Analyzers.KernelApi"/>), never by their text.
    /// </summary>
    private protected abstract FixOf? Fix(SyntaxNode root, SemanticModel model, Diagnostic diagnostic);

    /// <summary>
    /// A fix as offered: its title, the key Fix All groups by (the title unless one key serves several titles), and the
    /// new root, computed only when the fix is applied.
    /// </summary>
    private protected sealed class FixOf(string title, Func<SyntaxNode> apply, string? equivalenceKey = null)
    {
        public string Title { get; } = title;

        public string EquivalenceKey { get; } = equivalenceKey ?? title;

        public Func<SyntaxNode> Apply { get; } = apply;
    }
}
