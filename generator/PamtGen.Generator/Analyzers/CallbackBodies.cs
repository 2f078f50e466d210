using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.FlowAnalysis;

namespace PamtGen.Generator.Analyzers;

/// <summary>The bodies of an operation block that have a control-flow graph: method bodies, not attribute arguments or parameter defaults.</summary>
internal static class CallbackBodies
{
    public static void ForEach(OperationBlockAnalysisContext context, Action<ControlFlowGraph> analyze)
    {
        // A method gives its body as a MethodBody operation or as a Block, depending on the compiler's shape for it.
        var bodies = context.OperationBlocks.Where(b => b.Kind is OperationKind.MethodBody or OperationKind.ConstructorBody).ToList();
        if (bodies.Count == 0)
        {
            bodies = context.OperationBlocks.Where(b => b.Kind == OperationKind.Block).ToList();
        }

        foreach (var body in bodies)
        {
            analyze(context.GetControlFlowGraph(body));
        }
    }
}
