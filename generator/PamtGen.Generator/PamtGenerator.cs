using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PamtGen.Generator.Model;

namespace PamtGen.Generator;

/// <summary>
/// Fills in every <c>static partial class</c> marked <c>[PageTableGeometry]</c> (and optionally
/// <c>[RefcountTable]</c>) with the geometry's constants and exact, branch-free index, rounding and
/// refcount-layout helpers. Shaped like dotnet/runtime's Regex generator: the parser
/// (<c>PamtGenerator.Parser.cs</c>) turns attributes into value-equatable models and diagnostics as
/// data; the emitter (<c>PamtGenerator.Emitter.cs</c>) writes code from a model only.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class PamtGenerator : IIncrementalGenerator
{
    /// <summary>The package's version (Directory.Build.props), which the generated code's [GeneratedCode] names.</summary>
    internal static readonly string GeneratorVersion =
        typeof(PamtGenerator).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), inherit: false)
            .OfType<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "PackageVersion")?.Value ?? "0.0.0";
    internal const string GeometryAttributeName = "PamtGen.PageTableGeometryAttribute";
    internal const string RefcountAttributeName = "PamtGen.RefcountTableAttribute";
    private const string GeometryAttributeShortName = "PageTableGeometry";
    private const string RefcountAttributeShortName = "RefcountTable";
    internal const string CallbackAttributeName = "PamtGen.PteCallbackAttribute";

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // Stage 1, per class with [PageTableGeometry]: attribute data and symbols become a GeometryParseResult.
        // ForAttributeWithMetadataName re-runs the transform only for classes in edited syntax trees, and the
        // result holds no ISymbol, SyntaxNode or Location, so an unchanged declaration compares equal and
        // everything after it stays cached.
        var geometries = context.SyntaxProvider
            .ForAttributeWithMetadataName(GeometryAttributeName, static (node, _) => node is TypeDeclarationSyntax, ParseGeometry)
            .WithTrackingName(TrackingNames.Geometry);

        // Stage 1b, per class with [RefcountTable]: only the classes that lack a geometry, as PG1010.
        var orphanRefcounts = context.SyntaxProvider
            .ForAttributeWithMetadataName(RefcountAttributeName, static (node, _) => node is TypeDeclarationSyntax, ParseRefcountWithoutGeometry)
            .Where(static diagnostics => diagnostics.Count > 0)
            .WithTrackingName(TrackingNames.OrphanRefcount);

        // Stage 1c, per [PteCallback] method: its shape checked, and its adapter described.
        var callbacks = context.SyntaxProvider
            .ForAttributeWithMetadataName(CallbackAttributeName, static (node, _) => node is MethodDeclarationSyntax, ParseCallback)
            .WithTrackingName(TrackingNames.Callback);

        // Stage 2, per class: report the diagnostics and, for a valid spec, emit one file. Runs only when the
        // class's result changed, so editing one class regenerates that class alone.
        context.RegisterSourceOutput(geometries, static (output, result) =>
            Output(output, result.Diagnostics, result.Spec is { } spec ? (HintName(spec), Emit(spec)) : null));
        context.RegisterSourceOutput(callbacks, static (output, result) =>
            Output(output, result.Diagnostics, result.Spec is { } spec ? (HintName(spec), Emit(spec)) : null));
        context.RegisterSourceOutput(orphanRefcounts, static (output, diagnostics) => Output(output, diagnostics, null));
    }

    /// <summary>Reports a result's diagnostics and adds its file, if it has one.</summary>
    private static void Output(SourceProductionContext output, EquatableArray<DiagnosticInfo> diagnostics, (string HintName, string Source)? file)
    {
        foreach (var diagnostic in diagnostics)
        {
            output.ReportDiagnostic(diagnostic.ToDiagnostic());
        }

        if (file is { } generated)
        {
            output.AddSource(generated.HintName, generated.Source);
        }
    }

    /// <summary>The names of the tracked pipeline steps, for the incremental tests.</summary>
    internal static class TrackingNames
    {
        public const string Geometry = nameof(Geometry);
        public const string OrphanRefcount = nameof(OrphanRefcount);
        public const string Callback = nameof(Callback);
    }
}
