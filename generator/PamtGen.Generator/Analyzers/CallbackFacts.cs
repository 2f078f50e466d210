using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace PamtGen.Generator.Analyzers;

/// <summary>
/// What the locals of one method hold, found by one pass over its operations: entries read with
/// ptep_get(pte), pages taken with pte_page() of such an entry, pages from an allocation, and entries made
/// with mk_pte() of such a page. Kernel callbacks assign these once, so a flow-insensitive view serves.
/// </summary>
internal sealed class CallbackFacts
{
    private CallbackFacts(KernelApi api, IParameterSymbol? pte)
    {
        Api = api;
        Pte = pte;
    }

    /// <summary>The compilation's kernel API.</summary>
    public KernelApi Api { get; }

    /// <summary>The semantic model of the method's syntax tree (the operations of a control-flow graph carry none), or null.</summary>
    public SemanticModel? Model { get; private set; }

    /// <summary>The callback's PTE parameter, or null in a method that is not a PTE callback.</summary>
    public IParameterSymbol? Pte { get; }

    public HashSet<ILocalSymbol> EntryLocals { get; } = new(SymbolEqualityComparer.Default);

    /// <summary>Locals holding the PTE's entry changed by the pte bit helpers (pte_mkwrite(entry), set_pte_bit(entry, ...)).</summary>
    public HashSet<ILocalSymbol> ModifiedEntryLocals { get; } = new(SymbolEqualityComparer.Default);

    public HashSet<ILocalSymbol> PtePageLocals { get; } = new(SymbolEqualityComparer.Default);

    /// <summary>Bool locals holding a pte_none()-style check, with what the local being true and false proves (none: true).</summary>
    public Dictionary<ILocalSymbol, (bool? WhenTrue, bool? WhenFalse)> NoneFlagLocals { get; } = new(SymbolEqualityComparer.Default);

    /// <summary>Locals that receive an allocation, with each allocating call.</summary>
    public Dictionary<ILocalSymbol, List<IInvocationOperation>> Allocations { get; } = new(SymbolEqualityComparer.Default);

    /// <summary>The locals whose pages the ownership flow follows: allocations, then pages taken from the PTE; a local's place is its index.</summary>
    public List<ILocalSymbol> TrackedLocals { get; } = [];

    private readonly Dictionary<ILocalSymbol, int> _trackedIndex = new(SymbolEqualityComparer.Default);

    /// <summary>The index of a tracked local (or of the one a copy of it refers to) in <see cref="TrackedLocals"/>, or -1.</summary>
    public int TrackedIndex(ILocalSymbol local) => _trackedIndex.TryGetValue(Canonical(local), out int i) ? i : -1;

    /// <summary>
    /// Copies of a tracked page reference (<c>var other = page;</c>, every assignment of the copy that same local): a
    /// free through the copy is a free of the page, so freeing both is a double free.
    /// </summary>
    private readonly Dictionary<ILocalSymbol, ILocalSymbol> _copies = new(SymbolEqualityComparer.Default);

    /// <summary>The tracked local a copy refers to; any other local itself.</summary>
    public ILocalSymbol Canonical(ILocalSymbol local) => _copies.TryGetValue(local, out var original) ? original : local;

    /// <summary>The method calls __free_page().</summary>
    public bool FreesPages { get; private set; }

    /// <summary>The method calls set_pte_at() or pte_clear().</summary>
    public bool WritesPtes { get; private set; }

    /// <summary>Whether a PTE rule (PG0001, PG0003) has anything to look at: a PTE written or cleared, or a page freed.</summary>
    public bool TouchesPtes => Pte is not null && (WritesPtes || FreesPages);

    /// <summary>Whether the page rule (PG0002) has anything to look at: an allocation, or, in a PTE callback, a free (of the page behind the PTE).</summary>
    public bool TouchesPages => Allocations.Count > 0 || (Pte is not null && FreesPages);

