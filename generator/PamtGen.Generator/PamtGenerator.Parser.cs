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
    /// <summary>
    /// Turns one [PageTableGeometry] class into a <see cref="GeometryParseResult"/>: every check of the
    /// declaration happens here, and what leaves is numbers, names and diagnostics as data.
    /// </summary>
    internal static GeometryParseResult ParseGeometry(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var diagnostics = new List<DiagnosticInfo>();
        var symbol = (INamedTypeSymbol)context.TargetSymbol;
        var declaration = (TypeDeclarationSyntax)context.TargetNode;

        bool shapeOk = CheckShape(symbol, declaration, diagnostics);
        var geometry = new AttributeReader(context.Attributes[0], GeometryAttributeShortName, diagnostics, cancellationToken);
        int? pageShift = geometry.Int("PageShift");
        // PmdShift and PtrsPerPte follow from PageShift and EntrySize: optional, and cross-checked when given.
        int? pmdShift = geometry.Int("PmdShift", optional: true);
        int? ptrsPerPte = geometry.Int("PtrsPerPte", optional: true);
        int? levels = geometry.Int("Levels");
        int? vaBits = geometry.Int("VirtualAddressBits");
        int? entrySize = geometry.Int("EntrySize", defaultValue: GeometryRules.DefaultEntrySize);
        int? rootTables = geometry.Int("RootTables", defaultValue: 1);

        int? elementSize = null;
        var refcountAttribute = symbol.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == RefcountAttributeName);
        AttributeReader? refcount = null;
        if (refcountAttribute is not null)
        {
            refcount = new AttributeReader(refcountAttribute, RefcountAttributeShortName, diagnostics, cancellationToken);
            elementSize = refcount.Int("ElementSize");
        }

        foreach (var problem in GeometryRules.Check(pageShift, entrySize, levels, vaBits, rootTables, ptrsPerPte, pmdShift, elementSize))
        {
            var location = problem.Kind == GeometryProblemKind.ElementSize ? refcount!.LocationOf(problem.Argument) : geometry.LocationOf(problem.Argument);
            diagnostics.Add(new DiagnosticInfo(DescriptorOf(problem.Kind), location, problem.Values));
        }

        bool complete = pageShift is not null && levels is not null && vaBits is not null && rootTables is not null
            && entrySize is not null && (refcount is null || elementSize is not null);
        // The entry format is checked against the levels, so only once the geometry itself is sound.
        var format = complete && diagnostics.Count == 0
            ? ParseFormat(symbol, context.Attributes[0], context.SemanticModel.Compilation, pageShift!.Value, entrySize!.Value, levels!.Value, diagnostics, cancellationToken)
            : null;
        GeometrySpec? spec = shapeOk && format is not null && diagnostics.Count == 0
            ? new GeometrySpec(TypeSpecOf(symbol, declaration), pageShift!.Value, entrySize!.Value, levels!.Value, vaBits!.Value, elementSize, rootTables!.Value, format)
            : null;
        return new GeometryParseResult(spec, new EquatableArray<DiagnosticInfo>(diagnostics));
    }

    /// <summary>The diagnostic of each geometry rule.</summary>
    private static DiagnosticDescriptor DescriptorOf(GeometryProblemKind kind) => kind switch
    {
        GeometryProblemKind.PageShift => DiagnosticDescriptors.PageShiftOutOfRange,
        GeometryProblemKind.EntrySize => DiagnosticDescriptors.EntrySizeInvalid,
        GeometryProblemKind.PtrsPerTable => DiagnosticDescriptors.PtrsPerPteMismatch,
        GeometryProblemKind.PmdShift => DiagnosticDescriptors.PmdShiftMismatch,
        GeometryProblemKind.Levels => DiagnosticDescriptors.LevelsOutOfRange,
        GeometryProblemKind.RootTables => DiagnosticDescriptors.RootTablesInvalid,
        GeometryProblemKind.VirtualAddressBits => DiagnosticDescriptors.VirtualAddressBitsNotCovered,
        _ => DiagnosticDescriptors.ElementSizeInvalid,
    };

    /// <summary>PG1010 for a [RefcountTable] class without [PageTableGeometry]; nothing when the geometry is there (its parser reads both).</summary>
    internal static EquatableArray<DiagnosticInfo> ParseRefcountWithoutGeometry(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (HasAttribute(context.TargetSymbol, GeometryAttributeName))
        {
            return EquatableArray<DiagnosticInfo>.Empty;
        }

        var location = LocationInfo.From(context.Attributes[0].ApplicationSyntaxReference?.GetSyntax(cancellationToken));
        return new EquatableArray<DiagnosticInfo>([new DiagnosticInfo(DiagnosticDescriptors.RefcountWithoutGeometry, location, context.TargetSymbol.Name)]);
    }

    /// <summary>PG1001/PG1002: the class must be static partial, and every type around it partial; <paramref name="contained"/> says what they contain ("geometry class", "PTE callback").</summary>
    internal static bool CheckContainingTypesPartial(TypeDeclarationSyntax? first, string contained, List<DiagnosticInfo> diagnostics)
    {
        bool ok = true;
        for (var parent = first; parent is not null; parent = parent.Parent as TypeDeclarationSyntax)
        {
            if (!parent.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.ContainingTypeNotPartial, LocationInfo.From(parent.Identifier), parent.Identifier.ValueText, contained));
                ok = false;
            }
        }

        return ok;
    }

    private static bool CheckShape(INamedTypeSymbol symbol, TypeDeclarationSyntax declaration, List<DiagnosticInfo> diagnostics)
    {
        bool ok = true;
        if (declaration is not ClassDeclarationSyntax || !symbol.IsStatic || !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.NotStaticPartial, LocationInfo.From(declaration.Identifier), symbol.Name));
            ok = false;
        }

        return CheckContainingTypesPartial(declaration.Parent as TypeDeclarationSyntax, "geometry class", diagnostics) && ok;
    }

    private static TypeSpec TypeSpecOf(INamedTypeSymbol symbol, TypeDeclarationSyntax declaration)
    {
        var containing = new List<TypeDeclarationSpec>();
        for (var parent = declaration.Parent as TypeDeclarationSyntax; parent is not null; parent = parent.Parent as TypeDeclarationSyntax)
        {
            containing.Insert(0, new TypeDeclarationSpec(KeywordOf(parent), NameOf(parent)));
        }

        string? ns = symbol.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : null;
        return new TypeSpec(ns, new EquatableArray<TypeDeclarationSpec>(containing), NameOf(declaration), symbol.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat));
    }

    /// <summary>The keyword to reopen <paramref name="type"/> with, "static class" included, so the partial parts agree.</summary>
    internal static string KeywordOf(TypeDeclarationSyntax type) => type switch
    {
        RecordDeclarationSyntax record => record.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) ? "record struct" : "record",
        StructDeclarationSyntax => "struct",
        InterfaceDeclarationSyntax => "interface",
        _ when type.Modifiers.Any(SyntaxKind.StaticKeyword) => "static class",
        _ => "class",
    };

    internal static string NameOf(TypeDeclarationSyntax type) =>
        type.Identifier.ValueText + (type.TypeParameterList is { } parameters
            ? "<" + string.Join(", ", parameters.Parameters.Select(p => p.Identifier.ValueText)) + ">"
            : "");

    /// <summary>Reads the named int arguments of one attribute application, reporting PG1011 for a missing or non-constant one.</summary>
    private sealed class AttributeReader(AttributeData attribute, string attributeName, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        private readonly AttributeSyntax? _syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;

        /// <summary>The constant value of <paramref name="name"/>; null (after reporting PG1011) when it is missing without a default or not a constant int.</summary>
        /// <summary>
        /// The constant int written for <paramref name="name"/>; <paramref name="defaultValue"/> when it is not written,
        /// or null when it is optional (and not written). PG1011 when it is required and missing, or not a constant.
        /// </summary>
        public int? Int(string name, int? defaultValue = null, bool optional = false)
        {
            foreach (var argument in attribute.NamedArguments)
            {
                if (argument.Key == name)
                {
                    if (argument.Value.Kind == TypedConstantKind.Primitive && argument.Value.Value is int value)
                    {
                        return value;
                    }

                    break;
                }
            }

            // Not bound: either written but not a constant int (the compiler reports that too), or not written at all.
            var written = ArgumentSyntax(name);
            if (written is null && (defaultValue is not null || optional))
            {
                return defaultValue;
            }

            diagnostics.Add(new DiagnosticInfo(
                DiagnosticDescriptors.ArgumentMissingOrNotConstant, LocationInfo.From((SyntaxNode?)written ?? _syntax), attributeName, name,
                written is null ? "is required: set it to a constant int" : "must be a constant int"));
            return null;
        }

        /// <summary>Where <paramref name="name"/> is written, or the whole attribute when it is not.</summary>
        public LocationInfo? LocationOf(string name) => LocationInfo.From((SyntaxNode?)ArgumentSyntax(name) ?? _syntax);

        private AttributeArgumentSyntax? ArgumentSyntax(string name) =>
            _syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name);
    }
}
