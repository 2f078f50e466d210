using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Text;

namespace PamtGen.Generator.Analyzers;

/// <summary>
/// PG0005: a PTE callback that takes the mm's page-table lock. apply_to_page_range() takes
/// init_mm.page_table_lock itself while it installs a missing table, and the caller owns the range it walks,
/// so populate and depopulate never race on one PTE (Rick Edgecombe, Kiryl Shutsemau in the seed's review).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LockNotNeededAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = [DiagnosticDescriptors.LockNotNeeded];

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterOperationAction(Analyze, OperationKind.Lock);
    }

    /// <summary>A lambda or local function in the callback is a function of its own, not the callback's body.</summary>
    private static bool InNestedFunction(IOperation operation)
    {
        for (var parent = operation.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                return true;
            }
        }

        return false;
    }

    private static void Analyze(OperationAnalysisContext context)
    {
        var lockOperation = (ILockOperation)context.Operation;
        if (KernelApi.Unwrap(lockOperation.LockedValue) is not IPropertyReferenceOperation { Property.Name: "PageTableLock" } property
            || property.Property.ContainingType?.ToDisplayString() != "PamtGen.Mm"
            || !KernelApi.IsPteCallback(context.ContainingSymbol, out _)
            || lockOperation.Syntax is not LockStatementSyntax statement
            || InNestedFunction(lockOperation))
        {
            return;
        }

        // The lock (...) header, not the body.
        var header = TextSpan.FromBounds(statement.LockKeyword.SpanStart, statement.CloseParenToken.Span.End);
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.LockNotNeeded, Location.Create(statement.SyntaxTree, header), property.Syntax.ToString()));
    }
}
