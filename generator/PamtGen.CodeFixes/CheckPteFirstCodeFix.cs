using System.Collections.Generic;
using System.Composition;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Operations;
using PamtGen.Generator;
using PamtGen.Generator.Analyzers;

namespace PamtGen.CodeFixes;

/// <summary>
/// PG0001: checks the PTE first, as the kernel's callbacks do (<c>if (!pte_none(ptep_get(pte))) return 0;</c>), before the
/// first statement that needs the check or allocates a page before it: so no page is allocated on the path that
/// returns (wrapping the write in the check instead would leak the page the callback allocated for it, PG0002). Where
/// the method also writes the PTE the other way (a write and a clear on different branches), an early return would
/// skip the other one: there each statement is wrapped in the check it lacks instead.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(CheckPteFirstCodeFix)), Shared]
public sealed class CheckPteFirstCodeFix() : KernelCodeFix(DiagnosticDescriptors.MissingPteNoneCheck)
{
    /// <summary>One key for the write's and the clear's fix, so Fix All fixes a callback with both in one pass.</summary>
    private const string FixKey = "Check the PTE first";

    private protected override string? Title(SyntaxNode root, Diagnostic diagnostic) =>
        NeedsNone(diagnostic) ? "Check PteNone(PtepGet(pte)) first" : "Check !PteNone(PtepGet(pte)) first";

    private protected override string? EquivalenceKey(SyntaxNode root, Diagnostic diagnostic) => FixKey;

    private protected override SyntaxNode? FixMember(SyntaxNode member, SemanticModel model, IReadOnlyList<Diagnostic> diagnostics)
    {
        var findings = diagnostics
            .Select(d => (Statement: member.FindNode(d.Location.SourceSpan).FirstAncestorOrSelf<StatementSyntax>(), NeedsNone: NeedsNone(d)))
            .Where(f => f.Statement is not null)
            .Select(f => (Statement: f.Statement!, f.NeedsNone))
            .ToList();
        if (findings.Count == 0 || PteCheckSyntax.PteParameter(member) is not { } pte || KernelApi.For(model.Compilation) is not { } api)
        {
            return null;
        }

        bool needsNone = findings[0].NeedsNone;
        if (member is MethodDeclarationSyntax { Body: { } body } method && ReturnOf(method) is { } exit
            && findings.All(f => f.NeedsNone == needsNone && !Guarded(f.Statement, body))
            && findings.Min(f => Top(body, f.Statement)) is int first and >= 0
            && !OtherWay(body.Statements.Skip(first), needsNone, findings.Select(f => f.Statement), model, api))
        {
            // Before the first statement that needs the check, or the allocation before it that the path must not make.
            int at = body.Statements.Take(first).FirstOrDefault(s => Allocates(s, model, api)) is { } allocation ? body.Statements.IndexOf(allocation) : first;
            // The indentation of the statement it goes before; that statement keeps its comments.
            var indentation = body.Statements[at].GetLeadingTrivia().Reverse().TakeWhile(t => t.IsKind(SyntaxKind.WhitespaceTrivia)).Reverse();
            var earlyOut = PteCheckSyntax.ReturnEarly(body, pte, whereNone: !needsNone, exit)
                .WithLeadingTrivia(indentation)
                .WithTrailingTrivia(body.DescendantTrivia().Where(t => t.IsKind(SyntaxKind.EndOfLineTrivia)).Take(1))
                .WithAdditionalAnnotations(Formatter.Annotation);
            return member.ReplaceNode(body, body.WithStatements(body.Statements.Insert(at, earlyOut)));
        }

        return FixEach(member, findings.Select(f => f.Statement).ToList(), (current, statement, original) =>
            current.ReplaceNode(statement, Wrap(statement, original, pte, findings.First(f => f.Statement == original).NeedsNone)));
    }

