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
/// PG0004: a size computed with a floor division of a PFN by a geometry's PtrsPerPte (or a right shift by its
/// PfnsPerRefcountShift), where the generated class has the rounding helper: the seed's v4 teardown,
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
                // A syntax filter first: only a division or shift by something named PtrsPerPte or PfnsPerRefcountShift
                // is bound to an operation, so the rule costs next to nothing on the rest of the code.
                start.RegisterSyntaxNodeAction(node => Analyze(node, api), SyntaxKind.DivideExpression, SyntaxKind.RightShiftExpression);
            }
        });
    }

    private static void Analyze(SyntaxNodeAnalysisContext context, KernelApi api)
    {
        var expression = (BinaryExpressionSyntax)context.Node;
        string? divisor = expression.Right switch
        {
            IdentifierNameSyntax name => name.Identifier.ValueText,
            MemberAccessExpressionSyntax access => access.Name.Identifier.ValueText,
            _ => null,
        };
        if (divisor is not ("PtrsPerPte" or "PfnsPerRefcountShift")
            || context.SemanticModel.GetOperation(expression, context.CancellationToken) is not IBinaryOperation binary)
        {
            return;
        }

        bool floor = binary.OperatorKind switch
        {
            BinaryOperatorKind.Divide => api.IsGeometryConstant(binary.RightOperand, "PtrsPerPte", out _),
            BinaryOperatorKind.RightShift => api.IsGeometryConstant(binary.RightOperand, "PfnsPerRefcountShift", out _),
            _ => false,
        };
        if (!floor || !api.IsGeometryConstant(binary.RightOperand, null, out var geometry) || !geometry.GetMembers("RefcountAreaSize").Any())
        {
            return;
        }

        // (x + PtrsPerPte - 1) / PtrsPerPte rounds up already.
        if (KernelApi.Unwrap(binary.LeftOperand) is IBinaryOperation { OperatorKind: BinaryOperatorKind.Add or BinaryOperatorKind.Subtract } sum
            && sum.DescendantsAndSelf().OfType<IFieldReferenceOperation>().Any(f => SymbolEqualityComparer.Default.Equals(f.Field, ((IFieldReferenceOperation)KernelApi.Unwrap(binary.RightOperand)!).Field)))
        {
            return;
        }

        // A size or a count: multiplied by an element size, or stored under a name that says size, bytes, count or pages.
        var parent = Outer(binary);
        bool sized = parent is IBinaryOperation { OperatorKind: BinaryOperatorKind.Multiply } || NamesASize(parent);
        if (!sized)
        {
            return;
        }

        var reported = parent is IBinaryOperation { OperatorKind: BinaryOperatorKind.Multiply } multiply ? multiply : (IOperation)binary;
        string helper = $"{geometry.Name}.RefcountAreaSize({binary.LeftOperand.Syntax})";
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.TruncatingSize,
            reported.Syntax.GetLocation(),
            ImmutableDictionary<string, string?>.Empty.Add(GeometryProperty, geometry.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)),
            reported.Syntax.ToString(),
            helper));
    }

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
