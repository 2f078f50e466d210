using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace PamtGen.Generator.Analyzers;

/// <summary>The runtime's kernel functions the rules recognise, each a method (or overloads) of one runtime type.</summary>
internal enum KernelFunction
{
    /// <summary>set_pte_at(): <c>Pgtable.SetPteAt</c>.</summary>
    SetPteAt,

    /// <summary>pte_clear(): <c>Pgtable.PteClear</c>.</summary>
    PteClear,

    /// <summary>ptep_get(): <c>Pgtable.PtepGet</c>.</summary>
    PtepGet,

    /// <summary>pte_none(): <c>Pgtable.PteNone</c>.</summary>
    PteNone,

    /// <summary>mk_pte(): <c>Pgtable.MkPte</c>.</summary>
    MkPte,

    /// <summary>pfn_pte(): <c>Pgtable.PfnPte</c>.</summary>
    PfnPte,

    /// <summary>flush_tlb_kernel_range(): <c>Pgtable.FlushTlbKernelRange</c>.</summary>
    FlushTlbKernelRange,

    /// <summary>__free_page(): <c>PageAllocator.FreePage</c>.</summary>
    FreePage,

    /// <summary>pte_page(): <c>PageAllocator.PtePage</c> (both overloads).</summary>
    PtePage,

    /// <summary>tlb_flush_pte_range() into an mmu_gather: <c>TlbGather.Add</c>.</summary>
    TlbGatherAdd,

    /// <summary>tlb_finish_mmu(): <c>TlbGather.Flush</c>.</summary>
    TlbGatherFlush,

    /// <summary>A TLBI VAE1/IPAS2E1 or INVLPG of one page: <c>Tlb.InvalidateAddress</c>.</summary>
    TlbInvalidateAddress,

    /// <summary>A TLBI of a range or of everything (flush_tlb_range(), TLBI VMALLE1): <c>Tlb.InvalidateRange</c>, <c>InvalidateAll</c>.</summary>
    TlbInvalidateRange,

    /// <summary>pte_present(): <c>Pgtable.PtePresent</c>.</summary>
    PtePresent,

    /// <summary>set_pte_bit(): <c>Pgtable.SetPteBit</c>.</summary>
    SetPteBit,

    /// <summary>clear_pte_bit(): <c>Pgtable.ClearPteBit</c>.</summary>
    ClearPteBit,
}

/// <summary>
/// The runtime's kernel API as one compilation sees it: its types and methods resolved once per compilation and shared by
/// every analyzer (<see cref="For"/>; the one place to update when the runtime's API changes), and the recognisers of
/// pte_none(), ptep_get(), set_pte_at(), alloc_page() and friends in operations. Compared as symbols, never by name.
/// </summary>
internal sealed class KernelApi
{
    /// <summary>Where each <see cref="KernelFunction"/> is declared: its type and its method names, the only names the rules know.</summary>
    private static readonly (KernelFunction Function, string Type, string[] Methods)[] Declarations =
    [
        (KernelFunction.SetPteAt, PgtableType, ["SetPteAt"]),
        (KernelFunction.PteClear, PgtableType, ["PteClear"]),
        (KernelFunction.PtepGet, PgtableType, ["PtepGet"]),
        (KernelFunction.PteNone, PgtableType, ["PteNone"]),
        (KernelFunction.MkPte, PgtableType, ["MkPte"]),
        (KernelFunction.PfnPte, PgtableType, ["PfnPte"]),
        (KernelFunction.FlushTlbKernelRange, PgtableType, ["FlushTlbKernelRange"]),
        (KernelFunction.FreePage, PageAllocatorType, ["FreePage"]),
        (KernelFunction.PtePage, PageAllocatorType, ["PtePage"]),
        (KernelFunction.TlbGatherAdd, "PamtGen.TlbGather", ["Add"]),
        (KernelFunction.TlbGatherFlush, "PamtGen.TlbGather", ["Flush"]),
        (KernelFunction.TlbInvalidateAddress, "PamtGen.Tlb", ["InvalidateAddress"]),
        (KernelFunction.TlbInvalidateRange, "PamtGen.Tlb", ["InvalidateRange", "InvalidateAll"]),
        (KernelFunction.PtePresent, PgtableType, ["PtePresent"]),
        (KernelFunction.SetPteBit, PgtableType, ["SetPteBit"]),
        (KernelFunction.ClearPteBit, PgtableType, ["ClearPteBit"]),
    ];

    private const string PgtableType = "PamtGen.Pgtable";
    private const string PageAllocatorType = "PamtGen.PageAllocator";

    private static readonly ConditionalWeakTable<Compilation, StrongBox<KernelApi?>> s_byCompilation = new();

    private readonly Dictionary<IMethodSymbol, KernelFunction> _functions = new(SymbolEqualityComparer.Default);

