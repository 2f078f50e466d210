using System.Diagnostics;

namespace PamtGen.Testing;

/// <summary>
/// The dotnet host for a test, with every per-user folder it would touch moved into one temporary folder of
/// the test's own: the CLI home (first-use sentinel, the local-tool resolver cache), NuGet's global packages,
/// HTTP cache, plugins cache and scratch, and the temporary directory. Nothing an earlier run left in the
/// user's home can change what a process started here does, nothing it writes outlives the test, and
/// <see cref="Dispose"/> deletes that folder and nothing else.
/// </summary>
/// <remarks>
/// Why: the CLI's tool resolver cache (under the CLI home) remembers where a local tool was restored. A test
/// that restored a tool into a private package folder and deleted it left the user's cache pointing at
/// nothing, and every later run on the machine failed (issue 14). The user's NuGet.Config is still read (HOME
/// is kept), so the machine's package sources stay in force.
/// </remarks>
internal sealed class IsolatedDotnet : IDisposable
{
    public IsolatedDotnet(string prefix)
    {
        Root = Directory.CreateTempSubdirectory(prefix).FullName;
        Directory.CreateDirectory(TempDirectory);
    }

    /// <summary>The test's own folder; everything the processes write that is not the test's output goes below it.</summary>
    public string Root { get; }

    /// <summary>NuGet's global packages folder for the processes started here (NUGET_PACKAGES).</summary>
    public string PackagesFolder => Path.Combine(Root, "nuget", "packages");

    private string TempDirectory => Path.Combine(Root, "tmp");

    /// <summary>The dotnet host running the tests, or the one on the PATH.</summary>
    public static string Host =>
        Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";

    /// <summary>A start for <c>dotnet args...</c> in <paramref name="workingDirectory"/>, output redirected, with the isolated environment.</summary>
    public ProcessStartInfo StartInfo(string workingDirectory, params IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(Host)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var environment = start.Environment;
        environment["DOTNET_CLI_HOME"] = Path.Combine(Root, "cli-home");
        environment["NUGET_PACKAGES"] = PackagesFolder;
        environment["NUGET_HTTP_CACHE_PATH"] = Path.Combine(Root, "nuget", "http-cache");
        environment["NUGET_PLUGINS_CACHE_PATH"] = Path.Combine(Root, "nuget", "plugins-cache");
        environment["NUGET_SCRATCH"] = Path.Combine(Root, "nuget", "scratch");
        environment["TMPDIR"] = TempDirectory;
        environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        environment["DOTNET_NOLOGO"] = "1";
        environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // A fresh CLI home would otherwise write the global tools' PATH entry into the user's profile.
        environment["DOTNET_ADD_GLOBAL_TOOLS_TO_PATH"] = "0";
        environment["DOTNET_GENERATE_ASPNET_CERTIFICATE"] = "0";
        // No build server outlives the test holding files below Root.
        environment["MSBUILDDISABLENODEREUSE"] = "1";
        environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        environment["UseSharedCompilation"] = "false";
        return start;
    }

    /// <summary>Runs <c>dotnet args...</c> to the end; a process still running after <paramref name="timeout"/> is killed and reported.</summary>
    public (int Code, string Stdout, string Stderr) Run(string workingDirectory, TimeSpan timeout, params IEnumerable<string> args) =>
        Run(StartInfo(workingDirectory, args), timeout);

    /// <summary>Runs a start made by <see cref="StartInfo"/> (perhaps with more environment) to the end.</summary>
    public static (int Code, string Stdout, string Stderr) Run(ProcessStartInfo start, TimeSpan timeout)
    {
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', start.ArgumentList)} did not finish in {timeout}");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
