using Microsoft.CodeAnalysis.Diagnostics;

namespace PamtGen.Generator.Analyzers;

/// <summary>
/// An analyzer of method bodies against the runtime's kernel API: the API is resolved once per compilation, and a
/// compilation that does not reference the runtime registers nothing, so it costs nothing.
/// </summary>
public abstract class OperationBlockAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public sealed override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            if (KernelApi.For(start.Compilation) is { } api)
            {
                start.RegisterOperationBlockAction(block => Analyze(block, api));
            }
        });
    }

    /// <summary>Analyzes one method (or other member) body.</summary>
    private protected abstract void Analyze(OperationBlockAnalysisContext context, KernelApi api);
}
