using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PamtGen.Generator.Model;

namespace PamtGen.Generator;

public sealed partial class PamtGenerator
{
    internal const string EntryFormatAttributeName = "PamtGen.EntryFormatAttribute";
    private const string EntryLeafAttributeName = "PamtGen.EntryLeafAttribute";
    private const string EntryFieldAttributeName = "PamtGen.EntryFieldAttribute";
    private const string EntryKernelChecksAttributeName = "PamtGen.EntryKernelChecksAttribute";

    /// <summary>
    /// The entry format of a geometry class: its own [EntryFormat]/[EntryLeaf]/[EntryField], or those on the class of one
    /// attribute applied to it (a ready-made format), or, with neither, x86's ready-made format without the leaves the
    /// geometry folds. The declaration is read through the rules file the runtime reads it with (EntryFormatRules) and
    /// checked there; each problem becomes a diagnostic at the argument, or the attribute, it is about.
    /// </summary>
    private static FormatSpec? ParseFormat(
        INamedTypeSymbol geometry, AttributeData geometryAttribute, Compilation compilation, int pageShift, int entrySize, int levels,
        List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        var geometrySyntax = geometryAttribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken);
        var holders = new List<(INamedTypeSymbol Holder, SyntaxNode? Applied)>();
        if (HasAttribute(geometry, EntryFormatAttributeName))
        {
            holders.Add((geometry, null));
        }

