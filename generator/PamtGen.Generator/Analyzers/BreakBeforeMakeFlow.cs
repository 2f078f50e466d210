using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace PamtGen.Generator.Analyzers;

/// <summary>
/// PG0006's analysis of a PTE callback on a format with break-before-make. A path's state says:
/// <list type="bullet">
/// <item>what the entry the callback started with (the <b>original</b>) is known to be: anything, invalid, or a table
/// entry (its checks tell; a check of a local read before a write is a check of the original, not of the PTE now);</item>
/// <item>what the PTE holds now: the original (or it changed only where no break-before-make is needed, or with the valid
/// bit set again), an invalid entry (cleared, or written with the valid bit cleared: the break), or another entry;</item>
/// <item>what the TLB may still hold for the address that no invalidation removed since the PTE stopped holding it: the
/// original (only if it may have been valid), another entry; and whether the address is in an unflushed <c>TlbGather</c>;</item>
/// <item>what each entry local holds, in the same terms: the original, changed in a field that needs break-before-make
/// or not, with its valid bit cleared or set, or a new entry.</item>
/// </list>
/// A fact is the set of states some path reaches, so paths meet by union and a write is a finding exactly when, on some
/// path, it may put a valid entry where the PTE or the TLB may hold a valid one it differs from in a way that needs
/// break-before-make (Arm ARM, "Translation table entry updates" and "Using break-before-make"). A check that
/// contradicts what a path knows (the original found valid where it was found invalid) rules that path out.
/// </summary>
/// <remarks>
/// Invalidation by address (<c>Tlb.InvalidateAddress</c>) removes what the TLB holds for one page: not enough where the
/// original was a table entry, since walk caches and the leaves under it may hold the whole range (KVM's
/// <c>stage2_try_break_pte()</c> flushes the range for a table and the IPA for a leaf); a range invalidation,
/// flush_tlb_kernel_range() or a flushed gather removes everything (their range is trusted, not proven).
/// </remarks>
internal sealed class BreakBeforeMakeFlow : ForwardFlow<BreakBeforeMakeFlow.Fact>
{
    private readonly CallbackFacts _facts;
    private readonly EntryBreakRules _rules;
    private readonly Dictionary<ILocalSymbol, int> _locals = new(SymbolEqualityComparer.Default);

    /// <summary>
    /// The values the control-flow graph captured (an instance or argument evaluated early, each arm of a <c>?:</c>), by
    /// capture: a reference to one is evaluated as what was captured, where the arms agree.
    /// </summary>
    private readonly Dictionary<CaptureId, List<IOperation>> _captures = [];

    public BreakBeforeMakeFlow(CallbackFacts facts, EntryBreakRules rules)
    {
        _facts = facts;
        _rules = rules;
        foreach (var local in facts.Assignments.Keys.Where(l => IsEntryValue(l.Type)).Take(MaxLocals))
        {
            _locals[local] = _locals.Count;
        }
    }

    /// <summary>set_pte_at() calls that may need break-before-make; Direct when the PTE itself may still be valid there.</summary>
    public Dictionary<IInvocationOperation, bool> Findings { get; } = [];

    protected override Fact Entry { get; } = new([0UL]); // the original unknown, in the PTE; nothing stale; no gather

    protected override Fact Meet(Fact a, Fact b) => new(a.States.Union(b.States));

    protected override bool Same(Fact a, Fact b) => a.Equals(b);

