using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace PamtGen.Generator.Analyzers;

/// <summary>
/// The runtime's kernel API as one compilation sees it: its types resolved once per compilation (the one place
/// to update when the runtime's types change), and the recognisers of pte_none(), ptep_get(), set_pte_at(),
/// alloc_page() and friends in operations. Types are compared as symbols, never by name.
/// </summary>
internal sealed class KernelApi
{
    private KernelApi(Compilation compilation, INamedTypeSymbol pte, INamedTypeSymbol ptePointer, INamedTypeSymbol pgtable, INamedTypeSymbol pageAllocator)
    {
        Pte = pte;
        PtePointer = ptePointer;
        Pgtable = pgtable;
        PageAllocator = pageAllocator;
        Mm = compilation.GetTypeByMetadataName("PamtGen.Mm");
        PteCallbackAttribute = compilation.GetTypeByMetadataName("PamtGen.PteCallbackAttribute");
        AllocatesPageAttribute = compilation.GetTypeByMetadataName("PamtGen.AllocatesPageAttribute");
        TakesPageOwnershipAttribute = compilation.GetTypeByMetadataName("PamtGen.TakesPageOwnershipAttribute");
        PageTableGeometryAttribute = compilation.GetTypeByMetadataName("PamtGen.PageTableGeometryAttribute");
        PageTableEntry = compilation.GetTypeByMetadataName("PamtGen.IPageTableEntry");
        Geometry = compilation.GetTypeByMetadataName("PamtGen.Geometry");
        Tlb = compilation.GetTypeByMetadataName("PamtGen.Tlb");
        TlbGather = compilation.GetTypeByMetadataName("PamtGen.TlbGather");
        EntryFormatAttribute = compilation.GetTypeByMetadataName("PamtGen.EntryFormatAttribute");
        EntryFieldAttribute = compilation.GetTypeByMetadataName("PamtGen.EntryFieldAttribute");
    }

    /// <summary><c>PamtGen.Geometry</c>, the runtime's view of a geometry: its Make...Entry methods encode entries in its format.</summary>
    public INamedTypeSymbol? Geometry { get; }

    /// <summary><c>PamtGen.Tlb</c>, the TLB model: its Invalidate methods are TLBI/INVLPG.</summary>
    public INamedTypeSymbol? Tlb { get; }

    /// <summary><c>PamtGen.TlbGather</c>, the mmu_gather: Add, then Flush.</summary>
    public INamedTypeSymbol? TlbGather { get; }

    public INamedTypeSymbol? EntryFormatAttribute { get; }

    public INamedTypeSymbol? EntryFieldAttribute { get; }

    private readonly ConcurrentDictionary<ITypeSymbol, EntryBreakRules> _breakRules = new(SymbolEqualityComparer.Default);

    /// <summary>
    /// What the format of a generated entry struct (<c>Stage2.Entry</c>) says about break-before-make: read from the format
    /// attributes of its geometry (or the ready-made format the geometry applies) through the rules the generator and the
    /// runtime read them with, once per struct and compilation. A geometry with no format of its own has x86's: no rule.
    /// </summary>
    public EntryBreakRules BreakRulesOf(ITypeSymbol entryType) => _breakRules.GetOrAdd(entryType, ReadBreakRules);