    /// <summary>Every value stored in each local (its initializer and its assignments), in no particular order.</summary>
    public Dictionary<ILocalSymbol, List<IOperation>> Assignments { get; } = new(SymbolEqualityComparer.Default);

    /// <summary>Entries made from a page: mk_pte(page, prot) stored in a local.</summary>
    public Dictionary<ILocalSymbol, ILocalSymbol> EntryOfPage { get; } = new(SymbolEqualityComparer.Default);

    /// <summary>The facts of each body, keyed by its first operation block, so that every analyzer of one method shares one scan.</summary>
    private static readonly ConditionalWeakTable<IOperation, CallbackFacts> s_byBody = new();

    /// <summary>
    /// The facts of the method whose operation blocks are <paramref name="blocks"/>, scanned once for all the analyzers
    /// that look at it (the compiler hands them the same operation trees), as roslyn-analyzers share one
    /// <c>DisposeAnalysisHelper</c>. <paramref name="pte"/> is the callback's PTE parameter, which the method decides.
    /// </summary>
    public static CallbackFacts Of(KernelApi api, ImmutableArray<IOperation> blocks, IParameterSymbol? pte) =>
        blocks.IsEmpty ? Scan(api, blocks, pte) : s_byBody.GetValue(blocks[0], _ => Scan(api, blocks, pte));

    /// <summary>One pass over <paramref name="roots"/>; analyzers ask <see cref="Of"/>, which scans a body once.</summary>
    public static CallbackFacts Scan(KernelApi api, IEnumerable<IOperation> roots, IParameterSymbol? pte)
    {
        var facts = new CallbackFacts(api, pte);
        roots = roots as IReadOnlyCollection<IOperation> ?? roots.ToList();
        facts.Model = roots.Select(r => r.SemanticModel).FirstOrDefault(m => m is not null);
        var assignments = new List<(ILocalSymbol Local, IOperation Value)>();
        foreach (var operation in roots.SelectMany(r => r.DescendantsAndSelf()))
        {
            switch (operation)
            {
                case IVariableDeclaratorOperation { Initializer.Value: { } value } declarator:
                    assignments.Add((declarator.Symbol, value));
                    break;
                case ISimpleAssignmentOperation { Target: ILocalReferenceOperation target, Value: { } value }:
                    assignments.Add((target.Local, value));
                    break;
                case IInvocationOperation call when api.IsCall(call, KernelFunction.FreePage, out _):
                    facts.FreesPages = true;
                    break;
                case IInvocationOperation call when api.IsCall(call, KernelFunction.SetPteAt, out _) || api.IsCall(call, KernelFunction.PteClear, out _):
                    facts.WritesPtes = true;
                    break;
            }
        }

        // Two passes: an entry local must be known before a pte_page() of it is.
        for (int pass = 0; pass < 2; pass++)
        {
            foreach (var (local, value) in assignments)
            {
                if (facts.IsEntry(value))
                {
                    facts.EntryLocals.Add(local);
                }
                else if (facts.IsModifiedEntry(value))
                {
                    facts.ModifiedEntryLocals.Add(local);
                }
                else if (facts.IsPtePage(value) && !KernelApi.IsLocal(value, out _))
                {
                    // A local assigned another pte_page() local is a copy of it (below), not a second page.
                    facts.PtePageLocals.Add(local);
                }
                else if ((facts.NoneIf(value, outcome: true), facts.NoneIf(value, outcome: false)) is var proves && (proves.Item1 is not null || proves.Item2 is not null))
                {
                    facts.NoneFlagLocals[local] = proves;
                }
                else if (api.IsAllocation(value) && pass == 0)
                {
                    if (!facts.Allocations.TryGetValue(local, out var calls))
                    {
                        facts.Allocations[local] = calls = [];
                    }

                    calls.Add((IInvocationOperation)KernelApi.Unwrap(value)!);
                }
                else if (facts.PageMappedBy(value) is { } page)
                {
                    facts.EntryOfPage[local] = page;
                }
            }
        }

        foreach (var (local, value) in assignments)
        {
            if (!facts.Assignments.TryGetValue(local, out var values))
            {
                facts.Assignments[local] = values = [];
            }

            values.Add(value);
        }

        foreach (var local in facts.Allocations.Keys.Concat(facts.PtePageLocals))
        {
            if (!facts._trackedIndex.ContainsKey(local))
            {
                facts._trackedIndex[local] = facts.TrackedLocals.Count;
                facts.TrackedLocals.Add(local);
            }
        }

        foreach (var copy in facts.Assignments)
        {
            if (!facts._trackedIndex.ContainsKey(copy.Key) && copy.Value.Count > 0
                && copy.Value.All(v => KernelApi.IsLocal(v, out var source) && facts._trackedIndex.ContainsKey(source))
                && copy.Value.Select(v => ((ILocalReferenceOperation)KernelApi.Unwrap(v)!).Local).Distinct(SymbolEqualityComparer.Default).Count() == 1)
            {
                facts._copies[copy.Key] = ((ILocalReferenceOperation)KernelApi.Unwrap(copy.Value[0])!).Local;
            }
        }

        return facts;
    }

