using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FlowAnalysis;
using PamtGen.Generator.Analyzers;
using Xunit.Abstractions;

namespace PamtGen.Generator.Tests.Analyzers;

/// <summary>
/// Finally blocks nested 20 deep in finally blocks, each in a loop, behind a try with an early return. Every path runs
/// the finally blocks it leaves through, so the paths multiply with each level; the flow runs a finally once per
/// state that enters it, which keeps it far inside its work bound (past the bound it gives up and reports nothing, so
/// these tests fail if the work grows with the paths again). Without the memo and the bound, depth 8 took 10 s.
/// </summary>
public class NestedFinallyTests(ITestOutputHelper output)
{
    private const int Depth = 20;

    /// <summary>A tenth of the flow's work bound: the margin a hand-written callback this deep must keep.</summary>
    private const int VisitLimit = 20_000;

    [Fact]
    public void The_work_grows_with_the_states_not_with_the_paths()
    {
        var tree = RepositorySources.Parse(AnalyzerHarness.InCallback(Body()), "Nested.cs");
        var model = RepositorySources.Compile([tree]).GetSemanticModel(tree);
        var method = tree.GetRoot().DescendantNodes().OfType<MethodDeclarationSyntax>().Single();
        var body = model.GetOperation(method)!;
        var api = KernelApi.For(model.Compilation)!;
        Assert.True(api.IsPteCallback(model.GetDeclaredSymbol(method), out var pte));
        var graph = ControlFlowGraph.Create(body.Syntax, model)!;
        var facts = CallbackFacts.Scan(api, [body], pte);

        var pteNone = new PteNoneFlow(facts);
        var ownership = new PageOwnershipFlow(facts);
        Assert.True(pteNone.Run(graph));
        Assert.True(ownership.Run(graph));
        output.WriteLine($"{graph.Blocks.Length} blocks, {Depth} finally blocks nested in finally blocks: {pteNone.BlockVisits} block visits for PG0001, {ownership.BlockVisits} for PG0002");
        Assert.Equal(Depth, pteNone.Unchecked.Select(u => u.Call).Where(c => c.TargetMethod.Name == "SetPteAt").Distinct().Count());
        Assert.InRange(pteNone.BlockVisits, graph.Blocks.Length, VisitLimit);
        Assert.InRange(ownership.BlockVisits, graph.Blocks.Length, VisitLimit);
    }

    [Fact]
    public Task Every_level_is_analysed_for_pte_none_checks() =>
        AnalyzerHarness.Verify<PteNoneCheckAnalyzer>(AnalyzerHarness.InCallback(Body("PG0001", "PG0003")));

    [Fact]
    public Task Every_level_is_analysed_for_page_ownership() =>
        AnalyzerHarness.Verify<UnbalancedPageAnalyzer>(AnalyzerHarness.InCallback(Body("PG0002")));

    /// <summary>
    /// Each level writes the PTE unchecked (PG0001), leaks its page when addr equals the level (PG0002), and, as far
    /// as the flow can tell (it does not correlate the two tests of addr), frees a page allocated before any check
    /// where the PTE was just set (PG0003); the markup is written for the rules of the analyzer under test.
    /// </summary>
    private static string Body(params string[] markup)
    {
        string Mark(string id, string code) => markup.Contains(id) ? $"{{|{id}:{code}|}}" : code;

        string Level(int d) => d == 0 ? "addr++;" : $$"""
            for (int i{{d}} = 0; i{{d}} < (int)addr; i{{d}}++)
            {
                Page? p{{d}} = null;
                try
                {
                    p{{d}} = {{Mark("PG0002", Mark("PG0003", "data.Allocator.AllocPage(Gfp.Zero)"))}};
                    if (addr == {{d}}) {{Mark("PG0001", "SetPteAt(data.Mm, addr, pte, PfnPte(1, PageKernel))")}};
                }
                finally
                {
                    if (addr != {{d}} && p{{d}} is not null) data.Allocator.FreePage(p{{d}});
                    {{Level(d - 1)}}
                }
            }
            """;

        return $$"""
            try
            {
                if (PteNone(PtepGet(pte))) return 0;
            }
            finally
            {
                {{Level(Depth)}}
            }
            return 1;
            """;
    }
}
