using System.Diagnostics;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace PamtGen.Package.Tests;

/// <summary>
/// Live diagnostics in a real C# language server: csharp-ls (a local tool of this repository's manifest,
/// .config/dotnet-tools.json, brought by `dotnet tool restore`) over LSP on stdio, on a project that gets
/// PamtGen from the package.
/// </summary>
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
            public static int Map(ref Pte pte, ulong addr, Mm mm)
            {
                var page = mm.Allocator.AllocPage(Gfp.Zero);
                if (page is null) return -Errno.ENOMEM;
                SetPteAt(mm, addr, ref pte, MkPte(page, PageKernel));
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
            public static int Map(ref Pte pte, ulong addr, Mm mm)
            {
                if (!PteNone(PtepGet(ref pte))) return 0;
                var page = mm.Allocator.AllocPage(Gfp.Zero);
                if (page is null) return -Errno.ENOMEM;
                SetPteAt(mm, addr, ref pte, MkPte(page, PageKernel));
                return 0;
            }
        }
        """;

    [Fact]
    public async Task PG0001_appears_in_the_editor_and_goes_when_the_check_is_added()
    {
        string dir = packed.Consumer("Live", Careless);
        File.Delete(Path.Combine(dir, "Program.cs"));
        File.WriteAllText(Path.Combine(dir, "Callbacks.cs"), Careless);
        File.WriteAllText(Path.Combine(dir, "Live.csproj"), File.ReadAllText(Path.Combine(dir, "Live.csproj")).Replace("<OutputType>Exe</OutputType>", "<OutputType>Library</OutputType>", StringComparison.Ordinal));
        Assert.Equal(0, packed.Dotnet.Run(dir, "new", "sln", "-n", "Live", "--format", "sln").Code);
        Assert.Equal(0, packed.Dotnet.Run(dir, "sln", "Live.sln", "add", "Live.csproj").Code);
        var (restored, restoreLog) = packed.Dotnet.Run(dir, "restore");
        Assert.True(restored == 0, restoreLog);
        var (toolCode, toolLog) = packed.Dotnet.Run(Dotnet.RepositoryRoot, "tool", "restore");
        Assert.True(toolCode == 0, toolLog);

        var start = new ProcessStartInfo(Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet")
        {
            WorkingDirectory = Dotnet.RepositoryRoot, // where the tool manifest is
            ArgumentList = { "tool", "run", "csharp-ls" },
        };
        start.Environment["NUGET_PACKAGES"] = Path.Combine(packed.Root, "packages");
        using var server = new LspClient(start);
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
        Assert.NotNull(pg0001);
        Assert.Equal(12, pg0001!["range"]!["start"]!["line"]!.GetValue<int>()); // the SetPteAt line (0-based)

        // Code actions at the diagnostic: the server answers; csharp-ls 0.28 offers its own refactorings only (see the note).
        var actions = await server.Request("textDocument/codeAction", new
        {
            textDocument = new { uri },
            range = pg0001["range"],
            context = new { diagnostics = new[] { pg0001 } },
        }, TimeSpan.FromSeconds(60));
        var titles = actions?.AsArray().Select(a => a?["title"]?.GetValue<string>()).ToList() ?? [];
        output.WriteLine($"code actions offered at PG0001: {string.Join(", ", titles)}");
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