    /// <summary>
    /// ptep_get(pte) of the callback's PTE, or a local holding it; also that entry read through a generated entry struct:
    /// converted (<c>Stage2.Entry e = PtepGet(pte)</c>, implicit or cast) or constructed from it or its Value.
    /// </summary>
    public bool IsEntry(IOperation? operation)
    {
        if (Pte is null)
        {
            return false;
        }

        operation = KernelApi.Unwrap(operation);
        switch (operation)
        {
            case IConversionOperation conversion when Api.IsEntryType(conversion.Type):
                return IsEntry(conversion.Operand);
            case IObjectCreationOperation { Arguments.Length: 1 } creation when Api.IsEntryType(creation.Type):
                var argument = KernelApi.Unwrap(creation.Arguments[0].Value);
                return IsEntry(argument is IPropertyReferenceOperation { Property.Name: "Value" } value ? value.Instance : argument);
        }

        return (Api.IsCall(operation, KernelFunction.PtepGet, out var call) && KernelApi.IsParameter(KernelApi.Argument(call, "ptep"), Pte))
            || (KernelApi.IsLocal(operation, out var local) && EntryLocals.Contains(local));
    }

    /// <summary>
    /// The PTE's own entry changed by the pte bit helpers of Pgtable, whose first argument is the entry
    /// (<c>PteMkwrite(entry)</c>, <c>SetPteBit(ClearPteBit(entry, a), b)</c>), or a local holding one. Writing it back is
    /// a read-modify-write of the mapping that is there, as change_page_range() does, not a new mapping over it.
    /// </summary>
    public bool IsModifiedEntry(IOperation? operation)
    {
        operation = KernelApi.Unwrap(operation);
        if (IsEntry(operation) || (KernelApi.IsLocal(operation, out var local) && ModifiedEntryLocals.Contains(local)))
        {
            return true;
        }

        return BitHelperOperand(operation) is { } entry && IsModifiedEntry(entry);
    }

    /// <summary>
    /// The entry a pte bit helper changes: the first argument of a Pgtable method that returns a <c>Pte</c> made from it
    /// (<c>PteMkwrite(entry)</c>, <c>SetPteBit(entry, prot)</c>, ...); null for anything else, ptep_get() included.
    /// </summary>
    private IOperation? BitHelperOperand(IOperation? operation)
    {
        if (KernelApi.Unwrap(operation) is not IInvocationOperation call)
        {
            return null;
        }

        // A generated entry struct's With-ers (entry.WithAccessFlag(true)): the entry they change is the instance.
        if (call.Instance is { } instance && Api.IsEntryType(call.TargetMethod.ContainingType)
            && SymbolEqualityComparer.Default.Equals(call.TargetMethod.ReturnType, call.TargetMethod.ContainingType))
        {
            return instance;
        }

        return call.Arguments.Length > 0
            && SymbolEqualityComparer.Default.Equals(call.TargetMethod.ContainingType, Api.Pgtable)
            && SymbolEqualityComparer.Default.Equals(call.TargetMethod.ReturnType, Api.Pte)
            && Api.FunctionOf(call) != KernelFunction.PtepGet
                ? call.Arguments[0].Value
                : null;
    }

