using PamtGen.Testing;

namespace Arm64Stage2.Tests;

/// <summary>The repository README shows what the sample prints: the block under its command is the program's output.</summary>
public class ReadmeOutputTests
{
    [Fact]
    public void The_readme_shows_what_the_command_prints()
    {
        string readme = File.ReadAllText(Path.Combine(TestRepository.Root, "README.md"));
        const string Command = "$ dotnet run --project samples/Arm64Stage2 -c Release\n";
        int start = readme.IndexOf(Command, StringComparison.Ordinal);
        Assert.True(start >= 0, "the README shows no Arm64Stage2 command");
        start += Command.Length;
        string shown = readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)];
        using var home = new IsolatedDotnet("pamtgen-arm64-run");
        var (code, stdout, stderr) = home.Run(AppContext.BaseDirectory, TimeSpan.FromMinutes(2), ["exec", Path.Combine(AppContext.BaseDirectory, "Arm64Stage2.dll")]);
        Assert.True(code == 0, stderr);
        Assert.Equal(shown, stdout);
    }
}
