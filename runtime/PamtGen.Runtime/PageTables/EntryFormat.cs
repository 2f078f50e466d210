using System.Reflection;

namespace PamtGen;

/// <summary>
/// An entry format as declared by <see cref="EntryFormatAttribute"/>, <see cref="EntryLeafAttribute"/> and
/// <see cref="EntryFieldAttribute"/>, independent of a geometry; a <see cref="Geometry"/> checks it against its levels
/// and encodes entries with it. Read from the attributes themselves, so the declaration stays the one description.
/// </summary>
public sealed class EntryFormat
{
    private EntryFormat(FormatDecl declaration, LeafDecl[] leaves, FieldDecl[] fields, KernelChecksDecl[] kernelChecks)
    {
        Declaration = declaration;
        Leaves = leaves;
        Fields = fields;
        KernelChecks = kernelChecks;
    }

    /// <summary>The format's name.</summary>
    public string Name => Declaration.Name ?? "entry format";

    /// <summary>The physical-address bits an output address may have.</summary>
    public int PhysicalAddressBits => Declaration.PhysicalAddressBits;

    internal FormatDecl Declaration { get; }

    internal LeafDecl[] Leaves { get; }

    internal FieldDecl[] Fields { get; }

    internal KernelChecksDecl[] KernelChecks { get; }

    /// <summary>x86-64 (4- and 5-level), <see cref="Formats.X86_64EntryFormatAttribute"/>.</summary>
    public static EntryFormat X86_64 { get; } = Of(typeof(Formats.X86_64EntryFormatAttribute));

    /// <summary>AMD nested page tables: the x86-64 format with user-accessible tables (<see cref="Formats.X86_64NestedEntryFormatAttribute"/>).</summary>
    public static EntryFormat X86_64Nested { get; } = Of(typeof(Formats.X86_64NestedEntryFormatAttribute));

    /// <summary>Intel EPT (<see cref="Formats.IntelEptEntryFormatAttribute"/>).</summary>
    public static EntryFormat IntelEpt { get; } = Of(typeof(Formats.IntelEptEntryFormatAttribute));

    /// <summary>x86 32-bit without PAE, <see cref="Formats.X86NonPaeEntryFormatAttribute"/>.</summary>
    public static EntryFormat X86NonPae { get; } = Of(typeof(Formats.X86NonPaeEntryFormatAttribute));

    /// <summary>
    /// The format declared on <paramref name="type"/>: its own [EntryFormat], [EntryLeaf] and [EntryField] attributes, or
    /// those of the one attribute applied to it whose class carries them (a ready-made format). Throws
    /// <see cref="ArgumentException"/> when there is none, two, or a required argument is missing.
    /// </summary>
    public static EntryFormat Of(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return TryOf(type) ?? throw new ArgumentException($"{type} declares no entry format: give it [EntryFormat] or a ready-made format attribute", nameof(type));
    }

    /// <summary>The format declared on <paramref name="type"/>, or null when it declares none.</summary>
    internal static EntryFormat? TryOf(Type type)
    {
        var holders = new List<Type>();
        if (type.IsDefined(typeof(EntryFormatAttribute), inherit: false))
        {
            holders.Add(type);
        }

        holders.AddRange(type.GetCustomAttributesData().Select(a => a.AttributeType).Where(a => a.IsDefined(typeof(EntryFormatAttribute), inherit: false)));
        if (holders.Count > 1)
        {
            throw new ArgumentException($"{type} declares {holders.Count} entry formats ({string.Join(", ", holders.Select(h => h.Name))}); give it one", nameof(type));
        }

        return holders.Count == 0 ? null : Read(holders[0]);
    }

    /// <summary>The default for a geometry that declares no format: x86's entries (x86-64 for 8-byte entries, 32-bit x86 for 4-byte ones).</summary>
    internal static EntryFormat Default(int entrySize) => entrySize == 4 ? X86NonPae : X86_64;

    /// <summary>The default format as a geometry takes it: without the leaves at levels it folds or that outgrow the physical address space, and the fields of those leaves.</summary>
    internal EntryFormat AsDefaultFor(int pageShift, int entrySize, int levels)
    {
        var leaves = Leaves.Where(l => EntryFormatRules.DefaultKeeps(l, Declaration, pageShift, entrySize, levels)).ToArray();
        return new(Declaration, leaves, Fields.Where(f => EntryFormatRules.FieldApplies(f, leaves, levels)).ToArray(), KernelChecks);
    }

    /// <inheritdoc/>
    public override string ToString() => Name;

    private static EntryFormat Read(Type holder)
    {
        var problems = new List<FormatProblem>();
        var attributes = holder.GetCustomAttributesData();
        var format = EntryFormatRules.ReadFormat(Named(attributes.Single(a => a.AttributeType == typeof(EntryFormatAttribute))), problems);
        var leaves = new List<LeafDecl>();
        var fields = new List<FieldDecl>();
        var checks = new List<KernelChecksDecl>();
        foreach (var attribute in attributes)
        {
            if (attribute.AttributeType == typeof(EntryLeafAttribute))
            {
                int level = Convert.ToInt32(attribute.ConstructorArguments[0].Value, System.Globalization.CultureInfo.InvariantCulture);
                if (EntryFormatRules.ReadLeaf(leaves.Count, level, Named(attribute), problems) is { } leaf)
                {
                    leaves.Add(leaf);
                }
            }
            else if (attribute.AttributeType == typeof(EntryFieldAttribute))
            {
                var args = attribute.ConstructorArguments;
                int low = (int)args[1].Value!;
                fields.Add(EntryFormatRules.ReadField(args[0].Value as string ?? "", low, args.Count > 2 ? (int)args[2].Value! : low, Named(attribute)));
            }
            else if (attribute.AttributeType == typeof(EntryKernelChecksAttribute))
            {
                int level = Convert.ToInt32(attribute.ConstructorArguments[0].Value, System.Globalization.CultureInfo.InvariantCulture);
                checks.Add(EntryFormatRules.ReadKernelChecks(level, Named(attribute)));
            }
        }

        if (format is null || problems.Count > 0)
        {
            throw new ArgumentException($"{holder}: {string.Join("; ", problems.Select(p => p.Message))}", nameof(holder));
        }

        return new EntryFormat(format, leaves.ToArray(), fields.ToArray(), checks.ToArray());
    }

    /// <summary>The written named arguments, by name; an array as an object array of its elements, as the generator reads it.</summary>
    private static Func<string, object?> Named(CustomAttributeData attribute) =>
        name => attribute.NamedArguments.FirstOrDefault(a => a.MemberName == name) is { MemberInfo: not null } argument
            ? argument.TypedValue.Value is IReadOnlyCollection<CustomAttributeTypedArgument> array ? array.Select(e => e.Value).ToArray() : argument.TypedValue.Value
            : null;
}