    /// <summary>
    /// Whether <paramref name="statement"/> runs under something an early return cannot settle: a check of the PTE
    /// around it (the wrong way round: the check that returns first would contradict it), or a catch or finally block
    /// (which an exception may enter from anywhere). There the statement gets the check itself.
    /// </summary>
    private static bool Guarded(StatementSyntax statement, BlockSyntax body) =>
        statement.Ancestors().TakeWhile(a => a != body).Any(a => a is CatchClauseSyntax or FinallyClauseSyntax
            || (a is IfStatementSyntax { Condition: var condition } && condition.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>()
                .Any(n => n.Identifier.ValueText is "PteNone" or "PtePresent" or "IsNone" or "IsValid" or "PxdPresent" or "PtepGet")));

    private static bool NeedsNone(Diagnostic diagnostic) =>
        diagnostic.Properties.TryGetValue(PteNoneCheckAnalyzer.CheckProperty, out var check) && check == "None";

    /// <summary>The early exit of a callback: <c>return 0;</c> (pte_fn_t returns int), <c>return;</c> for a void method; null otherwise.</summary>
    private static ReturnStatementSyntax? ReturnOf(MethodDeclarationSyntax method) => method.ReturnType switch
    {
        PredefinedTypeSyntax { Keyword.RawKind: (int)SyntaxKind.IntKeyword } =>
            SyntaxFactory.ReturnStatement(SyntaxFactory.LiteralExpression(SyntaxKind.NumericLiteralExpression, SyntaxFactory.Literal(0))),
        PredefinedTypeSyntax { Keyword.RawKind: (int)SyntaxKind.VoidKeyword } => SyntaxFactory.ReturnStatement(),
        _ => null,
    };

    /// <summary>The index in the body of the top-level statement holding <paramref name="statement"/>.</summary>
    private static int Top(BlockSyntax body, StatementSyntax statement) =>
        statement.AncestorsAndSelf().OfType<StatementSyntax>().FirstOrDefault(s => s.Parent == body) is { } top ? body.Statements.IndexOf(top) : -1;

    /// <summary>An allocation (alloc_page() or an [AllocatesPage] method) in <paramref name="statement"/>.</summary>
    private static bool Allocates(StatementSyntax statement, SemanticModel model, KernelApi api) =>
        statement.DescendantNodesAndSelf().OfType<InvocationExpressionSyntax>().Any(call => api.IsAllocation(model.GetOperation(call)));

    /// <summary>
    /// Whether <paramref name="statements"/> change the PTE the other way round from the findings (a write where they
    /// clear or free, a clear or a free of the page behind it where they write), outside the findings: an early return
    /// for one would skip the other.
    /// </summary>
    private static bool OtherWay(IEnumerable<StatementSyntax> statements, bool needsNone, IEnumerable<StatementSyntax> findings, SemanticModel model, KernelApi api)
    {
        var found = findings.ToList();
        foreach (var call in statements.SelectMany(s => s.DescendantNodesAndSelf().OfType<InvocationExpressionSyntax>()))
        {
            if (found.Any(f => f.Span.Contains(call.Span)) || model.GetOperation(call) is not IInvocationOperation operation)
            {
                continue;
            }

            bool writes = api.IsCall(operation, KernelFunction.SetPteAt, out _);
            bool clears = api.IsCall(operation, KernelFunction.PteClear, out _)
                || (api.IsCall(operation, KernelFunction.FreePage, out var free) && KernelApi.Argument(free, "page") is { } page && api.IsCall(page, KernelFunction.PtePage, out _));
            if (needsNone ? clears : writes)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary><paramref name="statement"/> in the check it lacks; <paramref name="inDocument"/> is it as the document has it (its usings spell the check).</summary>
    /// <remarks>
    /// The lone statement of an if, else or loop becomes a block holding the check: an if without braces there would
    /// take the else of an if around it (the dangling else), and change which branch runs what.
    /// </remarks>
    private static StatementSyntax Wrap(StatementSyntax statement, SyntaxNode inDocument, string pte, bool needsNone)
    {
        StatementSyntax wrapped = SyntaxFactory.IfStatement(PteCheckSyntax.PteNone(inDocument, pte, negate: !needsNone), SyntaxFactory.Block(statement.WithoutTrivia()));
        if (statement.Parent is not (BlockSyntax or SwitchSectionSyntax))
        {
            wrapped = SyntaxFactory.Block(wrapped);
        }

        return wrapped.WithTriviaFrom(statement).WithAdditionalAnnotations(Formatter.Annotation);
    }
}
