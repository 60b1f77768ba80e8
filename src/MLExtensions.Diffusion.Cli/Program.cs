using System.CommandLine;
using MLExtensions.Diffusion.Cli;

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;   // stop through the library's CancellationToken; outputs are written atomically, so none is left half-written
    cts.Cancel();
};
return await CliApp.RunAsync(args, new CliContext(), cts.Token);

namespace MLExtensions.Diffusion.Cli
{
    /// <summary>The root command.</summary>
    public static partial class CliApp
    {
        /// <summary>Builds the root command <c>mldiffusion</c> with every subcommand.</summary>
        public static RootCommand CreateRoot(CliContext context)
        {
            var root = new RootCommand(
                "mldiffusion: train diffusion models on tables (CSV or Parquet), sample from them, evaluate them, measure their " +
                "thermodynamics, optimise and search their sampling plans, score rows by likelihood and export ONNX.\n" + ExitCodeHelp);
            root.Subcommands.Add(Commands.Train(context));
            root.Subcommands.Add(Commands.Sample(context));
            root.Subcommands.Add(Commands.Evaluate(context));
            root.Subcommands.Add(Commands.Thermo(context));
            root.Subcommands.Add(Commands.Optimize(context));
            root.Subcommands.Add(Commands.Search(context));
            root.Subcommands.Add(Commands.Likelihood(context));
            root.Subcommands.Add(Commands.Export(context));
            root.Subcommands.Add(Demo.DemoCommand.Create());
            root.Subcommands.Add(ServeCommand.Create(context));
            root.Subcommands.Add(ClusterCommands.Silo(context));
            return root;
        }
    }
}
