using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace PamtGen.Generator.Analyzers;

/// <summary>Recognises the runtime's kernel API in operations: pte_none(), ptep_get(), set_pte_at(), alloc_page() and friends.</summary>
internal static class KernelApi
{
    private const string Pgtable = "PamtGen.Pgtable";
    private const string PageAllocator = "PamtGen.PageAllocator";

    /// <summary>
    /// A PTE callback: a [PteCallback] method, or any method of the pte_fn_t shape
    /// <c>static int M(ref Pte pte, ulong addr, T data)</c>. <paramref name="pte"/> is its PTE parameter.
    /// </summary>
    public static bool IsPteCallback(ISymbol? symbol, out IParameterSymbol pte)
    {
        pte = null!;
        if (symbol is not IMethodSymbol method || method.Parameters.Length != 3 || method.Parameters[0].RefKind != RefKind.Ref
            || method.Parameters[0].Type.ToDisplayString() != "PamtGen.Pte")
        {
            return false;
        }

        bool marked = method.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == "PamtGen.PteCallbackAttribute");
        bool shaped = method.IsStatic && method.ReturnType.SpecialType == SpecialType.System_Int32 && method.Parameters[1].Type.SpecialType == SpecialType.System_UInt64;
        pte = method.Parameters[0];
        return marked || shaped;
    }

    /// <summary>A call of <c>Pgtable.<paramref name="name"/></c>.</summary>
    public static bool IsPgtableCall(IOperation? operation, string name, out IInvocationOperation call) =>
        IsCall(operation, Pgtable, name, out call);

    /// <summary>A call of <c>PageAllocator.<paramref name="name"/></c>.</summary>
    public static bool IsAllocatorCall(IOperation? operation, string name, out IInvocationOperation call) =>
        IsCall(operation, PageAllocator, name, out call);

    /// <summary>alloc_page() or any method marked [AllocatesPage].</summary>
    public static bool IsAllocation(IOperation? operation) =>
        Unwrap(operation) is IInvocationOperation call
        && call.TargetMethod.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == "PamtGen.AllocatesPageAttribute");

    /// <summary>The argument bound to the parameter named <paramref name="name"/>, conversions removed.</summary>
    public static IOperation? Argument(IInvocationOperation call, string name) =>
        Unwrap(call.Arguments.FirstOrDefault(a => a.Parameter?.Name == name)?.Value);

    /// <summary><paramref name="operation"/> is a reference to <paramref name="parameter"/>.</summary>
    public static bool IsParameter(IOperation? operation, IParameterSymbol parameter) =>
        Unwrap(operation) is IParameterReferenceOperation reference && SymbolEqualityComparer.Default.Equals(reference.Parameter, parameter);

    /// <summary><paramref name="operation"/> reads a local, and which.</summary>
    public static bool IsLocal(IOperation? operation, out ILocalSymbol local)
    {
        local = null!;
        if (Unwrap(operation) is ILocalReferenceOperation reference)
        {
            local = reference.Local;
            return true;
        }

        return false;
    }

    /// <summary>Implicit and identity conversions removed.</summary>
    public static IOperation? Unwrap(IOperation? operation)
    {
        while (operation is IConversionOperation conversion && (conversion.IsImplicit || conversion.Conversion.IsIdentity))
        {
            operation = conversion.Operand;
        }

        return operation;
    }

    private static bool IsCall(IOperation? operation, string type, string name, out IInvocationOperation call)
    {
        call = null!;
        if (Unwrap(operation) is IInvocationOperation invocation && invocation.TargetMethod.Name == name
            && invocation.TargetMethod.ContainingType?.ToDisplayString() == type)
        {
            call = invocation;
            return true;
        }

        return false;
    }
}
