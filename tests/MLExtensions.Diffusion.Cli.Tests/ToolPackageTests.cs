using System.Diagnostics;

namespace MLExtensions.Diffusion.Cli.Tests;

/// <summary>The install story: pack the CLI as a dotnet tool, install it into a temporary tool path, run it.</summary>
public sealed class ToolPackageTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    [Fact]
    public void PackedToolInstallsIntoAToolPathAndRuns()
    {
        string root = RepositoryRoot();
        string work = CliHarness.TempFolder();
        string feed = Path.Combine(work, "feed"), tools = Path.Combine(work, "tools");
        string version = $"0.0.1-test{DateTime.UtcNow:yyyyMMddHHmmss}{Environment.ProcessId}";
        try
        {
            // The test project references the CLI, so it is built in this configuration already: pack without rebuilding.
            Run("dotnet", root, "pack", Path.Combine(root, "src", "MLExtensions.Diffusion.Cli", "MLExtensions.Diffusion.Cli.csproj"),
                "-c", Configuration, "--no-build", "-o", feed, $"-p:PackageVersion={version}");
            Assert.True(File.Exists(Path.Combine(feed, $"MLExtensions.Diffusion.Cli.{version}.nupkg")));

            Run("dotnet", work, "tool", "install", "--tool-path", tools, "--add-source", feed, "MLExtensions.Diffusion.Cli", "--version", version);
            string exe = Path.Combine(tools, OperatingSystem.IsWindows() ? "mldiffusion.exe" : "mldiffusion");
            Assert.True(File.Exists(exe), $"{exe} was not installed");

            var (help, helpRc) = Run(exe, work, "--help");
            Assert.Equal(0, helpRc);
            Assert.Contains("Exit codes", help);
            Assert.Contains("train", help);

            var (thermo, thermoRc) = Run(exe, work, "thermo", "--mixture", "1:0:2", "--json");
            Assert.Equal(0, thermoRc);
            Assert.Contains("kineticCost", thermo);

            var (_, badRc) = Run(exe, work, "train", "--data", "missing.csv", "--output", "m.zip");
            Assert.Equal(1, badRc);
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static (string Output, int ExitCode) Run(string file, string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        string all = stdout + stderr.Result;
        if (file == "dotnet") Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', args)} failed:\n{all}");
        return (all, process.ExitCode);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLExtensions.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("MLExtensions.sln not found above the test assembly.");
    }
}