    protected override Fact Transfer(IOperation operation, Fact fact, bool report)
    {
        var api = _facts.Api;
        switch (operation)
        {
            case IFlowCaptureOperation capture:
                if (!_captures.TryGetValue(capture.Id, out var captured))
                {
                    _captures[capture.Id] = captured = [];
                }

                if (!captured.Contains(capture.Value))
                {
                    captured.Add(capture.Value);
                }

                return fact;

            case ISimpleAssignmentOperation { Target: ILocalReferenceOperation target, Value: var value } when _locals.TryGetValue(target.Local, out int index):
                return Map(fact, s => WithLocal(s, index, Eval(value, s)));

            case IInvocationOperation call when api.IsCall(call, KernelFunction.SetPteAt, out _) && _facts.TargetsPte(call):
                return Write(call, fact, report);

            case IInvocationOperation call when api.IsCall(call, KernelFunction.PteClear, out _) && _facts.TargetsPte(call):
                return Map(fact, s => WithPte(With(s, cached: Cached(s) | Live(s)), EntryValue.Zero));

            case IInvocationOperation call when api.FunctionOf(call) is KernelFunction.TlbInvalidateAddress:
                // One page: where the original was a table, what was cached under it stays.
                return Map(fact, s => With(s, cached: OriginalOf(s) == Original.Table ? Cached(s) & (Held.Original | Held.Revalidated | Held.Changed) : Held.Nothing));

            case IInvocationOperation call when api.FunctionOf(call) is KernelFunction.TlbInvalidateRange or KernelFunction.FlushTlbKernelRange:
                return Map(fact, s => With(s, cached: Held.Nothing));

            case IInvocationOperation call when api.IsCall(call, KernelFunction.TlbGatherAdd, out _):
                return Map(fact, s => s | GatheredBit);

            case IInvocationOperation call when api.IsCall(call, KernelFunction.TlbGatherFlush, out _) || call.Arguments.Any(a => Is(a.Value.Type, api.TlbGather)):
                // A gather flushed here, or handed to another method, which may flush it (the rule trusts it to).
                return Map(fact, s => (s & GatheredBit) != 0 ? With(s, cached: Held.Nothing) & ~GatheredBit : s);

            default:
                return fact;
        }
    }

    protected override (Fact WhenTrue, Fact WhenFalse) Refine(IOperation condition, Fact fact)
    {
        // `mm.Tlb?.InvalidateAddress(addr)`: on the branch where the space tracks no TLB, nothing is cached to invalidate.
        if (condition is IIsNullOperation { Operand.Type: var type } && Is(type, _facts.Api.Tlb))
        {
            return (Map(fact, s => With(s, cached: Held.Nothing)), fact);
        }

        return (Learn(condition, outcome: true, fact), Learn(condition, outcome: false, fact));
    }

    /// <summary>set_pte_at(): the value's kind against what the PTE and the TLB may hold, on each path.</summary>
    private Fact Write(IInvocationOperation call, Fact fact, bool report)
    {
        var value = KernelApi.Argument(call, "pte");
        bool direct = false, stale = false;
        var after = Map(fact, s =>
        {
            var written = Eval(value, s);
            var against = HeldOf(written, OriginalOf(s)) switch
            {
                Held.Nothing => Held.Nothing,
                Held.New or Held.Changed => Held.Original | Held.New | Held.Revalidated | Held.Changed,
                _ => Held.New | Held.Changed, // the original, kept or revalidated: only another entry conflicts with it
            };
            direct |= (Live(s) & against) != 0;
            stale |= (Cached(s) & against) != 0;
            return WithPte(With(s, cached: Cached(s) | Live(s)), written);
        });
        if (report && (direct || stale))
        {
            Findings[call] = direct || (Findings.TryGetValue(call, out bool before) && before);
        }

        return after;
    }

    /// <summary>The states where <paramref name="condition"/> evaluated to <paramref name="outcome"/>; a contradicted state is dropped.</summary>
    private Fact Learn(IOperation condition, bool outcome, Fact fact)
    {
        var tests = new List<(IOperation Operand, Test Test)>();
        Tests(condition, outcome, tests, depth: 0);
        return tests.Count == 0 ? fact : Map(fact, s =>
        {
            ulong? state = s;
            foreach (var (operand, test) in tests)
            {
                state = state is { } known ? Learn(known, Eval(operand, known), test) : null;
            }

            return state;
        });
    }

