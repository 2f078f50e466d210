using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace PamtGen.Generator.Analyzers;

/// <summary>
/// PG0003: a PTE callback that allocates a page and frees it again on the path where the pte_none check fails,
/// as the seed's populate does (Nikolay Borisov: "perform the pte_none() check before doing the allocation").
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class AllocationBeforeCheckAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = [DiagnosticDescriptors.AllocationBeforeCheck];

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterOperationBlockAction(Analyze);
    }

    private static void Analyze(OperationBlockAnalysisContext context)
    {
        if (!KernelApi.IsPteCallback(context.OwningSymbol, out var pte))
        {
            return;
        }

        var facts = CallbackFacts.Scan(context.OperationBlocks, pte);
        if (facts.Allocations.Count == 0)
        {
            return;
        }

        CallbackBodies.ForEach(context, graph =>
        {
            var flow = new PteNoneFlow(facts);
            if (!flow.Run(graph))
            {
                return;
            }

            foreach (var local in flow.FreedWherePopulated)
            {
                foreach (var allocation in facts.Allocations[local])
                {
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.AllocationBeforeCheck, allocation.Syntax.GetLocation(), local.Name));
                }
            }
        });
    }
}
