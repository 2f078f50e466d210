using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PamtGen.Generator.Analyzers;

namespace PamtGen.Generator.Tests.Analyzers;

/// <summary>
/// The analyzers' infrastructure is built once and shared, as roslyn-analyzers share theirs: the kernel API once per
/// compilation (for every analyzer), what a method's locals hold once per body; and the kernel functions are told
/// apart as symbols, so a user method of the same name is not one of them.
/// </summary>
public class SharedAnalysisTests
{
    [Fact]
    public void The_kernel_api_is_one_per_compilation_and_the_facts_one_per_body()
    {
        var tree = RepositorySources.Parse(AnalyzerHarness.InCallback("""
            if (PteNone(PtepGet(pte)))
            {
                SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel));
            }

            return 0;
            """), "Shared.cs");
        var compilation = RepositorySources.Compile([tree]);
        var api = KernelApi.For(compilation);
        Assert.NotNull(api);
        Assert.Same(api, KernelApi.For(compilation));
        Assert.NotSame(api, KernelApi.For(RepositorySources.Compile([tree])));
        Assert.Null(KernelApi.For(RepositorySources.Compile([tree], withRuntime: false)));

        var model = compilation.GetSemanticModel(tree);
        var method = tree.GetRoot().DescendantNodes().OfType<MethodDeclarationSyntax>().First(m => m.ParameterList.Parameters.Count == 3);
        var blocks = ImmutableArray.Create(model.GetOperation(method)!);
        Assert.True(api!.IsPteCallback(model.GetDeclaredSymbol(method), out var pte));
        var facts = CallbackFacts.Of(api, blocks, pte);
        Assert.Same(facts, CallbackFacts.Of(api, blocks, pte));
        Assert.True(facts.WritesPtes);
    }

    [Fact]
    public void A_method_named_like_a_kernel_function_is_not_one()
    {
        var tree = RepositorySources.Parse("""
            using PamtGen;

            public static class Mine
            {
                public static bool PteNone(Pte pte) => false;

                public static void SetPteAt(Mm mm, ulong addr, PtePointer ptep, Pte pte) { }

                public static bool Check(Mm mm, PtePointer ptep, Pte pte)
                {
                    SetPteAt(mm, 0, ptep, pte);
                    return PteNone(pte) && Pgtable.PteNone(pte);
                }
            }
            """, "Mine.cs");
        var compilation = RepositorySources.Compile([tree]);
        var api = KernelApi.For(compilation)!;
        var model = compilation.GetSemanticModel(tree);
        var calls = tree.GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>()
            .Select(c => (Text: c.Expression.ToString(), Function: api.FunctionOf((Microsoft.CodeAnalysis.Operations.IInvocationOperation)model.GetOperation(c)!)))
            .ToList();
        Assert.Equal([("SetPteAt", (KernelFunction?)null), ("PteNone", null), ("Pgtable.PteNone", KernelFunction.PteNone)], calls);
    }
}
