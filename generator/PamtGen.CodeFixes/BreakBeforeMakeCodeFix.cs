using System.Collections.Generic;
using System.Composition;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Simplification;
using PamtGen.Generator;
using PamtGen.Generator.Analyzers;

namespace PamtGen.CodeFixes;

/// <summary>
/// PG0006: the break before the write, with the write's own arguments: <c>PteClear(mm, addr, pte);</c> where the PTE
/// may still be valid, then <c>FlushTlbKernelRange(mm, addr, addr + mm.Geometry.PageSize);</c>.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(BreakBeforeMakeCodeFix)), Shared]
public sealed class BreakBeforeMakeCodeFix() : KernelCodeFix(DiagnosticDescriptors.BreakBeforeMake)
{
    /// <summary>One key for both forms, so Fix All breaks before every write the rule reports.</summary>
    private const string FixKey = "Break before make";

    private protected override string? Title(SyntaxNode root, Diagnostic diagnostic) =>
        WriteOf(root, diagnostic) is not { } write || Break(write, Clears(diagnostic)) is null ? null
        : Clears(diagnostic) ? "Clear the PTE and flush its TLB range before the write" : "Flush the PTE's TLB range before the write";

    private protected override string? EquivalenceKey(SyntaxNode root, Diagnostic diagnostic) => FixKey;

    private protected override SyntaxNode? FixMember(SyntaxNode member, SemanticModel model, IReadOnlyList<Diagnostic> diagnostics)
    {
        var clears = new Dictionary<InvocationExpressionSyntax, (bool Clear, bool Populated)>();
        foreach (var diagnostic in diagnostics)
        {
            if (WriteOf(member, diagnostic) is { } write)
            {
                bool populated = diagnostic.Properties.TryGetValue(BreakBeforeMakeAnalyzer.PopulatedProperty, out var proven) && proven == "true";
                clears[write] = (Clears(diagnostic), populated);
            }
        }

        return FixEach(member, clears.Keys.ToList(), (current, write, original) =>
            write.FirstAncestorOrSelf<StatementSyntax>() is { } statement && Break(original, clears[original].Clear, clears[original].Populated) is { } inserted
                ? Insert(current, statement, inserted)
                : current);
    }

    private static bool Clears(Diagnostic diagnostic) =>
        !diagnostic.Properties.TryGetValue(BreakBeforeMakeAnalyzer.InsertProperty, out var insert) || insert == "ClearAndFlush";

    private static InvocationExpressionSyntax? WriteOf(SyntaxNode root, Diagnostic diagnostic) =>
        root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).FirstAncestorOrSelf<InvocationExpressionSyntax>();

    /// <summary>The statements of the break, from the write's mm, addr and ptep arguments; null when one cannot be found.</summary>
    /// <remarks>
    /// Where the PTE is not proven populated at the write, the clear is made only where it is
    /// (<c>if (!PteNone(PtepGet(pte))) PteClear(...)</c>): a clear of a PTE that may be none is PG0001's finding.
    /// </remarks>
    private static StatementSyntax[]? Break(InvocationExpressionSyntax write, bool clear, bool populated = true)
    {
        var arguments = write.ArgumentList.Arguments;
        if (Argument(arguments, 0, "mm") is not { } mm || Argument(arguments, 1, "addr") is not { } addr || Argument(arguments, 2, "ptep") is not { } ptep)
        {
            return null;
        }

        string prefix = PteCheckSyntax.PgtablePrefix(write);
        string start = addr is IdentifierNameSyntax or MemberAccessExpressionSyntax or LiteralExpressionSyntax ? addr.ToString() : $"({addr})";
        var statements = new List<string>();
        if (clear)
        {
            string pteClear = $"{prefix}PteClear({mm}, {addr}, {ptep});";
            statements.Add(populated ? pteClear : $"if (!{prefix}PteNone({prefix}PtepGet({ptep}))) {{ {pteClear} }}");
        }

        statements.Add($"{prefix}FlushTlbKernelRange({mm}, {addr}, {start} + {mm}.Geometry.PageSize);");
        return statements.Select(s => SyntaxFactory.ParseStatement(s).WithTrailingTrivia(SyntaxFactory.ElasticCarriageReturnLineFeed).WithAdditionalAnnotations(Formatter.Annotation, Simplifier.Annotation)).ToArray();
    }

    /// <summary>The expression passed for a parameter, by name or by position.</summary>
    private static ExpressionSyntax? Argument(SeparatedSyntaxList<ArgumentSyntax> arguments, int position, string name) =>
        (arguments.FirstOrDefault(a => a.NameColon?.Name.Identifier.ValueText == name)
            ?? (position < arguments.Count && arguments[position].NameColon is null ? arguments[position] : null))?.Expression;

    /// <summary>The break before the statement: in its block, or, for the lone statement of an if or a loop, in a new block with it.</summary>
    private static SyntaxNode Insert(SyntaxNode root, StatementSyntax statement, StatementSyntax[] inserted)
    {
        if (statement.Parent is BlockSyntax or SwitchSectionSyntax)
        {
            var first = inserted[0].WithLeadingTrivia(statement.GetLeadingTrivia());
            var moved = statement.WithLeadingTrivia(SyntaxFactory.ElasticMarker).WithAdditionalAnnotations(Formatter.Annotation);
            return root.ReplaceNode(statement, [first, .. inserted.Skip(1), moved]);
        }

        return root.ReplaceNode(statement, SyntaxFactory.Block(inserted.Append(statement.WithoutTrivia().WithTrailingTrivia(SyntaxFactory.ElasticCarriageReturnLineFeed)).ToArray()).WithTriviaFrom(statement).WithAdditionalAnnotations(Formatter.Annotation));
    }
}
