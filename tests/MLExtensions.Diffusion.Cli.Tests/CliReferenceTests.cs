using System.Text;
using System.Text.RegularExpressions;
using MLExtensions.Diffusion.Cli;

namespace MLExtensions.Diffusion.Cli.Tests;

/// <summary>docs/cli.md is the `--help` of the root command and of every command, checked here against the live help
/// (whitespace-insensitive, since help wraps to the console width). Regenerate it with
/// <c>MLDIFFUSION_WRITE_CLI_REFERENCE=1 dotnet test tests/MLExtensions.Diffusion.Cli.Tests -c Release --filter CliReference</c>.</summary>
public class CliReferenceTests
{
    private static string DocsPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLExtensions.sln"))) return Path.Combine(dir.FullName, "docs", "cli.md");
        throw new DirectoryNotFoundException("MLExtensions.sln not found above the test's folder.");
    }

    private static string Expected()
    {
        var root = CliApp.CreateRoot(new CliContext());
        var doc = new StringBuilder();
        doc.AppendLine("# mldiffusion command reference");
        doc.AppendLine();
        doc.AppendLine("The `--help` text of the `mldiffusion` CLI (`src/MLExtensions.Diffusion.Cli`), one section per command. Run any of");
        doc.AppendLine("them with `dotnet run -c Release --project src/MLExtensions.Diffusion.Cli -- <command> --help`, or `mldiffusion <command>");
        doc.AppendLine("--help` once the tool is installed (`dotnet pack src/MLExtensions.Diffusion.Cli -c Release`, then");
        doc.AppendLine("`dotnet tool install --tool-path <folder> --add-source src/MLExtensions.Diffusion.Cli/bin/Release MLExtensions.Diffusion.Cli`).");
        doc.AppendLine("This page is checked against the live help by `CliReferenceTests` (tests/MLExtensions.Diffusion.Cli.Tests).");
        foreach (var (title, args) in new[] { ("mldiffusion", new[] { "--help" }) }
                     .Concat(root.Subcommands.Select(c => ($"mldiffusion {c.Name}", new[] { c.Name, "--help" }))))
        {
            var help = CliHarness.Run(args);
            Assert.Equal(0, help.ExitCode);
            doc.AppendLine();
            doc.AppendLine($"## {title}");
            doc.AppendLine();
            doc.AppendLine("```text");
            // In-process the usage line names the test host; the installed tool is mldiffusion.
            doc.AppendLine(Regex.Replace(help.Out.TrimEnd(), @"\btesthost\b", "mldiffusion"));
            doc.AppendLine("```");
        }
        return doc.ToString();
    }

    private static string Collapse(string text) => Regex.Replace(text, @"\s+", " ").Trim();

    [Fact]
    public void TheReferencePage_IsTheLiveHelpOfEveryCommand()
    {
        string expected = Expected(), path = DocsPath();
        if (Environment.GetEnvironmentVariable("MLDIFFUSION_WRITE_CLI_REFERENCE") == "1") File.WriteAllText(path, expected);
        Assert.True(File.Exists(path), $"{path} is missing: regenerate it (see this test's summary).");
        Assert.Equal(Collapse(expected), Collapse(File.ReadAllText(path)));
    }
}
