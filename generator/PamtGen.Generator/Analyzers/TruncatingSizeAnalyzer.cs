using System;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace PamtGen.Generator.Analyzers;

/// <summary>
/// PG0004: a size computed with a floor of a PFN by a geometry's refcount granularity (a division by its PtrsPerPte or
/// a refcount page's PFNs, or a right shift by the log2 of either, then scaled), where the generated class has the
/// rounding helper: the seed's v4 teardown,
/// <c>max_pfn / PTRS_PER_PTE * sizeof(*pamt_refcounts)</c>, which loses the last refcount page when max_pfn is not
/// a multiple of 512.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class TruncatingSizeAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The property naming the geometry class, for the code fix.</summary>
    public const string GeometryProperty = "Geometry";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = [DiagnosticDescriptors.TruncatingSize];

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            if (KernelApi.For(start.Compilation) is { PageTableGeometryAttribute: not null } api)
            {
                // A syntax filter first: only a division or shift by an expression naming a geometry constant is bound to
                // an operation, so the rule costs next to nothing on the rest of the code.
                start.RegisterSyntaxNodeAction(node => Analyze(node, api), SyntaxKind.DivideExpression, SyntaxKind.RightShiftExpression);
            }
        });
    }

    /// <summary>The generated constants a refcount floor's divisor or shift is written with; other divisions are not bound.</summary>
    private static readonly string[] GeometryNames = ["PtrsPerPte", "PfnsPerRefcountShift", "PfnsPerRefcountPageShift", "RefcountsPerPage", "PmdShift", "PageShift"];

    private static void Analyze(SyntaxNodeAnalysisContext context, KernelApi api)
    {
        var expression = (BinaryExpressionSyntax)context.Node;
        if (!expression.Right.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>().Any(n => GeometryNames.Contains(n.Identifier.ValueText))
            || context.SemanticModel.GetOperation(expression, context.CancellationToken) is not IBinaryOperation binary
            || Floor(api, binary) is not { } geometry)
        {
            return;
        }

        // (x + PtrsPerPte - 1) / PtrsPerPte, (x + 511) >> PfnsPerRefcountShift: rounded up already.
        if (KernelApi.Unwrap(binary.LeftOperand) is IBinaryOperation { OperatorKind: BinaryOperatorKind.Add or BinaryOperatorKind.Subtract } sum
            && sum.DescendantsAndSelf().OfType<IBinaryOperation>().Any(b => b.OperatorKind == BinaryOperatorKind.Add
                && b.DescendantsAndSelf().Any(o => o.ConstantValue.HasValue || o is IFieldReferenceOperation)))
        {
            return;
        }

        // A size or a count: scaled by an element size (a multiplication, or a left shift by its log2), or stored under a
        // name that says size, bytes, count or pages.
        var parent = Outer(binary);
        bool scaled = parent is IBinaryOperation { OperatorKind: BinaryOperatorKind.Multiply or BinaryOperatorKind.LeftShift } outer && outer.LeftOperand.Syntax.Span.Contains(binary.Syntax.Span);
        if (!scaled && !NamesASize(parent))
        {
            return;
        }

        var reported = scaled ? parent! : binary;
        string helper = $"{geometry.Name}.RefcountAreaSize({binary.LeftOperand.Syntax})";
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.TruncatingSize,
            reported.Syntax.GetLocation(),
            ImmutableDictionary<string, string?>.Empty.Add(GeometryProperty, geometry.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)),
            reported.Syntax.ToString(),
            helper));
    }

    /// <summary>
    /// The geometry whose refcount granularity <paramref name="binary"/> floors a PFN by: a division by its PtrsPerPte (the
    /// PFNs one refcount covers) or by the PFNs one refcount page covers, or a right shift by the log2 of either, the
    /// divisor or shift written with the geometry's constants (<c>G.PtrsPerPte</c>, <c>G.PmdShift - G.PageShift</c>,
    /// <c>G.PfnsPerRefcountPageShift</c>), where the generated class has the rounding helper.
    /// </summary>
    private static INamedTypeSymbol? Floor(KernelApi api, IBinaryOperation binary)
    {
        if (binary.OperatorKind is not (BinaryOperatorKind.Divide or BinaryOperatorKind.RightShift)
            || ToUInt64(binary.RightOperand.ConstantValue) is not { } amount)
        {
            return null;
        }

        INamedTypeSymbol? geometry = null;
        foreach (var field in binary.RightOperand.DescendantsAndSelf().OfType<IFieldReferenceOperation>())
        {
            if (api.IsGeometryConstant(field, null, out var owner))
            {
                geometry = owner;
                break;
            }
        }

        if (geometry is null || !geometry.GetMembers("RefcountAreaSize").Any())
        {
            return null;
        }

        var shifts = new[] { "PfnsPerRefcountShift", "PfnsPerRefcountPageShift" }
            .Select(name => geometry.GetMembers(name).OfType<IFieldSymbol>().FirstOrDefault(f => f.HasConstantValue)?.ConstantValue)
            .Select(ToUInt64).OfType<ulong>().Where(shift => shift < 64).ToList();
        if (geometry.GetMembers("PtrsPerPte").OfType<IFieldSymbol>().FirstOrDefault(f => f.HasConstantValue) is { } ptrs && ToUInt64(ptrs.ConstantValue) is { } perPte
            && shifts.Count == 0)
        {
            shifts.Add((ulong)Math.Log(perPte, 2)); // a geometry class written without the refcount constants: PtrsPerPte PFNs per refcount
        }

        bool floors = binary.OperatorKind == BinaryOperatorKind.RightShift
            ? shifts.Contains(amount)
            : shifts.Any(shift => amount == 1UL << (int)shift);
        return floors ? geometry : null;
    }

    private static ulong? ToUInt64(Optional<object?> constant) => constant.HasValue ? ToUInt64(constant.Value) : null;

    private static ulong? ToUInt64(object? value) => value switch
    {
        int i when i >= 0 => (ulong)i,
        long l when l >= 0 => (ulong)l,
        uint u => u,
        ulong u => u,
        _ => null,
    };

    private static IOperation? Outer(IOperation operation)
    {
        var parent = operation.Parent;
        while (parent is IConversionOperation)
        {
            parent = parent.Parent;
        }

        return parent;
    }

    private static bool NamesASize(IOperation? parent)
    {
        string? name = parent switch
        {
            ISimpleAssignmentOperation { Target: ILocalReferenceOperation local } => local.Local.Name,
            IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator } => declarator.Symbol.Name,
            _ => null,
        };
        return name is not null && new[] { "size", "bytes", "count", "pages" }.Any(word => name.IndexOf(word, StringComparison.OrdinalIgnoreCase) >= 0);
    }
}
