using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace PamtGen.Generator.Analyzers;

/// <summary>
/// PG0001: in a PTE callback, SetPteAt must be dominated by a check that the PTE is none, and PteClear or the
/// freeing of the page behind the PTE by a check that it is not (the review's Binbin Wu and Kiryl Shutsemau:
/// holes and aborted populates leave none PTEs).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class MissingPteNoneCheckAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The property the code fix reads: "None" when the statement needs a none PTE, "NotNone" otherwise.</summary>
    public const string CheckProperty = "Check";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = [DiagnosticDescriptors.MissingPteNoneCheck];

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
        CallbackBodies.ForEach(context, graph =>
        {
            var flow = new PteNoneFlow(facts);
            if (!flow.Run(graph))
            {
                return;
            }

            foreach (var (call, needsNone) in flow.Unchecked.Distinct())
            {
                string what = call.TargetMethod.Name switch
                {
                    "SetPteAt" => "SetPteAt writes the PTE",
                    "PteClear" => "PteClear clears the PTE",
                    _ => "the page behind the PTE is freed",
                };
                var properties = ImmutableDictionary<string, string?>.Empty.Add(CheckProperty, needsNone ? "None" : "NotNone");
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.MissingPteNoneCheck, call.Syntax.GetLocation(), properties, what, needsNone ? "none" : "populated"));
            }
        });
    }
}
