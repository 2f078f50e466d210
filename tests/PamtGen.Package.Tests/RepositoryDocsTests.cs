using System.Text.RegularExpressions;
using PamtGen.Testing;

namespace PamtGen.Package.Tests;

/// <summary>The documentation a clone has is the documentation it cites: no link into nothing, no file outside the repository.</summary>
public sealed partial class RepositoryDocsTests
{
    [Fact]
    public void Every_relative_link_of_the_markdown_files_resolves_in_the_repository()
    {
        var broken = new List<string>();
        foreach (string file in MarkdownFiles())
        {
            foreach (Match link in RelativeLink().Matches(File.ReadAllText(file)))
            {
                string target = link.Groups["target"].Value.Split('#')[0];
                if (target.Length > 0 && !File.Exists(Path.Combine(Path.GetDirectoryName(file)!, target)) && !Directory.Exists(Path.Combine(Path.GetDirectoryName(file)!, target)))
                {
                    broken.Add($"{Path.GetRelativePath(TestRepository.Root, file)}: {link.Value}");
                }
            }
        }

        Assert.True(broken.Count == 0, string.Join('\n', broken));
        Assert.Contains(MarkdownFiles(), f => f.EndsWith(Path.Combine("docs", "KERNEL.md"), StringComparison.Ordinal));
    }

    /// <summary>The project's specification is docs/KERNEL.md; nothing in the repository points at notes a clone does not have.</summary>
    [Fact]
    public void No_source_or_document_cites_the_notes_outside_the_repository()
    {
        var citing = SourceAndDocs().Where(f => File.ReadAllText(f).Contains("DOMAIN" + ".md", StringComparison.Ordinal)).ToList();
        Assert.True(citing.Count == 0, string.Join('\n', citing));
    }

    private static IEnumerable<string> MarkdownFiles() => SourceAndDocs().Where(f => f.EndsWith(".md", StringComparison.Ordinal));

    private static IEnumerable<string> SourceAndDocs() =>
        Directory.EnumerateFiles(TestRepository.Root, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".md", StringComparison.Ordinal) || f.EndsWith(".cs", StringComparison.Ordinal))
            .Where(f => !Path.GetRelativePath(TestRepository.Root, f).Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or ".git"));

    [GeneratedRegex(@"\]\((?<target>(?!https?:|mailto:|#)[^)\s]+)\)")]
    private static partial Regex RelativeLink();
}
