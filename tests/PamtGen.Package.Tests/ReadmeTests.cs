using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PamtGen.Testing;

namespace PamtGen.Package.Tests;

/// <summary>
/// The README is code: every <c>```csharp</c> block of every README (the repository's, the samples') and of docs/ is
/// compiled against the packed package, as the <c>Program.cs</c> of a project of its own outside the repository, and
/// run where it is a program.
/// </summary>
/// <remarks>
/// The convention, so that whatever a user pastes works: a block is a whole file, never a fragment; nothing is
/// added to it. A block with top-level statements is a program (a console project, run, exit code 0); one with
/// declarations only is a class library (compiled). A line <c>// prints: TEXT</c> in a program says a line the
/// program prints, and the test checks it does. Warnings are errors here too, as in this repository.
/// </remarks>
[Trait(Category.Name, Category.Slow)]
[Collection(nameof(PackedFeed))]
public sealed partial class ReadmeTests(PackedFeed packed)
{
    [Fact]
    public void Every_csharp_block_of_the_READMEs_and_docs_compiles_against_the_package_and_runs()
    {
        var blocks = Documents().SelectMany(file => CodeBlocks(File.ReadAllText(Path.Combine(TestRepository.Root, file)), file)).ToList();
        Assert.True(blocks.Count(b => b.File == "README.md") >= 1, "the README shows no C# example");
        Assert.True(blocks.Count >= 6, $"found {blocks.Count} C# blocks in {string.Join(", ", Documents())}");
        Assert.Equal(blocks.Count, BuildAndRun(blocks).Count);
    }

    /// <summary>The Markdown files whose C# blocks are code: README.md, samples/*/README.md and docs/*.md, relative to the root.</summary>
    private static List<string> Documents() =>
        ["README.md",
         .. Directory.EnumerateFiles(Path.Combine(TestRepository.Root, "samples"), "README.md", SearchOption.AllDirectories)
             .Concat(Directory.EnumerateFiles(Path.Combine(TestRepository.Root, "docs"), "*.md"))
             .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
             .Select(f => Path.GetRelativePath(TestRepository.Root, f).Replace('\\', '/'))
             .Order(StringComparer.Ordinal)];

    /// <summary>The harness itself can fail: a README whose block does not compile is reported with its README line.</summary>
    [Fact]
    public void A_block_that_does_not_compile_fails_naming_its_README_line()
    {
        var blocks = CodeBlocks("""
            Text.

            ```csharp
            using PamtGen;

            var mm = new Mm(Geometry.X86_64FourLevel, PageAllocator.Synthetic(16));
            mm.NoSuchMethod();
            ```
            """, "README.md");
        var failure = Assert.ThrowsAny<Exception>(() => BuildAndRun(blocks, "BrokenReadme"));
        Assert.Contains("README.md line 3", failure.Message);
        Assert.Contains("CS1061", failure.Message);
    }