        foreach (var attribute in geometry.GetAttributes())
        {
            if (attribute.AttributeClass is { } preset && HasAttribute(preset, EntryFormatAttributeName))
            {
                holders.Add((preset, attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken)));
            }
        }

        if (holders.Count > 1)
        {
            diagnostics.Add(new DiagnosticInfo(
                DiagnosticDescriptors.EntryFormatMissing, LocationInfo.From(holders[1].Applied ?? geometrySyntax),
                $"'{geometry.Name}' declares {holders.Count} entry formats ({string.Join(", ", holders.Select(h => h.Holder.Name))}); give it one"));
            return null;
        }

        bool isDefault = holders.Count == 0;
        if (isDefault)
        {
            string name = entrySize == 4 ? "PamtGen.Formats.X86NonPaeEntryFormatAttribute" : "PamtGen.Formats.X86_64EntryFormatAttribute";
            if (compilation.GetTypeByMetadataName(name) is not { } fallback)
            {
                diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.EntryFormatMissing, LocationInfo.From(geometrySyntax),
                    $"'{geometry.Name}' declares no entry format and the referenced PamtGen has no {name}; declare [EntryFormat]"));
                return null;
            }

            holders.Add((fallback, geometrySyntax));
        }

        var (holder, applied) = holders[0];
        // Problems point into the declaration when it is on the geometry, else at the attribute that brought it.
        var problems = new List<FormatProblem>();
        var declaration = ReadFormatDeclaration(holder, problems);
        var (format, leaves, fields, checks) = (declaration.Format, declaration.Leaves, declaration.Fields, declaration.Checks);

        if (isDefault && format is not null)
        {
            leaves.RemoveAll(l => !EntryFormatRules.DefaultKeeps(l, format, pageShift, entrySize, levels));
            for (int i = fields.Count - 1; i >= 0; i--)
            {
                if (!EntryFormatRules.FieldApplies(fields[i], leaves, levels))
                {
                    fields.RemoveAt(i);
                    declaration.FieldSources.RemoveAt(i);
                }
            }
        }

        if (format is not null)
        {
            problems.AddRange(EntryFormatRules.Check(format, leaves, fields, checks, pageShift, entrySize, levels));
        }

        foreach (var problem in problems)
        {
            LocationInfo? location = applied is not null
                ? LocationInfo.From(applied)
                : problem.Attribute < 0 ? ArgumentLocation(declaration.FormatData, problem.Argument, cancellationToken)
                : problem.Attribute >= EntryFormatRules.KernelChecksBase ? ArgumentLocation(declaration.CheckSources[problem.Attribute - EntryFormatRules.KernelChecksBase], problem.Argument, cancellationToken)
                : problem.Attribute >= EntryFormatRules.FieldBase ? ArgumentLocation(declaration.FieldSources[problem.Attribute - EntryFormatRules.FieldBase], problem.Argument, cancellationToken)
                : ArgumentLocation(declaration.LeafSources[problem.Attribute], problem.Argument, cancellationToken);
            if (isDefault)
            {
                diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.EntryFormatMissing, location,
                    $"'{geometry.Name}' declares no entry format, and x86's does not fit it: {problem.Message}; declare [EntryFormat] or apply a ready-made format"));
                return null;
            }

            diagnostics.Add(new DiagnosticInfo(DescriptorOf(problem.Kind), location, problem.Message));
        }

        return format is null || problems.Count > 0
            ? null
            : new FormatSpec(format, new EquatableArray<LeafDecl>(leaves), new EquatableArray<FieldDecl>(fields), new EquatableArray<KernelChecksDecl>(checks),
                isDefault ? null : holder.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat));
    }

    /// <summary>
    /// The format declaration on <paramref name="holder"/> (a geometry, or the class of a ready-made format), read through
    /// the rules file the runtime reads it with, each declaration beside the attribute it came from; the one reading the
    /// generator and the analyzers (PG0006 reads a format's masks) share.
    /// </summary>
    internal static FormatDeclaration ReadFormatDeclaration(INamedTypeSymbol holder, List<FormatProblem> problems)
    {
        var attributes = holder.GetAttributes();
        var formatData = attributes.First(a => a.AttributeClass?.ToDisplayString() == EntryFormatAttributeName);
        var declaration = new FormatDeclaration(EntryFormatRules.ReadFormat(Named(formatData), problems), formatData);
        foreach (var data in attributes.Where(a => a.AttributeClass?.ToDisplayString() == EntryLeafAttributeName))
        {
            if (data.ConstructorArguments.Length == 1 && data.ConstructorArguments[0].Value is int level
                && EntryFormatRules.ReadLeaf(declaration.Leaves.Count, level, Named(data), problems) is { } leaf)
            {
                declaration.Leaves.Add(leaf);
                declaration.LeafSources.Add(data);
            }
        }

        foreach (var data in attributes.Where(a => a.AttributeClass?.ToDisplayString() == EntryFieldAttributeName))
        {
            var args = data.ConstructorArguments;
            if (args.Length >= 2 && args[1].Value is int low)
            {
                // A null name is no identifier: PG1023, as an invalid one.
                declaration.Fields.Add(EntryFormatRules.ReadField(args[0].Value as string ?? "", low, args.Length > 2 && args[2].Value is int high ? high : low, Named(data)));
                declaration.FieldSources.Add(data);
            }
        }

        foreach (var data in attributes.Where(a => a.AttributeClass?.ToDisplayString() == EntryKernelChecksAttributeName))
        {
            if (data.ConstructorArguments.Length == 1 && data.ConstructorArguments[0].Value is int level)
            {
                declaration.Checks.Add(EntryFormatRules.ReadKernelChecks(level, Named(data)));
                declaration.CheckSources.Add(data);
            }
        }

        return declaration;
    }

    /// <summary>A format declaration as <see cref="ReadFormatDeclaration"/> read it: never in the pipeline (it holds attribute data).</summary>
    internal sealed class FormatDeclaration(FormatDecl? format, AttributeData formatData)
    {
        public FormatDecl? Format { get; } = format;

        public AttributeData FormatData { get; } = formatData;

        public List<LeafDecl> Leaves { get; } = [];

        public List<AttributeData> LeafSources { get; } = [];

        public List<FieldDecl> Fields { get; } = [];

        public List<AttributeData> FieldSources { get; } = [];

        public List<KernelChecksDecl> Checks { get; } = [];

        public List<AttributeData> CheckSources { get; } = [];
    }

    private static DiagnosticDescriptor DescriptorOf(FormatProblemKind kind) => kind switch
    {
        FormatProblemKind.FieldsOverlap => DiagnosticDescriptors.EntryFieldsOverlap,
        FormatProblemKind.OutsideEntry => DiagnosticDescriptors.EntryBitsOutside,
        FormatProblemKind.AddressTooNarrow => DiagnosticDescriptors.OutputAddressTooNarrow,
        FormatProblemKind.LevelInvalid => DiagnosticDescriptors.EntryLevelInvalid,
        FormatProblemKind.RuleAmbiguous => DiagnosticDescriptors.EntryRuleAmbiguous,
        FormatProblemKind.RootTablesInvalid => DiagnosticDescriptors.RootTablesInvalid,
        FormatProblemKind.FieldName => DiagnosticDescriptors.EntryFieldNameInvalid,
        FormatProblemKind.PermissionFields => DiagnosticDescriptors.PermissionFieldsMissing,
        _ => DiagnosticDescriptors.EntryFormatMissing,
    };

    private static bool HasAttribute(ISymbol symbol, string metadataName) =>
        symbol.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == metadataName);

    /// <summary>
    /// The written named arguments of an attribute, by name, as constants (an enum as its underlying value, an array as an
    /// object array of its elements, as the runtime reads it); null when not written or not constant.
    /// </summary>
    internal static System.Func<string, object?> Named(AttributeData attribute) =>
        name =>
        {
            foreach (var argument in attribute.NamedArguments)
            {
                if (argument.Key == name && argument.Value.Kind is TypedConstantKind.Primitive or TypedConstantKind.Enum)
                {
                    return argument.Value.Value;
                }

                if (argument.Key == name && argument.Value.Kind == TypedConstantKind.Array && !argument.Value.IsNull)
                {
                    return argument.Value.Values.Select(v => v.Value).ToArray();
                }
            }

            return null;
        };

    /// <summary>
    /// Where <paramref name="argument"/> is written in an attribute: a named argument, or the constructor arguments
    /// level/name/low/high by position; the whole attribute when it is not written.
    /// </summary>
    private static LocationInfo? ArgumentLocation(AttributeData attribute, string argument, CancellationToken cancellationToken)
    {
        if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not AttributeSyntax syntax)
        {
            return null;
        }

        var arguments = syntax.ArgumentList?.Arguments ?? default;
        int position = argument switch { "level" or "name" => 0, "low" => 1, "high" => 2, _ => -1 };
        var positional = arguments.Where(a => a.NameEquals is null).ToList();
        if (position >= 0)
        {
            var at = position < positional.Count ? positional[position] : argument == "high" && positional.Count == 2 ? positional[1] : null;
            return LocationInfo.From((SyntaxNode?)at ?? syntax);
        }

        // An argument left to its default is blamed on the one it defaults from (LeafValue on LeafMask, ...).
        string? from = argument switch
        {
            "LeafValue" => "LeafMask",
            "ValidValue" => "ValidMask",
            "ReservedEncodingValues" => "ReservedEncodingMasks",
            "AddressShift" => "AddressLow",
            "TableAddressShift" => "TableAddressLow",
            _ => null,
        };
        var named = arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == argument)
            ?? arguments.FirstOrDefault(a => from is not null && a.NameEquals?.Name.Identifier.ValueText == from);
        return LocationInfo.From((SyntaxNode?)named ?? syntax);
    }
}
