using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PamtGen.Generator.Model;

namespace PamtGen.Generator;

public sealed partial class PamtGenerator
{
    private const string PtePointerTypeName = "PamtGen.PtePointer";

    private static readonly SymbolDisplayFormat FullyQualified =
        SymbolDisplayFormat.FullyQualifiedFormat.AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>
    /// Checks that a [PteCallback] method has the pte_fn_t shape, <c>static int M(PtePointer pte, ulong addr, TData data)</c>,
    /// in partial types, and describes its adapter.
    /// </summary>
    internal static CallbackParseResult ParseCallback(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var diagnostics = new List<DiagnosticInfo>();
        var method = (IMethodSymbol)context.TargetSymbol;
        var syntax = (MethodDeclarationSyntax)context.TargetNode;
        string name = method.Name;

        if (!method.IsStatic)
        {
            diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.CallbackNotStatic, LocationInfo.From(syntax.Identifier), name));
        }

        if (method.ReturnType.SpecialType != SpecialType.System_Int32 || method.RefKind != RefKind.None)
        {
            diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.CallbackReturnType, LocationInfo.From(syntax.ReturnType), name, method.ReturnType.ToDisplayString()));
        }

        if (method.IsGenericMethod)
        {
            diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.CallbackGeneric, LocationInfo.From(syntax.TypeParameterList), name));
        }

        if (ParameterProblem(method) is var (problem, at) && problem is not null)
        {
            // On the parameter at fault; on the list when the count is wrong.
            SyntaxNode where = at >= 0 && at < syntax.ParameterList.Parameters.Count ? syntax.ParameterList.Parameters[at] : syntax.ParameterList;
            diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.CallbackParameters, LocationInfo.From(where), name, problem));
        }

        bool containersOk = CheckContainingTypesPartial(syntax.Parent as TypeDeclarationSyntax, "PTE callback", diagnostics);
        cancellationToken.ThrowIfCancellationRequested();
        if (diagnostics.Count > 0 || !containersOk || syntax.Parent is not TypeDeclarationSyntax)
        {
            return new CallbackParseResult(null, new EquatableArray<DiagnosticInfo>(diagnostics));
        }

        var types = new List<TypeDeclarationSpec>();
        for (var parent = syntax.Parent as TypeDeclarationSyntax; parent is not null; parent = parent.Parent as TypeDeclarationSyntax)
        {
            types.Insert(0, new TypeDeclarationSpec(KeywordOf(parent), NameOf(parent)));
        }

        var spec = new CallbackSpec(
            method.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : null,
            new EquatableArray<TypeDeclarationSpec>(types),
            name,
            method.Parameters[2].Type.ToDisplayString(FullyQualified),
            SyntaxFacts.GetText(method.DeclaredAccessibility),
            method.ContainingType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) + "." + name);
        return new CallbackParseResult(spec, EquatableArray<DiagnosticInfo>.Empty);
    }

    /// <summary>What is wrong with the parameters, or null when they are (PtePointer, ulong, TData).</summary>
    private static (string? Problem, int Parameter) ParameterProblem(IMethodSymbol method)
    {
        var parameters = method.Parameters;
        if (parameters.Length != 3)
        {
            return ($"it has {parameters.Length} parameter(s)", -1);
        }

        if (parameters[0].Type.ToDisplayString() != PtePointerTypeName || parameters[0].RefKind != RefKind.None)
        {
            return (parameters[0].Type.ToDisplayString() == PtePointerTypeName
                ? "the PTE pointer must be passed by value, as pte_fn_t's pte_t * is"
                : parameters[0].Type.ToDisplayString() == "PamtGen.Pte"
                    ? $"the first parameter is '{(parameters[0].RefKind == RefKind.Ref ? "ref " : "")}Pte': a callback gets the PTE's pointer, 'PtePointer' (pte_t *), and reads and writes the entry through it with PtepGet and SetPteAt"
                    : $"the first parameter is '{parameters[0].Type.ToDisplayString()}', not 'PtePointer'", 0);
        }

        if (parameters[1].Type.SpecialType != SpecialType.System_UInt64 || parameters[1].RefKind != RefKind.None)
        {
            return ("the second parameter must be the address, a 'ulong' passed by value", 1);
        }

        if (parameters[2].RefKind != RefKind.None || parameters[2].Type is IErrorTypeSymbol || parameters[2].Type.IsRefLikeType)
        {
            return ("the data must be passed by value, with a type a struct field can hold", 2);
        }

        return (null, -1);
    }
}