    /// <summary>
    /// The README's snapshot recipe does what it says, run as its reader would: without a snapshot it fails and says
    /// how to write one; <c>UPDATE_SNAPSHOTS=1</c> writes the generated file; then it passes; and a snapshot that no
    /// longer matches the generated code fails with the file's diff.
    /// </summary>
    [Fact]
    public void The_snapshot_recipe_asks_for_a_snapshot_writes_it_passes_and_fails_on_a_change()
    {
        var recipe = Assert.Single(CodeBlocks(File.ReadAllText(Path.Combine(TestRepository.Root, "README.md")), "README.md"),
            b => b.Project?.Contains("Microsoft.CodeAnalysis.CSharp.SourceGenerators.Testing", StringComparison.Ordinal) == true);
        string root = Directory.CreateDirectory(Path.Combine(packed.Root, "SnapshotRecipe")).FullName;
        string dir = Consumer("SnapshotRecipe", recipe, root);
        var build = packed.Dotnet.Run(dir, "build", "-c", "Release");
        Assert.True(build.Code == 0, build.Output);

        string snapshot = Path.Combine(dir, "Snapshots", "Stage2.PamtGen.g.cs");
        var first = Test(dir, update: false);
        Assert.True(first.Code != 0, first.Output);
        Assert.Contains($"no snapshot at {snapshot}: run the tests once with UPDATE_SNAPSHOTS=1", first.Output, StringComparison.Ordinal);

        var update = Test(dir, update: true);
        Assert.True(update.Code == 0, update.Output);
        string written = File.ReadAllText(snapshot);
        Assert.Contains("public const int PageShift = 16;", written, StringComparison.Ordinal);

        var again = Test(dir, update: false);
        Assert.True(again.Code == 0, again.Output);
        Assert.Equal(written, File.ReadAllText(snapshot));

        File.WriteAllText(snapshot, written.Replace("public const int PageShift = 16;", "public const int PageShift = 12;", StringComparison.Ordinal));
        var changed = Test(dir, update: false);
        Assert.True(changed.Code != 0, changed.Output);
        Assert.Contains("Stage2.PamtGen.g.cs' did not match", changed.Output, StringComparison.Ordinal);
        Assert.Contains("-    public const int PageShift = 12;", changed.Output, StringComparison.Ordinal);
        Assert.Contains("+    public const int PageShift = 16;", changed.Output, StringComparison.Ordinal);
    }

    /// <summary><c>dotnet test</c> of the built recipe, with <c>UPDATE_SNAPSHOTS=1</c> or without it; the exit code and all it printed.</summary>
    private (int Code, string Output) Test(string dir, bool update)
    {
        var start = packed.Dotnet.StartInfo(dir, "test", "-c", "Release", "--no-build");
        if (update)
        {
            start.Environment["UPDATE_SNAPSHOTS"] = "1";
        }
        else
        {
            start.Environment.Remove("UPDATE_SNAPSHOTS");
        }

        var (code, stdout, stderr) = IsolatedDotnet.Run(start, TimeSpan.FromMinutes(5));
        return (code, stdout + stderr);
    }

    /// <summary>Builds every block's project in one build (one solution), then runs the programs; returns what each printed.</summary>
    private List<string> BuildAndRun(List<CodeBlock> blocks, string name = "Readme")
    {
        string root = Directory.CreateDirectory(Path.Combine(packed.Root, name)).FullName;
        var projects = new List<(CodeBlock Block, string Name, string Dir)>();
        foreach (var block in blocks)
        {
            string project = $"{name}{ProjectPart(block.File)}Line{block.Line}";
            projects.Add((block, project, Consumer(project, block, root)));
        }

        File.WriteAllText(Path.Combine(root, name + ".slnx"),
            "<Solution>\n" + string.Concat(projects.Select(p => $"  <Project Path=\"{p.Name}/{p.Name}.csproj\" />\n")) + "</Solution>\n");
        var (code, output) = packed.Dotnet.Run(root, "build", name + ".slnx", "-c", "Release");
        if (code != 0)
        {
            // Name each failing block by its README line, with the compiler's messages for it.
            var messages = projects
                .Select(p => (p.Block, Errors: output.Split('\n').Where(l => l.Contains($"/{p.Name}/", StringComparison.Ordinal) && l.Contains("error", StringComparison.Ordinal)).Select(l => l.Trim()).Distinct().ToList()))
                .Where(p => p.Errors.Count > 0)
                .Select(p => $"{p.Block.File} line {p.Block.Line}:\n  " + string.Join("\n  ", p.Errors));
            throw new Xunit.Sdk.XunitException($"README C# blocks do not compile:\n{string.Join('\n', messages)}\n\nbuild output:\n{output}");
        }

        var printed = new List<string>();
        foreach (var (block, project, dir) in projects)
        {
            if (!block.IsProgram)
            {
                printed.Add("");
                continue;
            }

            var (exit, stdout, stderr) = packed.Dotnet.Run(dir, TimeSpan.FromMinutes(2), "exec", Path.Combine(dir, "bin", "Release", "net10.0", project + ".dll"));
            Assert.True(exit == 0, $"{block.File} line {block.Line}: the program exited with {exit}\n{stdout}{stderr}");
            foreach (string expected in block.Prints)
            {
                Assert.True(stdout.Split('\n').Any(l => l.Trim() == expected), $"{block.File} line {block.Line}: expected a line \"{expected}\", the program printed:\n{stdout}");
            }

            printed.Add(stdout);
        }

        return printed;
    }

