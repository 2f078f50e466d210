using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace PamtGen.Generator.Analyzers;

/// <summary>
/// PG0002: path by path over the control-flow graph, every page from AllocPage (or an [AllocatesPage] method)
/// is freed, mapped with SetPteAt, stored, returned or handed to a [TakesPageOwnership] parameter; none is
/// freed twice or used after it was freed; and the page behind a PTE is not freed before the PTE is cleared.
/// A null check of the allocation is understood: the null path holds no page.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class UnbalancedPageAnalyzer : OperationBlockAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = [DiagnosticDescriptors.UnbalancedPage];

    /// <inheritdoc/>
    private protected override void Analyze(OperationBlockAnalysisContext context, KernelApi api)
    {
        api.IsPteCallback(context.OwningSymbol, out var pte);
        var facts = CallbackFacts.Of(api, context.OperationBlocks, pte);
        if (!facts.TouchesPages)
        {
            return;
        }

        CallbackBodies.ForEach(context, graph =>
        {
            var flow = new PageOwnershipFlow(facts);
            if (!flow.Run(graph))
            {
                return;
            }

            // One diagnostic per location: an allocation that leaks both when overwritten and at the exit is one finding.
            foreach (var (location, problem, exits) in flow.Problems.GroupBy(p => p.Location).Select(g => g.First()))
            {
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.UnbalancedPage, location, exits, problem));
            }
        });
    }
}
