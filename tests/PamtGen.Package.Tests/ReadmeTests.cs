using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PamtGen.Testing;

namespace PamtGen.Package.Tests;

/// <summary>
/// The README is code: every <c>```csharp</c> block of README.md is compiled against the packed package, as the
/// <c>Program.cs</c> of a project of its own outside the repository, and run where it is a program.
/// </summary>
/// <remarks>
/// The convention, so that whatever a user pastes works: a block is a whole file, never a fragment; nothing is
/// added to it. A block with top-level statements is a program (a console project, run, exit code 0); one with
/// declarations only is a class library (compiled). A line <c>// prints: TEXT</c> in a program says a line the
/// program prints, and the test checks it does. Warnings are errors here too, as in this repository.
/// </remarks>
[Collection(nameof(PackedFeed))]
public sealed partial class ReadmeTests(PackedFeed packed)
{
    [Fact]
    public void Every_csharp_block_of_the_README_compiles_against_the_package_and_runs()
    {
        var blocks = CodeBlocks(File.ReadAllText(Path.Combine(Repository.Root, "README.md")));
        Assert.True(blocks.Count >= 3, $"found {blocks.Count} C# blocks in README.md");
        Assert.Equal(blocks.Count, BuildAndRun(blocks).Count);
    }

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
            """);
        var failure = Assert.ThrowsAny<Exception>(() => BuildAndRun(blocks, "BrokenReadme"));
        Assert.Contains("README.md line 3", failure.Message);
        Assert.Contains("CS1061", failure.Message);
    }

    /// <summary>Builds every block's project in one build (one solution), then runs the programs; returns what each printed.</summary>
    private List<string> BuildAndRun(List<CodeBlock> blocks, string name = "Readme")
    {
        string root = Directory.CreateDirectory(Path.Combine(packed.Root, name)).FullName;
        var projects = new List<(CodeBlock Block, string Name, string Dir)>();
        foreach (var block in blocks)
        {
            string project = $"{name}Line{block.Line}";
            string dir = packed.Consumer(project, block.Code, block.IsProgram ? "Exe" : "Library", under: root);
            File.WriteAllText(Path.Combine(dir, "Directory.Build.props"), """
                <Project>
                  <PropertyGroup>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                    <!-- The audit asks the network for vulnerability data (NU1900 without it): not what this tests. -->
                    <NuGetAudit>false</NuGetAudit>
                  </PropertyGroup>
                </Project>
                """);
            projects.Add((block, project, dir));
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
                .Select(p => $"README.md line {p.Block.Line}:\n  " + string.Join("\n  ", p.Errors));
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
            Assert.True(exit == 0, $"README.md line {block.Line}: the program exited with {exit}\n{stdout}{stderr}");
            foreach (string expected in block.Prints)
            {
                Assert.True(stdout.Split('\n').Any(l => l.Trim() == expected), $"README.md line {block.Line}: expected a line \"{expected}\", the program printed:\n{stdout}");
            }

            printed.Add(stdout);
        }

        return printed;
    }

    private sealed record CodeBlock(int Line, string Code, bool IsProgram, IReadOnlyList<string> Prints);

    /// <summary>The <c>```csharp</c> blocks of a Markdown text, each with the line of its opening fence.</summary>
    private static List<CodeBlock> CodeBlocks(string markdown)
    {
        var blocks = new List<CodeBlock>();
        string[] lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() != "```csharp")
            {
                continue;
            }

            int open = i;
            var code = new List<string>();
            while (++i < lines.Length && lines[i].Trim() != "```")
            {
                code.Add(lines[i]);
            }

            Assert.True(i < lines.Length, $"the C# block at line {open + 1} is not closed");
            string text = string.Join('\n', code) + "\n";
            var unit = (CompilationUnitSyntax)CSharpSyntaxTree.ParseText(text).GetRoot();
            bool isProgram = unit.Members.OfType<GlobalStatementSyntax>().Any();
            var prints = code.Select(l => PrintsLine().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value.Trim()).ToList();
            blocks.Add(new CodeBlock(open + 1, text, isProgram, prints));
        }

        return blocks;
    }

    [GeneratedRegex(@"^\s*// prints: (.*)$")]
    private static partial Regex PrintsLine();
}
