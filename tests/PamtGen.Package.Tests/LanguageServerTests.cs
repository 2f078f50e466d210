using PamtGen.Testing;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace PamtGen.Package.Tests;

/// <summary>
/// Live diagnostics in a real C# language server: csharp-ls (a local tool of this repository's manifest,
/// .config/dotnet-tools.json, brought by `dotnet tool restore`) over LSP on stdio, on a project that gets
/// PamtGen from the package. Every process runs in a home of its own (<see cref="IsolatedDotnet"/>).
/// </summary>
[Trait(Category.Name, Category.Slow)]
[Collection(nameof(PackedFeed))]
public sealed class LanguageServerTests(PackedFeed packed, ITestOutputHelper output)
{
    private const string Careless = """
        using PamtGen;
        using static PamtGen.Pgtable;

        namespace Live;

        public static partial class Callbacks
        {
            [PteCallback]
            public static int Map(PtePointer pte, ulong addr, Mm mm)
            {
                var page = mm.Allocator.AllocPage(Gfp.Zero);
                if (page is null) return -Errno.ENOMEM;
                SetPteAt(mm, addr, pte, MkPte(page, PageKernel));
                return 0;
            }
        }
        """;

    private const string Checked = """
        using PamtGen;
        using static PamtGen.Pgtable;

        namespace Live;

        public static partial class Callbacks
        {
            [PteCallback]
            public static int Map(PtePointer pte, ulong addr, Mm mm)
            {
                if (!PteNone(PtepGet(pte))) return 0;
                var page = mm.Allocator.AllocPage(Gfp.Zero);
                if (page is null) return -Errno.ENOMEM;
                SetPteAt(mm, addr, pte, MkPte(page, PageKernel));
                return 0;
            }
        }
        """;

    /// <summary>
    /// Twice, each time from a fresh CLI home and NuGet folders, the first deleted before the second starts: what
    /// a second run of the suite on the same machine does. Before issue 14 the second start followed the CLI's
    /// tool resolver cache to the deleted packages folder and the server never came up.
    /// </summary>
    [Fact]
    public async Task PG0001_appears_in_the_editor_and_goes_when_the_check_is_added()
    {
        for (int session = 1; session <= 2; session++)
        {
            using var home = new IsolatedDotnet($"pamtgen-lsp-{session}");
            await EditorSession(home, session);
        }
    }

    [Fact]
    public void The_tool_manifest_names_the_csharp_ls_this_project_downloads()
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(TestRepository.Root, ".config", "dotnet-tools.json")))!;
        Assert.Equal(Repository.CsharpLsVersion, manifest["tools"]!["csharp-ls"]!["version"]!.GetValue<string>());
    }

    private async Task EditorSession(IsolatedDotnet home, int session)
    {
        string dir = packed.Consumer("Live", Careless, outputType: "Library", under: home.Root);
        File.Move(Path.Combine(dir, "Program.cs"), Path.Combine(dir, "Callbacks.cs"));
        Assert.Equal(0, home.Run(dir, "new", "sln", "-n", "Live", "--format", "sln").Code);
        Assert.Equal(0, home.Run(dir, "sln", "Live.sln", "add", "Live.csproj").Code);
        var (restored, restoreLog) = home.Run(dir, "restore");
        Assert.True(restored == 0, restoreLog);

        // The repository's local tool, restored as a user would (`dotnet tool restore` where the manifest is), from
        // the package this build already downloaded: a feed of that folder alone, so the test needs no network.
        string toolFeed = Path.Combine(home.Root, "tool-feed.config");
        File.WriteAllText(toolFeed, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="restored" value="{Repository.RestoredPackages}" />
              </packageSources>
            </configuration>
            """);
        var (toolCode, toolLog) = home.Run(TestRepository.Root, "tool", "restore", "--configfile", toolFeed);
        Assert.True(toolCode == 0, toolLog);
        Assert.True(Directory.Exists(Path.Combine(home.PackagesFolder, "csharp-ls")), $"csharp-ls was not restored into this session's own packages folder:\n{toolLog}");

        using var server = new LspClient(home.StartInfo(TestRepository.Root, "tool", "run", "csharp-ls")); // where the tool manifest is
        string root = new Uri(dir + "/").AbsoluteUri;
        string uri = new Uri(Path.Combine(dir, "Callbacks.cs")).AbsoluteUri;
        await server.Request("initialize", new
        {
            processId = Environment.ProcessId,
            rootUri = root,
            workspaceFolders = new[] { new { uri = root, name = "Live" } },
            capabilities = new { textDocument = new { diagnostic = new { }, publishDiagnostics = new { }, codeAction = new { codeActionLiteralSupport = new { codeActionKind = new { valueSet = new[] { "quickfix", "refactor" } } } } } },
        }, TimeSpan.FromSeconds(60));
        server.Notify("initialized", new { });
        server.Notify("workspace/didChangeConfiguration", new { settings = new { csharp = new { analyzersEnabled = true } } });
        server.Notify("textDocument/didOpen", new { textDocument = new { uri, languageId = "csharp", version = 1, text = Careless } });

        // Pull diagnostics until the solution is loaded and PG0001 is there.
        var pg0001 = await Poll(server, uri, items => items.FirstOrDefault(d => Code(d) == "PG0001"), TimeSpan.FromSeconds(120));
        Assert.True(pg0001 is not null, $"session {session}: no PG0001; log:\n{string.Join('\n', server.Log.TakeLast(20))}");
        Assert.Equal(12, pg0001!["range"]!["start"]!["line"]!.GetValue<int>()); // the SetPteAt line (0-based)

        // Code actions at the diagnostic: the server answers; csharp-ls 0.28 offers its own refactorings only (see the note).
        var actions = await server.Request("textDocument/codeAction", new
        {
            textDocument = new { uri },
            range = pg0001["range"],
            context = new { diagnostics = new[] { pg0001 } },
        }, TimeSpan.FromSeconds(60));
        var titles = actions?.AsArray().Select(a => a?["title"]?.GetValue<string>()).ToList() ?? [];
        output.WriteLine($"session {session}: code actions offered at PG0001: {string.Join(", ", titles)}");
        Assert.NotNull(actions);

        // The check added: PG0001 goes, and nothing else of PamtGen's comes.
        server.Notify("textDocument/didChange", new { textDocument = new { uri, version = 2 }, contentChanges = new[] { new { text = Checked } } });
        var cleared = await Poll(server, uri, items => items.Any(d => Code(d)?.StartsWith("PG", StringComparison.Ordinal) == true) ? null : new JsonObject(), TimeSpan.FromSeconds(60));
        Assert.NotNull(cleared);
    }

    private static string? Code(JsonNode? diagnostic) => diagnostic?["code"]?.GetValue<string>();

    private static async Task<JsonNode?> Poll(LspClient server, string uri, Func<List<JsonNode?>, JsonNode?> found, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            var report = await server.Request("textDocument/diagnostic", new { textDocument = new { uri } }, TimeSpan.FromSeconds(60));
            var items = report?["items"]?.AsArray().ToList() ?? [];
            if (found(items) is { } hit)
            {
                return hit;
            }

            await Task.Delay(1_000);
        }

        return null;
    }
}