    /// <summary>
    /// What a test of an entry holding <paramref name="tested"/> says on path <paramref name="s"/>: null where it contradicts
    /// what the path knows (the test cannot come out so there), else the path with what it learns of the original.
    /// </summary>
    private static ulong? Learn(ulong s, EntryValue tested, Test test)
    {
        var original = OriginalOf(s);
        bool contradicts = test switch
        {
            Test.Zero => !MaybeZero(tested, original),
            Test.NonZero => CertainlyZero(tested, original),
            Test.Valid => !MaybeValid(tested, original),
            Test.Leaf => !MaybeValid(tested, original) || (tested.OfOriginal && original == Original.Table),
            Test.Invalid => CertainlyValid(tested, original),
            Test.Table => tested.Validity is Validity.Zero or Validity.Cleared || (tested.OfOriginal && !MaybeValid(tested, original)),
            _ => tested.OfOriginal && original == Original.Table, // NotTable
        };
        if (contradicts)
        {
            return null;
        }

        if (!tested.OfOriginal)
        {
            return s; // a value with a validity of its own tells nothing about the original
        }

        // Zero and not zero are about the value: only the original unmodified tells them of the original.
        var learned = (test, original) switch
        {
            (Test.Zero, Original.Unknown or Original.Invalid) when !tested.Modified => Original.None,
            // Changed in other bits than the valid ones and found zero: those valid bits, the original's, were clear.
            (Test.Zero, Original.Unknown) => Original.Invalid,
            (Test.Zero, Original.NonZero) => Original.InvalidNonZero,
            (Test.NonZero, Original.Unknown) when !tested.Modified => Original.NonZero,
            (Test.NonZero, Original.Invalid) when !tested.Modified => Original.InvalidNonZero,
            (Test.Valid or Test.Leaf, Original.Unknown or Original.NonZero) => Original.Valid,
            (Test.Invalid, Original.Unknown) => Original.Invalid,
            (Test.Invalid, Original.NonZero) => Original.InvalidNonZero,
            (Test.Table, _) => Original.Table,
            _ => original,
        };
        // An original known invalid was never cached as it was read, nor changed with its own validity (a revalidated copy
        // of it may be: that bit stays).
        return With(s, original: learned, cached: IsInvalid(learned) ? Cached(s) & ~(Held.Original | Held.Changed) : Cached(s));
    }

    private static bool IsInvalid(Original original) => original is Original.None or Original.Invalid or Original.InvalidNonZero;