    /// <summary>The project of one block, under <paramref name="root"/>: the block's own project file if it shows one.</summary>
    private string Consumer(string project, CodeBlock block, string root)
    {
        string dir = packed.Consumer(project, block.Code, block.IsProgram ? "Exe" : "Library", under: root);
        if (block.Project is not null)
        {
            File.WriteAllText(Path.Combine(dir, project + ".csproj"), block.Project);
            // A project of its own may need more than PamtGen (the snapshot recipe: Roslyn's testing libraries, xunit):
            // this build restored them (PackageReferences of this test project), so its packages folder is the
            // feed, and the restore needs no network.
            File.WriteAllText(Path.Combine(dir, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="pamtgen-local" value="{packed.Feed}" />
                    <add key="restored" value="{Repository.RestoredPackages}" />
                  </packageSources>
                </configuration>
                """);
        }

        File.WriteAllText(Path.Combine(dir, "Directory.Build.props"), """
            <Project>
              <PropertyGroup>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <!-- NU1603 (a dependency's lowest version is not on the feed, a higher one was resolved) is about this
                     machine's feed, which serves some versions only; nuget.org has them all. It stays a warning. -->
                <WarningsNotAsErrors>NU1603</WarningsNotAsErrors>
                <!-- The audit asks the network for vulnerability data (NU1900 without it): not what this tests. -->
                <NuGetAudit>false</NuGetAudit>
              </PropertyGroup>
            </Project>
            """);
        return dir;
    }

    /// <summary>A C# block; <paramref name="Project"/> is the project file shown right before it, if any (else the harness's console or library project).</summary>
    private sealed record CodeBlock(string File, int Line, string Code, bool IsProgram, IReadOnlyList<string> Prints, string? Project);

    /// <summary>A project-name part for a document: its path's letters and digits (samples/TdxDpamt/README.md: SamplesTdxDpamtREADME).</summary>
    private static string ProjectPart(string file) =>
        string.Concat(file.Split('/', '.', '-', '_').Where(p => p.Length > 0 && p != "md").Select(p => char.ToUpperInvariant(p[0]) + p[1..]));

    /// <summary>The <c>```csharp</c> blocks of a Markdown text, each with its file and the line of its opening fence.</summary>
    private static List<CodeBlock> CodeBlocks(string markdown, string file)
    {
        var blocks = new List<CodeBlock>();
        string[] lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        string? project = null;
        for (int i = 0; i < lines.Length; i++)
        {
            if (!lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                continue;
            }

            int open = i;
            string language = lines[i].Trim()[3..];
            var code = new List<string>();
            while (++i < lines.Length && lines[i].Trim() != "```")
            {
                code.Add(lines[i]);
            }

            Assert.True(i < lines.Length, $"{file}: the block at line {open + 1} is not closed");
            string text = string.Join('\n', code) + "\n";
            if (language != "csharp")
            {
                // An XML block that is a whole project file is the project of the C# block right after it.
                project = language == "xml" && text.TrimStart().StartsWith("<Project", StringComparison.Ordinal) ? text : null;
                continue;
            }

            var unit = (CompilationUnitSyntax)CSharpSyntaxTree.ParseText(text).GetRoot();
            bool isProgram = unit.Members.OfType<GlobalStatementSyntax>().Any();
            var prints = code.Select(l => PrintsLine().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value.Trim()).ToList();
            blocks.Add(new CodeBlock(file, open + 1, text, isProgram, prints, project));
            project = null;
        }

        return blocks;
    }

    [GeneratedRegex(@"^\s*// prints: (.*)$")]
    private static partial Regex PrintsLine();
}