    /// <summary>pte_page() of the callback's PTE, or a local holding it.</summary>
    public bool IsPtePage(IOperation? operation) =>
        (Api.IsCall(operation, KernelFunction.PtePage, out var call) && IsEntry(KernelApi.Argument(call, "pte")))
        || (KernelApi.IsLocal(operation, out var local) && PtePageLocals.Contains(local));

    /// <summary>True/false when <paramref name="condition"/> being true proves the PTE none / not none; null when it says nothing.</summary>
    public bool? NoneWhenTrue(IOperation? condition) => NoneIf(condition, outcome: true);

    /// <summary>
    /// What <paramref name="condition"/> evaluating to <paramref name="outcome"/> proves: the PTE none (true), not none
    /// (false), or nothing (null). Composes through !, || (false: both operands false) and &amp;&amp; (true: both true).
    /// </summary>
    public bool? NoneIf(IOperation? condition, bool outcome)
    {
        condition = KernelApi.Unwrap(condition);
        switch (condition)
        {
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Not } not:
                return NoneIf(not.Operand, !outcome);
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.ConditionalOr } or IBinaryOperation { OperatorKind: BinaryOperatorKind.Or, Type.SpecialType: SpecialType.System_Boolean } when !outcome:
                return NoneIf(((IBinaryOperation)condition).LeftOperand, false) ?? NoneIf(((IBinaryOperation)condition).RightOperand, false);
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.ConditionalAnd } or IBinaryOperation { OperatorKind: BinaryOperatorKind.And, Type.SpecialType: SpecialType.System_Boolean } when outcome:
                return NoneIf(((IBinaryOperation)condition).LeftOperand, true) ?? NoneIf(((IBinaryOperation)condition).RightOperand, true);
        }

        if (Api.IsCall(condition, KernelFunction.PteNone, out var call) && IsEntry(KernelApi.Argument(call, "pte")))
        {
            return outcome;
        }

        // pte_present(): a present entry is populated; one not present is none as far as the rules go (kernel page
        // tables hold no swap entries), the check the kernel's walkers make before they clear or free.
        if (Api.IsCall(condition, KernelFunction.PtePresent, out var present) && IsEntry(KernelApi.Argument(present, "pte")))
        {
            return !outcome;
        }

        // A generated entry struct of the callback's entry: entry.IsNone is pte_none(); entry.IsValid(level) and
        // entry.PxdPresent(level) its negation (the model's pte_none() of an entry that no valid bit marks).
        if (condition is IPropertyReferenceOperation { Property.Name: "IsNone" } isNone && Api.IsEntryType(isNone.Property.ContainingType) && IsEntry(isNone.Instance))
        {
            return outcome;
        }

        if (condition is IInvocationOperation { TargetMethod.Name: "IsValid" or "PxdPresent" } isValid && Api.IsEntryType(isValid.TargetMethod.ContainingType) && IsEntry(isValid.Instance))
        {
            return !outcome;
        }

        return KernelApi.IsLocal(condition, out var flag) && NoneFlagLocals.TryGetValue(flag, out var proves) ? (outcome ? proves.WhenTrue : proves.WhenFalse) : null;
    }

    /// <summary>The page local a set_pte_at() value maps: mk_pte(page, ...) directly or through an entry local.</summary>
    public ILocalSymbol? MappedPage(IOperation? value)
    {
        value = KernelApi.Unwrap(value);
        return PageMappedBy(value) ?? (KernelApi.IsLocal(value, out var entry) && EntryOfPage.TryGetValue(entry, out var mapped) ? mapped : null);
    }

    /// <summary>
    /// The page local an entry expression maps: <c>mk_pte(page, prot)</c>, or <c>pfn_pte(page_to_pfn(page), prot)</c> as
    /// <c>PfnPte(page.Pfn, prot)</c>, with pte bit helpers around either.
    /// </summary>
    private ILocalSymbol? PageMappedBy(IOperation? value)
    {
        value = KernelApi.Unwrap(value);
        if (Api.IsCall(value, KernelFunction.MkPte, out var mkPte) && KernelApi.IsLocal(KernelApi.Argument(mkPte, "page"), out var page))
        {
            return page;
        }

        if (Api.IsCall(value, KernelFunction.PfnPte, out var pfnPte)
            && KernelApi.Argument(pfnPte, "pfn") is IPropertyReferenceOperation { Property.Name: "Pfn", Instance: var instance }
            && KernelApi.IsLocal(instance, out var pfnOf))
        {
            return pfnOf;
        }

        // The entry constructors of a generated entry struct and of the runtime Geometry that hand an allocator page to the
        // tables (docs/diagnostics/PG0002.md, "What a mapping owns"): a table entry (Stage2.Entry.Table(child.PhysAddr),
        // geometry.MakeTableEntry: the page becomes a table the tables free) and a page entry of it (Page, KernelPage,
        // MakeKernelPageEntry, and Block or MakeLeafEntry at the pte level). A block above the pte level maps memory the
        // tables do not own (an allocator page is one page): it hands nothing on, so a page allocated beside it still leaks.
        if (value is IObjectCreationOperation { Arguments.Length: 1 } raw && SymbolEqualityComparer.Default.Equals(raw.Type, Api.Pte))
        {
            return PageMappedBy(raw.Arguments[0].Value);
        }

        if (value is IInvocationOperation constructor && OwnershipAddress(constructor) is IPropertyReferenceOperation { Property.Name: "PhysAddr", Instance: var physOf }
            && KernelApi.IsLocal(physOf, out var mapped))
        {
            return mapped;
        }

        if (value is IConversionOperation conversion && Api.IsEntryType(conversion.Operand.Type))
        {
            return PageMappedBy(conversion.Operand);
        }

        return BitHelperOperand(value) is { } entry ? PageMappedBy(entry) : null;
    }

    /// <summary>
    /// The address argument of an entry constructor that hands the page at that address to the tables, or null: the
    /// table and pte-level page constructors of a generated entry struct and of the runtime Geometry.
    /// </summary>
    private IOperation? OwnershipAddress(IInvocationOperation constructor)
    {
        var method = constructor.TargetMethod;
        bool entryStruct = method.IsStatic && Api.IsEntryType(method.ContainingType);
        bool geometry = Api.Geometry is not null && SymbolEqualityComparer.Default.Equals(method.ContainingType, Api.Geometry);
        if (!entryStruct && !geometry)
        {
            return null;
        }

        bool pageLevel = KernelApi.Argument(constructor, "level") is not { } level
            || level.ConstantValue is { HasValue: true, Value: int l } && l == (int)PageTableLevel.Pte;
        return method.Name switch
        {
            "Table" or "MakeTableEntry" => KernelApi.Argument(constructor, "tableAddress"),
            "Page" or "KernelPage" or "Block" or "MakeLeafEntry" when pageLevel => KernelApi.Argument(constructor, "outputAddress"),
            "MakeKernelPageEntry" => KernelApi.Argument(constructor, "physAddr"),
            _ => null,
        };
    }

    /// <summary>set_pte_at()/pte_clear() of the callback's PTE.</summary>
    public bool TargetsPte(IInvocationOperation call) => Pte is not null && KernelApi.IsParameter(KernelApi.Argument(call, "ptep"), Pte);
}