    private KernelApi(Compilation compilation, INamedTypeSymbol pte, INamedTypeSymbol ptePointer, INamedTypeSymbol pgtable)
    {
        Pte = pte;
        PtePointer = ptePointer;
        Pgtable = pgtable;
        var declaringTypes = Declarations.Select(d => d.Type).Distinct().ToDictionary(name => name, compilation.GetTypeByMetadataName);
        foreach (var (function, type, methods) in Declarations)
        {
            var declaring = declaringTypes[type];
            foreach (var method in methods.SelectMany(name => declaring?.GetMembers(name) ?? []).OfType<IMethodSymbol>())
            {
                _functions[method] = function;
            }
        }

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

        // The format as the generator resolves it, through the same rules; a declaration with problems (the generator
        // reports them) or a geometry without a level count has no rules to read.
        var problems = new List<FormatProblem>();
        var declaration = PamtGenerator.ReadFormatDeclaration(holders[0], problems);
        int? levels = geometry.GetAttributes().FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, PageTableGeometryAttribute)) is { } geometryData
            ? PamtGenerator.Named(geometryData)("Levels") as int?
            : null;
        bool anyField = declaration.Fields.Any(f => f.BreakBeforeMake != BreakBeforeMakeRule.None);
        if (declaration.Format is not { } format || !(format.BreakBeforeMake || anyField) || problems.Count > 0 || levels is not (>= 1 and <= 5))
        {
            return EntryBreakRules.None;
        }

        var tables = EntryFormatRules.Resolve(format, declaration.Leaves, declaration.Fields, declaration.Checks, levels.Value);
        var withers = ImmutableDictionary.CreateBuilder<string, BreakBeforeMakeRule>();
        foreach (var field in declaration.Fields.Where(f => f.BreakBeforeMake != BreakBeforeMakeRule.None))
        {
            withers["With" + field.Name] = field.BreakBeforeMake;
        }

        const int Pte = (int)PageTableLevel.Pte;
        int leaf = EntryFormatRules.Slot(Pte, EntryKinds.Leaf);
        return new EntryBreakRules(
            true, withers.ToImmutable(), tables[Pte].ValidMask, tables[Pte].ValidValue, tables[Pte].ValidAny,
            ChangeMask: tables.BbmOnChange[leaf] | (format.BreakBeforeMake ? tables[Pte].LeafAddressMask : 0), SetMask: tables.BbmOnSet[leaf]);
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

    public INamedTypeSymbol? Mm { get; }

    public INamedTypeSymbol? PteCallbackAttribute { get; }

    public INamedTypeSymbol? AllocatesPageAttribute { get; }

    public INamedTypeSymbol? TakesPageOwnershipAttribute { get; }

    public INamedTypeSymbol? PageTableGeometryAttribute { get; }

    /// <summary>
    /// The API of a compilation that references the runtime, built once per compilation for every analyzer, as
    /// roslyn-analyzers' <c>WellKnownTypeProvider.GetOrCreate</c>; null for one that does not (then no rule runs).
    /// </summary>
    public static KernelApi? For(Compilation compilation) =>
        s_byCompilation.GetValue(compilation, c => new StrongBox<KernelApi?>(Create(c))).Value;

    private static KernelApi? Create(Compilation compilation) =>
        compilation.GetTypeByMetadataName("PamtGen.Pte") is { } pte
        && compilation.GetTypeByMetadataName("PamtGen.PtePointer") is { } ptePointer
        && compilation.GetTypeByMetadataName(PgtableType) is { } pgtable
        && compilation.GetTypeByMetadataName(PageAllocatorType) is not null
            ? new KernelApi(compilation, pte, ptePointer, pgtable)
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

    /// <summary>A call of <paramref name="function"/>.</summary>
    public bool IsCall(IOperation? operation, KernelFunction function, out IInvocationOperation call)
    {
        call = null!;
        if (Unwrap(operation) is IInvocationOperation invocation && FunctionOf(invocation) == function)
        {
            call = invocation;
            return true;
        }

        return false;
    }

    /// <summary>Which kernel function <paramref name="call"/> calls, or null for any other method.</summary>
    public KernelFunction? FunctionOf(IInvocationOperation call) =>
        _functions.TryGetValue(call.TargetMethod.OriginalDefinition, out var function) ? function : null;

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
}

/// <summary>
/// A format's break-before-make rules as PG0006 reads them: whether any change can need one; the With-ers of the fields
/// that need one (<see cref="BreakBeforeMakeRule.OnChange"/> on any change, <see cref="BreakBeforeMakeRule.OnSet"/> when
/// set); and, for the generic bit helpers (<c>SetPteBit</c>/<c>ClearPteBit</c> with a constant mask), the pte level's valid
/// bits, the bits whose change needs one (the output address and the OnChange fields) and those whose setting does.
/// </summary>
internal sealed record EntryBreakRules(bool Applies, ImmutableDictionary<string, BreakBeforeMakeRule> Withers, ulong ValidMask, ulong ValidValue, ulong ValidAny, ulong ChangeMask, ulong SetMask)
{
    public static readonly EntryBreakRules None = new(false, ImmutableDictionary<string, BreakBeforeMakeRule>.Empty, 0, 0, 0, 0, 0);
}
