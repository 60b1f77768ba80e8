using System.CommandLine;
using MLExtensions.Diffusion.Cli;

namespace MLExtensions.Diffusion.Cli.Tests;

/// <summary>Every command and option is documented; the root help lists the exit codes.</summary>
public sealed class HelpTests
{
    [Fact]
    public void RootHelpListsCommandsAndExitCodes()
    {
        var r = CliHarness.Run("--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var name in new[] { "train", "sample", "evaluate", "thermo", "optimize", "search", "likelihood", "export", "demo", "serve" })
            Assert.Contains(name, r.Out);
        foreach (var code in new[] { "0 ok", "1 user error", "2 usage error", "3 data error", "130 cancelled" })
            Assert.Contains(code, r.Out);
    }

    [Fact]
    public void EveryCommandAndOptionHasADescriptionShownInItsHelp()
    {
        var root = CliApp.CreateRoot(new CliContext());
        Assert.Equal(11, root.Subcommands.Count);   // train, sample, evaluate, thermo, optimize, search, likelihood, export, demo, serve, silo
        foreach (var command in root.Subcommands)
        {
            Assert.False(string.IsNullOrWhiteSpace(command.Description), command.Name);
            var help = CliHarness.Run(command.Name, "--help");
            Assert.Equal(0, help.ExitCode);
            foreach (var option in command.Options.Where(o => o.Name is not "--help" and not "-h"))
            {
                Assert.False(string.IsNullOrWhiteSpace(option.Description), $"{command.Name} {option.Name}");
                Assert.Contains(option.Name, help.Out);
            }
        }
    }
}
