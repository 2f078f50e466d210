using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace PamtGen.Generator.Analyzers;

/// <summary>
/// PG0006: in a PTE callback on a format with break-before-make (arm64's; x86's has none), a valid entry replaced on
/// some path by one that may differ in a way that needs it (another output address, or a field the format marks: memory
/// type, shareability, nG set) without, in between, the entry made invalid and the TLB invalidated for it; or a new
/// entry written while the TLB may still hold one the PTE held before (cleared or replaced, not invalidated since).
/// The format is the one of the generated entry struct the callback uses; a change through the struct's With-ers of
/// fields that need no break-before-make (permissions, the access flag) keeps the mapping. See <see cref="BreakBeforeMakeFlow"/>.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class BreakBeforeMakeAnalyzer : OperationBlockAnalyzer
{
    /// <summary>The property the code fix reads: "ClearAndFlush" when the PTE may still be valid, "Flush" when only the TLB is stale.</summary>
    public const string InsertProperty = "Insert";

    /// <summary>The property the code fix reads: "true" when the PTE is proven populated at the write (PG0001's analysis), so the clear needs no check.</summary>
    public const string PopulatedProperty = "Populated";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = [DiagnosticDescriptors.BreakBeforeMake];

    /// <inheritdoc/>
    private protected override void Analyze(OperationBlockAnalysisContext context, KernelApi api)
    {
        if (!api.IsPteCallback(context.OwningSymbol, out var pte))
        {
            return;
        }

        var facts = CallbackFacts.Of(api, context.OperationBlocks, pte);
        if (!facts.WritesPtes || FormatOf(api, context.OperationBlocks) is not var (geometry, rules))
        {
            return;
        }

        CallbackBodies.ForEach(context, graph =>
        {
            var flow = new BreakBeforeMakeFlow(facts, rules);
            if (!flow.Run(graph) || flow.Findings.Count == 0)
            {
                return;
            }

            // What PG0001's analysis proves at each write, for the fix; run only where there is something to fix.
            var checks = new PteNoneFlow(facts);
            if (!checks.Run(graph))
            {
                return;
            }

            foreach (var finding in flow.Findings)
            {
                var (call, direct) = (finding.Key, finding.Value);
                bool populated = checks.PopulatedAtWrite.TryGetValue(call, out bool proven) && proven;
                var properties = ImmutableDictionary<string, string?>.Empty.Add(InsertProperty, direct ? "ClearAndFlush" : "Flush").Add(PopulatedProperty, populated ? "true" : "false");
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.BreakBeforeMake, call.Syntax.GetLocation(), properties, geometry.Name,
                    direct ? "over an entry that may still be valid" : "while the TLB may still hold the entry it held before (cleared or replaced, not invalidated since)"));
            }
        });
    }

    /// <summary>
    /// The geometry whose format the method's entries are in, when that format has break-before-make: the first generated
    /// entry struct the method uses whose format needs it. Null for a method that uses none (raw Pte values, x86's helpers).
    /// </summary>
    private static (INamedTypeSymbol Geometry, EntryBreakRules Rules)? FormatOf(KernelApi api, ImmutableArray<IOperation> blocks)
    {
        var seen = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
        foreach (var operation in blocks.SelectMany(b => b.DescendantsAndSelf()))
        {
            var type = operation is IInvocationOperation call && api.IsEntryType(call.TargetMethod.ContainingType) ? call.TargetMethod.ContainingType : operation.Type;
            if (type is { ContainingType: { } geometry } && api.IsEntryType(type) && seen.Add(type) && api.BreakRulesOf(type) is { Applies: true } rules)
            {
                return (geometry, rules);
            }
        }

        return null;
    }
}