    /// <summary>The entry tests <paramref name="condition"/> being <paramref name="outcome"/> proves; composes through !, || (false) and &amp;&amp; (true).</summary>
    private void Tests(IOperation? condition, bool outcome, List<(IOperation Operand, Test Test)> tests, int depth)
    {
        condition = KernelApi.Unwrap(condition);
        var api = _facts.Api;
        switch (condition)
        {
            case null:
                return;
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Not } not:
                Tests(not.Operand, !outcome, tests, depth);
                return;
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.ConditionalOr or BinaryOperatorKind.Or, Type.SpecialType: SpecialType.System_Boolean } when !outcome:
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.ConditionalAnd or BinaryOperatorKind.And, Type.SpecialType: SpecialType.System_Boolean } when outcome:
                var binary = (IBinaryOperation)condition;
                Tests(binary.LeftOperand, outcome, tests, depth);
                Tests(binary.RightOperand, outcome, tests, depth);
                return;
            case ILocalReferenceOperation { Local.Type.SpecialType: SpecialType.System_Boolean } flag
                when depth < 4 && _facts.Assignments.TryGetValue(flag.Local, out var values) && values.Count == 1:
                // bool none = PteNone(PtepGet(pte)); ... if (none): the test the flag holds.
                Tests(values[0], outcome, tests, depth + 1);
                return;
        }

        if (api.IsCall(condition, KernelFunction.PteNone, out var none) && KernelApi.Argument(none, "pte") is { } noneOf)
        {
            tests.Add((noneOf, outcome ? Test.Zero : Test.NonZero));
        }
        else if (api.IsCall(condition, KernelFunction.PtePresent, out var present) && KernelApi.Argument(present, "pte") is { } presentOf)
        {
            tests.Add((presentOf, outcome ? Test.Valid : Test.Invalid));
        }
        else if (condition is IPropertyReferenceOperation { Property.Name: "IsNone", Instance: { } isNone } property && api.IsEntryType(property.Property.ContainingType))
        {
            tests.Add((isNone, outcome ? Test.Zero : Test.NonZero));
        }
        else if (condition is IInvocationOperation { Instance: { } entry } call && api.IsEntryType(call.TargetMethod.ContainingType))
        {
            Test? test = call.TargetMethod.Name switch
            {
                "IsValid" or "PxdPresent" => outcome ? Test.Valid : Test.Invalid,
                "IsTable" => outcome ? Test.Table : Test.NotTable,
                "IsLeaf" or "PxdLeaf" when outcome => Test.Leaf,
                _ => null,
            };
            if (test is { } known)
            {
                tests.Add((entry, known));
            }
        }
    }

    /// <summary>What <paramref name="operation"/>, an entry (a <c>Pte</c> or a generated entry struct), holds on path <paramref name="s"/>.</summary>
    private EntryValue Eval(IOperation? operation, ulong s)
    {
        var api = _facts.Api;
        operation = Unwrap(operation);
        switch (operation)
        {
            case ILocalReferenceOperation reference:
                return _locals.TryGetValue(reference.Local, out int index) ? LocalOf(s, index) : EntryValue.Unknown;

            case IFlowCaptureReferenceOperation reference when _captures.TryGetValue(reference.Id, out var captured):
                var values = captured.Select(c => Eval(c, s)).Distinct().ToList();
                return values.Count == 1 ? values[0] : EntryValue.Unknown;

            case IInvocationOperation call when api.IsCall(call, KernelFunction.PtepGet, out _):
                return KernelApi.IsParameter(KernelApi.Argument(call, "ptep"), _facts.Pte!) ? PteOf(s) : EntryValue.Unknown;

            case IObjectCreationOperation { Arguments.Length: 1 } creation when IsEntryValue(creation.Type):
                return EvalRaw(creation.Arguments[0].Value, s);

            case IInvocationOperation { Instance: { } instance } wither when api.IsEntryType(wither.TargetMethod.ContainingType)
                && SymbolEqualityComparer.Default.Equals(wither.TargetMethod.ReturnType, wither.TargetMethod.ContainingType)
                && wither.TargetMethod.Name.StartsWith("With", StringComparison.Ordinal):
                bool marked = _rules.Withers.TryGetValue(wither.TargetMethod.Name, out var rule);
                var argument = wither.Arguments.Length == 1 ? wither.Arguments[0].Value.ConstantValue : default;
                bool clears = argument is { HasValue: true, Value: false or 0UL or 0 };
                bool sets = argument is { HasValue: true, Value: true } || (argument.HasValue && ToMask(argument.Value) is > 0);
                var before = Eval(instance, s);
                if (clears && CertainlyZero(before, OriginalOf(s)))
                {
                    return before; // a field cleared in a zero entry: the same entry
                }

                return before with
                {
                    Changed = before.Changed || (marked && !(rule == BreakBeforeMakeRule.OnSet && clears)),
                    Modified = true,
                    NonZero = sets, // a field written with anything else may leave no bit set (the valid ones say the rest)
                };

            case IInvocationOperation bits when api.FunctionOf(bits) is KernelFunction.SetPteBit or KernelFunction.ClearPteBit && bits.Arguments.Length == 2:
                bool set = api.FunctionOf(bits) == KernelFunction.SetPteBit;
                var operand = Eval(bits.Arguments[0].Value, s);
                if (!set && CertainlyZero(operand, OriginalOf(s)))
                {
                    return operand; // bits cleared in a zero entry (cleared, or the original found none): the same entry
                }

                return MaskOf(bits.Arguments[1].Value, depth: 0) is { } mask ? Apply(operand, set ? mask : 0, set ? 0 : mask) : EntryValue.Unknown;

            case IInvocationOperation made when api.FunctionOf(made) is KernelFunction.MkPte or KernelFunction.PfnPte
                || (made.TargetMethod.IsStatic && api.IsEntryType(made.TargetMethod.ContainingType) && made.TargetMethod.Name is "Page" or "Block" or "Table" or "KernelPage"):
                // mk_pte(), pfn_pte() and the format's constructors of a page, block or table entry: a valid entry.
                return EntryValue.Made;

            default:
                return EntryValue.Unknown;
        }
    }

    /// <summary>A raw entry value: <c>entry.Value</c>, with constant bits set (<c>|</c>) or cleared (<c>&amp;</c>).</summary>
    private EntryValue EvalRaw(IOperation? raw, ulong s)
    {
        raw = KernelApi.Unwrap(raw);
        switch (raw)
        {
            case IPropertyReferenceOperation { Property.Name: "Value", Instance: { } instance } when IsEntryValue(instance.Type):
                return Eval(instance, s);
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.And } masked when masked.RightOperand.ConstantValue is { HasValue: true, Value: ulong keep }:
                return Apply(EvalRaw(masked.LeftOperand, s), 0, ~keep);
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.Or } joined when joined.RightOperand.ConstantValue is { HasValue: true, Value: ulong add }:
                return Apply(EvalRaw(joined.LeftOperand, s), add, 0);
            case { ConstantValue: { HasValue: true, Value: var constant } } when ToMask(constant) is { } value:
                // A constant entry (KVM's KVM_INVALID_PTE_LOCKED): zero, invalid by the format's valid bits, or valid.
                return value == 0 ? EntryValue.Zero
                    : !EntryFormatRules.IsValid(value, _rules.ValidMask, _rules.ValidValue, _rules.ValidAny) ? EntryValue.Unknown with { NonZero = true, Validity = Validity.Cleared }
                    : EntryValue.Made;
            default:
                return EntryValue.Unknown;
        }
    }

    /// <summary>
    /// The value of a <c>PgProt</c> mask when the code makes it constant: <c>new PgProt(constant)</c>, or a static readonly
    /// field initialised so in the same file; null when it cannot be known (a mask from the callback's data).
    /// </summary>
    private ulong? MaskOf(IOperation? operation, int depth)
    {
        operation = KernelApi.Unwrap(operation);
        if (operation is IObjectCreationOperation { Arguments.Length: 1 } creation)
        {
            return KernelApi.Unwrap(creation.Arguments[0].Value)?.ConstantValue is { HasValue: true, Value: var value } ? ToMask(value) : null;
        }

        if (depth < 4 && operation is IFieldReferenceOperation { Field: { IsStatic: true, IsReadOnly: true } field } && (operation.SemanticModel ?? _facts.Model) is { } model)
        {
            foreach (var reference in field.DeclaringSyntaxReferences)
            {
                if (reference.SyntaxTree == model.SyntaxTree && reference.GetSyntax() is VariableDeclaratorSyntax { Initializer.Value: { } initializer })
                {
                    return MaskOf(model.GetOperation(initializer), depth + 1);
                }
            }
        }

        return null;
    }

    private static ulong? ToMask(object? value) => value switch
    {
        ulong u => u,
        long l => (ulong)l,
        int i => (ulong)(long)i,
        uint u => u,
        _ => null,
    };

    /// <summary>Bits set and cleared in an entry, as the format reads them: the valid bits, and those that need break-before-make.</summary>
    private EntryValue Apply(EntryValue value, ulong set, ulong clear)
    {
        if (value.Validity == Validity.Zero)
        {
            // Bits cleared in no entry leave none; bits set in one make an entry the rule cannot follow.
            if (set == 0)
            {
                return value;
            }

            value = EntryValue.Unknown;
        }

        ulong mustBeSet = _rules.ValidMask & _rules.ValidValue, mustBeClear = _rules.ValidMask & ~_rules.ValidValue;
        // Bits set make it not zero; bits cleared may make a value known not zero zero again (set, then cleared).
        value = value with { Modified = true, NonZero = set != 0 || (value.NonZero && clear == 0) };
        // An any-set rule (EPT R, W, X): clearing all its bits invalidates, setting one of them validates.
        bool clearsAny = _rules.ValidAny != 0 && (clear & _rules.ValidAny) == _rules.ValidAny;
        bool setsAny = _rules.ValidAny != 0 && (set & _rules.ValidAny) != 0;
        if ((clear & mustBeSet) != 0 || (set & mustBeClear) != 0 || clearsAny)
        {
            value = value with { Validity = Validity.Cleared };
        }
        else if ((set & mustBeSet) != 0 || (clear & mustBeClear) != 0 || (setsAny && _rules.ValidMask == 0))
        {
            value = value with { Validity = Validity.Set };
        }

        return ((set | clear) & _rules.ChangeMask) != 0 || (set & _rules.SetMask) != 0 ? value with { Changed = true } : value;
    }

    /// <summary>Conversions removed, the explicit casts between <c>Pte</c> and an entry struct included.</summary>
    private IOperation? Unwrap(IOperation? value)
    {
        value = KernelApi.Unwrap(value);
        while (value is IConversionOperation conversion && IsEntryValue(conversion.Type))
        {
            value = KernelApi.Unwrap(conversion.Operand);
        }

        return value;
    }

    private bool IsEntryValue(ITypeSymbol? type) => Is(type, _facts.Api.Pte) || _facts.Api.IsEntryType(type);

    private static bool Is(ITypeSymbol? type, INamedTypeSymbol? wanted) => wanted is not null && SymbolEqualityComparer.Default.Equals(type, wanted);

    /// <summary>Each path's state through <paramref name="step"/>; a null result drops the path.</summary>
    private static Fact Map(Fact fact, Func<ulong, ulong?> step)
    {
        var states = new SortedSet<ulong>();
        foreach (ulong s in fact.States)
        {
            if (step(s) is { } next)
            {
                states.Add(next);
            }
        }

        return new Fact(states);
    }

    /// <summary>Whether <paramref name="value"/> may be a valid entry, the original being <paramref name="original"/>.</summary>
    private static bool MaybeValid(EntryValue value, Original original) => value.Validity switch
    {
        Validity.Zero or Validity.Cleared => false,
        Validity.Set => true,
        _ => value.Fresh || !IsInvalid(original),
    };

    private static bool CertainlyValid(EntryValue value, Original original) =>
        value.Validity == Validity.Set || (value.OfOriginal && original is Original.Valid or Original.Table);

    /// <summary>Whether the value may be zero: an entry certainly valid is not (a zero entry is invalid in every format).</summary>
    private static bool MaybeZero(EntryValue value, Original original) =>
        value.Validity == Validity.Zero || (!value.NonZero && !CertainlyValid(value, original)
            && (value.Fresh || value.Modified || original is Original.Unknown or Original.None or Original.Invalid));

    private static bool CertainlyZero(EntryValue value, Original original) =>
        value.Validity == Validity.Zero || (value.OfOriginal && !value.Modified && original == Original.None);

    /// <summary>Which valid entry <paramref name="value"/> may be: none, the original (kept or revalidated), or another.</summary>
    private static Held HeldOf(EntryValue value, Original original) =>
        !MaybeValid(value, original) ? Held.Nothing
        : value.Fresh || (value.Changed && value.Validity == Validity.Set) ? Held.New
        : value.Changed ? Held.Changed
        : value.Validity == Validity.Set ? Held.Revalidated
        : Held.Original;

    // A path's state in one ulong: bits 0-2 the original, 3-8 what the PTE holds, 9-12 what the TLB may still hold,
    // 13 the gather, then 6 bits per entry local.
    private const int PteShift = 3, CachedShift = 9, LocalsShift = 14, LocalBits = 6;

    private const ulong GatheredBit = 1UL << 13;

    /// <summary>Entry locals followed exactly; the others hold an unknown entry as far as the rule knows.</summary>
    private const int MaxLocals = (64 - LocalsShift) / LocalBits;

    private static Original OriginalOf(ulong s) => (Original)(s & 7);

    private static EntryValue PteOf(ulong s) => EntryValue.FromBits((int)((s >> PteShift) & 0x3f));

    private static Held Cached(ulong s) => (Held)((s >> CachedShift) & 0xf);

    /// <summary>What valid entry the PTE may hold now.</summary>
    private static Held Live(ulong s) => HeldOf(PteOf(s), OriginalOf(s));

    private static ulong With(ulong s, Original? original = null, Held? cached = null) =>
        (s & ~(7UL | (0xfUL << CachedShift))) | (ulong)(original ?? OriginalOf(s)) | ((ulong)(cached ?? Cached(s)) << CachedShift);

    private static ulong WithPte(ulong s, EntryValue value) => (s & ~(0x3fUL << PteShift)) | ((ulong)value.Bits << PteShift);

    private static EntryValue LocalOf(ulong s, int index) => EntryValue.FromBits((int)((s >> (LocalsShift + (LocalBits * index))) & 0x3f));

    private static ulong WithLocal(ulong s, int index, EntryValue value) =>
        (s & ~(0x3fUL << (LocalsShift + (LocalBits * index)))) | ((ulong)value.Bits << (LocalsShift + (LocalBits * index)));

    /// <summary>What the entry the callback started with is known to be.</summary>
    internal enum Original
    {
        Unknown = 0,

        /// <summary>Zero: pte_none().</summary>
        None = 1,

        /// <summary>Not zero: valid or not.</summary>
        NonZero = 2,

        /// <summary>Invalid, maybe zero.</summary>
        Invalid = 3,

        /// <summary>Invalid and not zero.</summary>
        InvalidNonZero = 4,

        /// <summary>Valid (a leaf, or not known to be a table).</summary>
        Valid = 5,

        /// <summary>A valid table entry.</summary>
        Table = 6,
    }

    /// <summary>Valid entries the PTE or the TLB may hold.</summary>
    [Flags]
    internal enum Held
    {
        Nothing = 0,

        /// <summary>The original as read (or changed only where no break-before-make is needed): valid only if it was.</summary>
        Original = 1,

        /// <summary>Another entry: a new one, or the original changed where break-before-make is needed and made valid.</summary>
        New = 2,

        /// <summary>The original with its valid bit set again: the same mapping, valid whatever the original was.</summary>
        Revalidated = 4,

        /// <summary>The original with a field changed that needs break-before-make: another mapping, valid only if the original was.</summary>
        Changed = 8,
    }

    /// <summary>What a test of an entry proves about it.</summary>
    internal enum Test
    {
        Zero,
        NonZero,
        Invalid,
        Valid,
        Table,
        NotTable,
        Leaf,
    }

    /// <summary>How an entry's validity relates to the original's.</summary>
    internal enum Validity
    {
        /// <summary>The original's (for a new entry: unknown).</summary>
        Same = 0,

        /// <summary>The valid bit cleared: invalid.</summary>
        Cleared = 1,

        /// <summary>The valid bit set, or an entry made valid: valid.</summary>
        Set = 2,

        /// <summary>No entry at all: zero (pte_clear()).</summary>
        Zero = 3,
    }

    /// <summary>
    /// An entry a local, an expression or the PTE holds, relative to the original: a new entry (Fresh) or the original;
    /// changed where break-before-make is needed; changed at all (Modified); certainly not zero; its validity.
    /// </summary>
    internal readonly record struct EntryValue(bool Fresh, bool Changed, bool Modified, bool NonZero, Validity Validity)
    {
        public static EntryValue Original => default;

        /// <summary>A value the rule cannot follow: maybe valid, maybe zero, never the original.</summary>
        public static EntryValue Unknown => new(true, false, false, false, Validity.Same);

        /// <summary>An entry made by mk_pte() or a format's constructor: valid.</summary>
        public static EntryValue Made => new(true, false, false, true, Validity.Set);

        public static EntryValue Zero => new(false, false, false, false, Validity.Zero);

        /// <summary>The original's own validity: a test of this value tells about the original.</summary>
        public bool OfOriginal => !Fresh && Validity == Validity.Same;

        public int Bits => (Fresh ? 1 : 0) | (Changed ? 2 : 0) | (Modified ? 4 : 0) | (NonZero ? 8 : 0) | ((int)Validity << 4);

        public static EntryValue FromBits(int bits) => new((bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0, (bits & 8) != 0, (Validity)((bits >> 4) & 3));
    }

    /// <summary>The path states some path reaches, sorted.</summary>
    internal sealed class Fact(IEnumerable<ulong> states) : IEquatable<Fact>
    {
        public ulong[] States { get; } = states as ulong[] ?? states.OrderBy(s => s).Distinct().ToArray();

        public bool Equals(Fact? other) => other is not null && States.SequenceEqual(other.States);

        public override bool Equals(object? obj) => Equals(obj as Fact);

        public override int GetHashCode() => States.Length == 0 ? 0 : (int)(States[0] ^ (ulong)States.Length);
    }
}