    private EntryBreakRules ReadBreakRules(ITypeSymbol entryType)
    {
        if (entryType.ContainingType is not { } geometry || EntryFormatAttribute is null)
        {
            return EntryBreakRules.None;
        }

        var holders = geometry.GetAttributes().Select(a => a.AttributeClass).OfType<INamedTypeSymbol>().Where(c => HasAttribute(c, EntryFormatAttribute)).ToList();
        if (HasAttribute(geometry, EntryFormatAttribute))
        {
            holders.Add(geometry);
        }

        if (holders.Count != 1)
        {
            return EntryBreakRules.None; // x86's default, or the generator's PG1022 for two formats
        }

        var attributes = holders[0].GetAttributes();
        var format = attributes.FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, EntryFormatAttribute)) is { } data
            ? EntryFormatRules.ReadFormat(PamtGenerator.Named(data), [])
            : null;
        var withers = ImmutableDictionary.CreateBuilder<string, int>();
        foreach (var field in attributes.Where(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, EntryFieldAttribute)))
        {
            var args = field.ConstructorArguments;
            if (args.Length >= 2 && args[0].Value is string name && args[1].Value is int low)
            {
                var decl = EntryFormatRules.ReadField(name, low, args.Length > 2 && args[2].Value is int high ? high : low, PamtGenerator.Named(field));
                if (decl.BreakBeforeMake != EntryFormatRules.BbmNone)
                {
                    withers["With" + name] = decl.BreakBeforeMake;
                }
            }
        }

        return format is null ? EntryBreakRules.None : new EntryBreakRules(format.BreakBeforeMake || withers.Count > 0, withers.ToImmutable());
    }

    /// <summary><c>PamtGen.IPageTableEntry</c>, what every generated entry struct (<c>Stage2.Entry</c>) is.</summary>
    public INamedTypeSymbol? PageTableEntry { get; }

    /// <summary>A generated entry struct: a type implementing <see cref="PageTableEntry"/>.</summary>
    public bool IsEntryType(ITypeSymbol? type) =>
        PageTableEntry is not null && type is not null && type.AllInterfaces.Any(i => SymbolEqualityComparer.Default.Equals(i, PageTableEntry));

    /// <summary><c>PamtGen.Pte</c>, the pte_t.</summary>
    public INamedTypeSymbol Pte { get; }

    /// <summary><c>PamtGen.PtePointer</c>, the pte_t * a callback gets.</summary>
    public INamedTypeSymbol PtePointer { get; }

    /// <summary><c>PamtGen.Pgtable</c>, the entry helpers.</summary>
    public INamedTypeSymbol Pgtable { get; }

    /// <summary><c>PamtGen.PageAllocator</c>: alloc_page(), __free_page(), pte_page().</summary>
    public INamedTypeSymbol PageAllocator { get; }

    public INamedTypeSymbol? Mm { get; }

    public INamedTypeSymbol? PteCallbackAttribute { get; }

    public INamedTypeSymbol? AllocatesPageAttribute { get; }

    public INamedTypeSymbol? TakesPageOwnershipAttribute { get; }

    public INamedTypeSymbol? PageTableGeometryAttribute { get; }

    /// <summary>The API of a compilation that references the runtime; null for one that does not (then no rule runs).</summary>
    public static KernelApi? Create(Compilation compilation) =>
        compilation.GetTypeByMetadataName("PamtGen.Pte") is { } pte
        && compilation.GetTypeByMetadataName("PamtGen.PtePointer") is { } ptePointer
        && compilation.GetTypeByMetadataName("PamtGen.Pgtable") is { } pgtable
        && compilation.GetTypeByMetadataName("PamtGen.PageAllocator") is { } allocator
            ? new KernelApi(compilation, pte, ptePointer, pgtable, allocator)
            : null;

    /// <summary>
    /// A PTE callback: a [PteCallback] method, or any method of the pte_fn_t shape
    /// <c>static int M(PtePointer pte, ulong addr, T data)</c>. <paramref name="pte"/> is its PTE parameter.
    /// </summary>
    public bool IsPteCallback(ISymbol? symbol, out IParameterSymbol pte)
    {
        pte = null!;
        if (symbol is not IMethodSymbol method || method.Parameters.Length != 3 || method.Parameters[0].RefKind != RefKind.None
            || !SymbolEqualityComparer.Default.Equals(method.Parameters[0].Type, PtePointer))
        {
            return false;
        }

        bool shaped = method.IsStatic && method.ReturnType.SpecialType == SpecialType.System_Int32 && method.Parameters[1].Type.SpecialType == SpecialType.System_UInt64;
        pte = method.Parameters[0];
        return shaped || HasAttribute(method, PteCallbackAttribute);
    }

    /// <summary>A call of <c>Pgtable.<paramref name="name"/></c>.</summary>
    public bool IsPgtableCall(IOperation? operation, string name, out IInvocationOperation call) =>
        IsCall(operation, Pgtable, name, out call);

    /// <summary>A call of <c>PageAllocator.<paramref name="name"/></c>.</summary>
    public bool IsAllocatorCall(IOperation? operation, string name, out IInvocationOperation call) =>
        IsCall(operation, PageAllocator, name, out call);

    /// <summary>alloc_page() or any method marked [AllocatesPage].</summary>
    public bool IsAllocation(IOperation? operation) =>
        Unwrap(operation) is IInvocationOperation call && HasAttribute(call.TargetMethod, AllocatesPageAttribute);

    /// <summary>A parameter marked [TakesPageOwnership].</summary>
    public bool TakesOwnership(IParameterSymbol? parameter) => parameter is not null && HasAttribute(parameter, TakesPageOwnershipAttribute);

    /// <summary><c>mm.PageTableLock</c>, init_mm.page_table_lock.</summary>
    public bool IsPageTableLock(IOperation? operation) =>
        Unwrap(operation) is IPropertyReferenceOperation { Property.Name: "PageTableLock" } property
        && SymbolEqualityComparer.Default.Equals(property.Property.ContainingType, Mm);

    /// <summary>A constant field of a [PageTableGeometry] class (named <paramref name="name"/>, if given).</summary>
    public bool IsGeometryConstant(IOperation operand, string? name, out INamedTypeSymbol geometry)
    {
        geometry = null!;
        if (Unwrap(operand) is IFieldReferenceOperation { Field: { IsConst: true } field }
            && (name is null || field.Name == name)
            && HasAttribute(field.ContainingType, PageTableGeometryAttribute))
        {
            geometry = field.ContainingType;
            return true;
        }

        return false;
    }

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

    private static bool HasAttribute(ISymbol symbol, INamedTypeSymbol? attribute) =>
        attribute is not null && symbol.GetAttributes().Any(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, attribute));

    private static bool IsCall(IOperation? operation, INamedTypeSymbol type, string name, out IInvocationOperation call)
    {
        call = null!;
        if (Unwrap(operation) is IInvocationOperation invocation && invocation.TargetMethod.Name == name
            && SymbolEqualityComparer.Default.Equals(invocation.TargetMethod.ContainingType, type))
        {
            call = invocation;
            return true;
        }

        return false;
    }
}

/// <summary>
/// A format's break-before-make rules as PG0006 reads them: whether any change can need one, and the With-ers of the
/// fields that need one (<see cref="EntryFormatRules.BbmOnChange"/> on any change, <see cref="EntryFormatRules.BbmOnSet"/>
/// when set).
/// </summary>
internal sealed record EntryBreakRules(bool Applies, ImmutableDictionary<string, int> Withers)
{
    public static readonly EntryBreakRules None = new(false, ImmutableDictionary<string, int>.Empty);
}
