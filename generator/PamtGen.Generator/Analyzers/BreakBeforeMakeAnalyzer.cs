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
        if (!facts.WritesPtes || FormatOf(api, context.OperationBlocks) is not { } geometry)
        {
            return;
        }

        CallbackBodies.ForEach(context, graph =>
        {
            var flow = new BreakBeforeMakeFlow(facts, value => KeepsEntry(facts, value, []));
            if (!flow.Run(graph))
            {
                return;
            }

            foreach (var finding in flow.Findings)
            {
                var (call, direct) = (finding.Key, finding.Value);
                var properties = ImmutableDictionary<string, string?>.Empty.Add(InsertProperty, direct ? "ClearAndFlush" : "Flush");
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
    private static INamedTypeSymbol? FormatOf(KernelApi api, ImmutableArray<IOperation> blocks)
    {
        var seen = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
        foreach (var operation in blocks.SelectMany(b => b.DescendantsAndSelf()))
        {
            var type = operation is IInvocationOperation call && api.IsEntryType(call.TargetMethod.ContainingType) ? call.TargetMethod.ContainingType : operation.Type;
            if (type is { ContainingType: { } geometry } && api.IsEntryType(type) && seen.Add(type) && api.BreakRulesOf(type).Applies)
            {
                return geometry;
            }
        }

        return null;
    }

    /// <summary>
    /// Whether a value written to the PTE is its own entry changed only where no break-before-make is needed: the entry
    /// read with ptep_get(), through the generated struct's With-ers of fields the format does not mark (a field marked
    /// OnSet may be cleared), or a local every assignment of which is such a value. Anything else (a new entry, a marked
    /// field changed, x86's bit helpers, which know nothing of arm64's fields) may need break-before-make.
    /// </summary>
    private static bool KeepsEntry(CallbackFacts facts, IOperation? value, HashSet<ILocalSymbol> visiting)
    {
        var api = facts.Api;
        value = Unwrap(api, value);
        if (KernelApi.IsLocal(value, out var local))
        {
            // A local assigned in a loop from itself (e = e.WithX(...)) keeps the entry if its other assignments do.
            return visiting.Contains(local)
                || (facts.Assignments.TryGetValue(local, out var values) && visiting.Add(local) && values.All(v => KeepsEntry(facts, v, visiting)));
        }

        if (facts.IsEntry(value))
        {
            return true;
        }

        if (value is IObjectCreationOperation { Arguments.Length: 1 } creation && (api.IsEntryType(creation.Type) || SymbolEqualityComparer.Default.Equals(creation.Type, api.Pte)))
        {
            var argument = KernelApi.Unwrap(creation.Arguments[0].Value);
            return argument is IPropertyReferenceOperation { Property.Name: "Value" } raw && KeepsEntry(facts, raw.Instance, visiting);
        }

        if (value is IInvocationOperation { Instance: { } instance } call && api.IsEntryType(call.TargetMethod.ContainingType)
            && SymbolEqualityComparer.Default.Equals(call.TargetMethod.ReturnType, call.TargetMethod.ContainingType)
            && call.TargetMethod.Name.StartsWith("With", System.StringComparison.Ordinal))
        {
            bool marked = api.BreakRulesOf(call.TargetMethod.ContainingType).Withers.TryGetValue(call.TargetMethod.Name, out var rule);
            bool clears = rule == BreakBeforeMakeRule.OnSet && call.Arguments.Length == 1
                && call.Arguments[0].Value.ConstantValue is { HasValue: true, Value: false or 0UL or 0 };
            return (!marked || clears) && KeepsEntry(facts, instance, visiting);
        }

        return false;
    }

    /// <summary>Conversions removed, the explicit casts between <c>Pte</c> and an entry struct included.</summary>
    private static IOperation? Unwrap(KernelApi api, IOperation? value)
    {
        value = KernelApi.Unwrap(value);
        while (value is IConversionOperation conversion && (api.IsEntryType(conversion.Type) || SymbolEqualityComparer.Default.Equals(conversion.Type, api.Pte)))
        {
            value = KernelApi.Unwrap(conversion.Operand);
        }

        return value;
    }
}
