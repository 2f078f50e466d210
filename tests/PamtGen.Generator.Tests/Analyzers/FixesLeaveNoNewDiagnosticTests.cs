using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using PamtGen.CodeFixes;

namespace PamtGen.Generator.Tests.Analyzers;

/// <summary>
/// Every code fix on every input its rule's tests report: Fix All in the document, once, leaves none of the rule's
/// diagnostics and no diagnostic under any rule (or compiler error) that the input did not have. A fix that trades one
/// finding for another (a none check around a write after an allocation, which leaks the page on the other branch) fails.
/// </summary>
public class FixesLeaveNoNewDiagnosticTests
{
    /// <summary>(rule, fix, the documents: the one with the finding first, then what it needs).</summary>
    public static TheoryData<string, string, int> Cases()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var (rule, inputs) in Inputs)
        {
            for (int i = 0; i < inputs.Count; i++)
            {
                data.Add(rule, Provider(rule).GetType().Name, i);
            }
        }

        return data;
    }

    private static readonly (string Rule, List<(string Name, string Text)[]> Inputs)[] Inputs =
    [
        ("PG0001", Bodies(PG0001Tests.Positive).Select(b => Alone(AnalyzerHarness.InCallback(b))).ToList()),
        ("PG0003", Bodies(PG0003Tests.Positive).Select(b => Alone(AnalyzerHarness.InCallback(b))).ToList()),
        ("PG0004", Bodies(PG0004Tests.Positive).Select(m => Alone(PG0004Tests.Geometry + m + "\n}\n")).ToList()),
        ("PG0005", Bodies(PG0005Tests.Positive).Select(b => Alone(PG0005Tests.Source(b))).ToList()),
        ("PG0006", Bodies(PG0006Tests.Reported).Select(b => WithGeometries(PG0006Tests.WithArm64Bits(AnalyzerHarness.InCallback(b)))).ToList()),
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Fix_all_leaves_no_new_diagnostic_under_any_rule(string rule, string fix, int input)
    {
        var documents = Inputs.Single(i => i.Rule == rule).Inputs[input];
        var provider = Provider(rule);
        Assert.Equal(fix, provider.GetType().Name);
        var project = Project(documents);
        var before = await Diagnose(project);
        var fixedDocument = project.Documents.First();
        var findings = before.Where(d => d.Id == rule && d.Location.SourceTree?.FilePath == fixedDocument.FilePath).ToImmutableArray();
        Assert.NotEmpty(findings);

        // The key of the first finding's fix, as an editor's "Fix all occurrences" passes it.
        var actions = new List<CodeAction>();
        await provider.RegisterCodeFixesAsync(new CodeFixContext(fixedDocument, findings[0], (action, _) => actions.Add(action), CancellationToken.None));
        var first = Assert.Single(actions);
        var context = new FixAllContext(fixedDocument, provider, FixAllScope.Document, first.EquivalenceKey, [rule], new Findings(findings), CancellationToken.None);
        var fixAll = await provider.GetFixAllProvider()!.GetFixAsync(context);
        Assert.NotNull(fixAll);
        var operation = Assert.Single((await fixAll.GetOperationsAsync(CancellationToken.None)).OfType<ApplyChangesOperation>());
        var after = await Diagnose(operation.ChangedSolution.GetProject(project.Id)!);
        string text = (await operation.ChangedSolution.GetDocument(fixedDocument.Id)!.GetTextAsync()).ToString();

        Assert.True(!after.Any(d => d.Id == rule), $"{fix} left {string.Join(", ", after.Where(d => d.Id == rule))} in\n{text}");
        var known = before.Select(Key).ToHashSet();
        var added = after.Select(Key).Where(k => !known.Contains(k)).ToList();
        Assert.True(added.Count == 0, $"{fix} left new diagnostics:\n{string.Join("\n", added)}\nin\n{text}");
    }

    /// <summary>A diagnostic as the comparison sees it: its id and message (the fix moves lines).</summary>
    private static string Key(Diagnostic diagnostic) => $"{diagnostic.Id}: {diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";

    private static CodeFixProvider Provider(string rule) => rule switch
    {
        "PG0001" => new CheckPteFirstCodeFix(),
        "PG0003" => new MoveAllocationAfterCheckCodeFix(),
        "PG0004" => new UseRefcountAreaSizeCodeFix(),
        "PG0005" => new RemoveLockCodeFix(),
        _ => new BreakBeforeMakeCodeFix(),
    };

    private static IEnumerable<string> Bodies(TheoryData<string> data) => ((IEnumerable<object[]>)data).Select(row => (string)row[0]);

    private static (string Name, string Text)[] Alone(string source) => [("Callback.cs", source)];

    /// <summary>The callback with PG0006's geometries and what the generator made of them.</summary>
    private static (string Name, string Text)[] WithGeometries(string source) => [("Callback.cs", source), .. PG0006Tests.Sources.Value];

    /// <summary>The markup of the analyzer tests removed: {|PG0001:code|} is code.</summary>
    private static string Plain(string marked) => Regex.Replace(marked, @"\{\|[A-Z0-9#]+:|\|\}", "");

    private static Project Project((string Name, string Text)[] documents)
    {
        var workspace = new AdhocWorkspace();
        var project = workspace.AddProject(ProjectInfo.Create(
            ProjectId.CreateNewId(), VersionStamp.Create(), "Fixed", "Fixed", LanguageNames.CSharp,
            compilationOptions: new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable),
            parseOptions: new CSharpParseOptions(LanguageVersion.Latest),
            metadataReferences: GeneratorHarness.References));
        foreach (var (name, text) in documents)
        {
            project = project.AddDocument(name, Plain(text), filePath: name).Project;
        }

        return project;
    }

    /// <summary>Every analyzer's diagnostics and the compiler's errors.</summary>
    private static async Task<ImmutableArray<Diagnostic>> Diagnose(Project project)
    {
        var compilation = (await project.GetCompilationAsync())!;
        var analyzers = await compilation.WithAnalyzers(RepositorySources.Analyzers).GetAnalyzerDiagnosticsAsync();
        return [.. analyzers, .. compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error)];
    }

    private sealed class Findings(ImmutableArray<Diagnostic> diagnostics) : FixAllContext.DiagnosticProvider
    {
        public override Task<IEnumerable<Diagnostic>> GetAllDiagnosticsAsync(Project project, CancellationToken cancellationToken) => Task.FromResult<IEnumerable<Diagnostic>>(diagnostics);

        public override Task<IEnumerable<Diagnostic>> GetDocumentDiagnosticsAsync(Document document, CancellationToken cancellationToken) => Task.FromResult<IEnumerable<Diagnostic>>(diagnostics);

        public override Task<IEnumerable<Diagnostic>> GetProjectDiagnosticsAsync(Project project, CancellationToken cancellationToken) => Task.FromResult<IEnumerable<Diagnostic>>([]);
    }
}
