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
        int? pmdShift = geometry.Int("PmdShift");
        int? ptrsPerPte = geometry.Int("PtrsPerPte");
        int? levels = geometry.Int("Levels");
        int? vaBits = geometry.Int("VirtualAddressBits");
        int? entrySize = geometry.Int("EntrySize", defaultValue: 8);

        int? elementSize = null;
        var refcountAttribute = symbol.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == RefcountAttributeName);
        AttributeReader? refcount = null;
        if (refcountAttribute is not null)
        {
            refcount = new AttributeReader(refcountAttribute, RefcountAttributeShortName, diagnostics, cancellationToken);
            elementSize = refcount.Int("ElementSize");
        }

        int errorsBefore = diagnostics.Count;
        if (entrySize is not null and not (4 or 8))
        {
            diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.EntrySizeInvalid, geometry.LocationOf("EntrySize"), Text(entrySize)));
        }

        if (pageShift is not null and (< 10 or > 20))
        {
            diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.PageShiftOutOfRange, geometry.LocationOf("PageShift"), Text(pageShift)));
        }

        bool basicsOk = diagnostics.Count == errorsBefore && pageShift is not null && entrySize is not null;
        if (basicsOk)
        {
            int pageSize = 1 << pageShift!.Value;
            int bits = pageShift.Value - (entrySize == 8 ? 3 : 2);
            if (ptrsPerPte is not null && ptrsPerPte != pageSize / entrySize)
            {
                diagnostics.Add(new DiagnosticInfo(
                    DiagnosticDescriptors.PtrsPerPteMismatch, geometry.LocationOf("PtrsPerPte"), Text(ptrsPerPte), Text(pageSize), Text(pageSize / entrySize), Text(entrySize)));
            }

            if (pmdShift is not null && pmdShift != pageShift + bits)
            {
                diagnostics.Add(new DiagnosticInfo(
                    DiagnosticDescriptors.PmdShiftMismatch, geometry.LocationOf("PmdShift"), Text(pmdShift), Text(pageShift), Text(pageSize / entrySize), Text(pageShift + bits)));
            }

            if (levels is not null and (< 2 or > 5))
            {
                diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.LevelsOutOfRange, geometry.LocationOf("Levels"), Text(levels)));
            }
            else if (levels is not null && vaBits is not null && VirtualAddressProblem(pageShift.Value, bits, levels.Value, vaBits.Value) is { } problem)
            {
                diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.VirtualAddressBitsNotCovered, geometry.LocationOf("VirtualAddressBits"), Text(vaBits), problem));
            }

            if (elementSize is not null && (elementSize < 1 || (elementSize & (elementSize - 1)) != 0 || elementSize > pageSize))
            {
                diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.ElementSizeInvalid, refcount!.LocationOf("ElementSize"), Text(elementSize), Text(pageSize)));
            }
        }
        else if (levels is not null and (< 2 or > 5))
        {
            diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.LevelsOutOfRange, geometry.LocationOf("Levels"), Text(levels)));
        }

        bool complete = pageShift is not null && pmdShift is not null && ptrsPerPte is not null && levels is not null && vaBits is not null
            && entrySize is not null && (refcount is null || elementSize is not null);
        GeometrySpec? spec = shapeOk && complete && diagnostics.Count == 0
            ? new GeometrySpec(TypeSpecOf(symbol, declaration), pageShift!.Value, entrySize!.Value, levels!.Value, vaBits!.Value, elementSize)
            : null;
        return new GeometryParseResult(spec, new EquatableArray<DiagnosticInfo>(diagnostics));
    }

    /// <summary>PG1010 for a [RefcountTable] class without [PageTableGeometry]; nothing when the geometry is there (its parser reads both).</summary>
    internal static EquatableArray<DiagnosticInfo> ParseRefcountWithoutGeometry(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == GeometryAttributeName))
        {
            return EquatableArray<DiagnosticInfo>.Empty;
        }

        var location = LocationInfo.From(context.Attributes[0].ApplicationSyntaxReference?.GetSyntax(cancellationToken));
        return new EquatableArray<DiagnosticInfo>([new DiagnosticInfo(DiagnosticDescriptors.RefcountWithoutGeometry, location, context.TargetSymbol.Name)]);
    }

    /// <summary>Why <paramref name="vaBits"/> cannot be translated by the levels, or null when it can.</summary>
    private static string? VirtualAddressProblem(int pageShift, int bits, int levels, int vaBits)
    {
        int topShift = pageShift + ((levels - 1) * bits);
        if (vaBits > 64)
        {
            return "an address has 64 bits";
        }

        if (vaBits <= topShift)
        {
            return $"the top of {levels} levels starts at bit {topShift} and would resolve no bit; use fewer levels";
        }

        return vaBits > topShift + bits
            ? $"{levels} levels of {bits} bits over {pageShift}-bit pages translate only {topShift + bits} bits; use more levels"
            : null;
    }

    /// <summary>PG1001/PG1002: the class must be static partial, and every type around it partial.</summary>
    internal static bool CheckContainingTypesPartial(TypeDeclarationSyntax? first, List<DiagnosticInfo> diagnostics)
    {
        bool ok = true;
        for (var parent = first; parent is not null; parent = parent.Parent as TypeDeclarationSyntax)
        {
            if (!parent.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.ContainingTypeNotPartial, LocationInfo.From(parent.Identifier), parent.Identifier.ValueText));
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

        return CheckContainingTypesPartial(declaration.Parent as TypeDeclarationSyntax, diagnostics) && ok;
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

    private static string Text(int? value) => value!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Reads the named int arguments of one attribute application, reporting PG1011 for a missing or non-constant one.</summary>
    private sealed class AttributeReader(AttributeData attribute, string attributeName, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        private readonly AttributeSyntax? _syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;

        /// <summary>The constant value of <paramref name="name"/>; null (after reporting PG1011) when it is missing without a default or not a constant int.</summary>
        public int? Int(string name, int? defaultValue = null)
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
            if (written is null && defaultValue is not null)
            {
                return defaultValue;
            }

            diagnostics.Add(new DiagnosticInfo(
                DiagnosticDescriptors.ArgumentMissingOrNotConstant, LocationInfo.From((SyntaxNode?)written ?? _syntax), attributeName, name));
            return null;
        }

        /// <summary>Where <paramref name="name"/> is written, or the whole attribute when it is not.</summary>
        public LocationInfo? LocationOf(string name) => LocationInfo.From((SyntaxNode?)ArgumentSyntax(name) ?? _syntax);

        private AttributeArgumentSyntax? ArgumentSyntax(string name) =>
            _syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name);
    }
}
