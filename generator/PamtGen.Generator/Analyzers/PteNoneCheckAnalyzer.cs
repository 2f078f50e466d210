using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace PamtGen.Generator.Analyzers;

/// <summary>
/// One flow over a PTE callback (<see cref="PteNoneFlow"/>), two rules, as roslyn-analyzers' CA2000 reports
/// several ids from one analysis:
/// PG0001: set_pte_at() must be dominated by a check that the PTE is none, and pte_clear() or the freeing of the
/// page behind the PTE by a check that it is not (the review's Binbin Wu and Kiryl Shutsemau: holes and aborted
/// populates leave none PTEs). PG0003: a page allocated before any pte_none check and freed again on the path
/// where the check found the PTE populated, as the seed's populate does (Nikolay Borisov: "perform the pte_none()
/// check before doing the allocation").
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class PteNoneCheckAnalyzer : OperationBlockAnalyzer
{
    /// <summary>The property the PG0001 code fix reads: "None" when the statement needs a none PTE, "NotNone" otherwise.</summary>
    public const string CheckProperty = "Check";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        [DiagnosticDescriptors.MissingPteNoneCheck, DiagnosticDescriptors.AllocationBeforeCheck];

    /// <inheritdoc/>
    private protected override void Analyze(OperationBlockAnalysisContext context, KernelApi api)
    {
        if (!api.IsPteCallback(context.OwningSymbol, out var pte))
        {
            return;
        }

        var facts = CallbackFacts.Of(api, context.OperationBlocks, pte);
        if (!facts.TouchesPtes)
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

            foreach (var (call, needsNone) in flow.Unchecked.Distinct())
            {
                string what = api.FunctionOf(call) switch
                {
                    KernelFunction.SetPteAt => "SetPteAt writes the PTE",
                    KernelFunction.PteClear => "PteClear clears the PTE",
                    _ => "the page behind the PTE is freed",
                };
                var properties = ImmutableDictionary<string, string?>.Empty.Add(CheckProperty, needsNone ? "None" : "NotNone");
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.MissingPteNoneCheck, call.Syntax.GetLocation(), properties, what, needsNone ? "none" : "populated"));
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
