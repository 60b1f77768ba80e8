using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace MLExtensions.Diffusion.Cli.Demo;

/// <summary>
/// <c>mldiffusion demo</c>: the README's main job. Trains a small model on the embedded penguins data, fits the sampling
/// plan, compares plans and baselines on held-out rows in one table, and writes the model, the sampler ONNX and figures.
/// Exit codes: 0 done, 1 bad option value (System.CommandLine's parse error, with the message), 3 the output folder cannot
/// be written, 130 cancelled (nothing written).
/// </summary>
public static class DemoCommand
{
    public const int ExitOk = 0, ExitBadOption = 1, ExitOutput = 3, ExitCancelled = 130;

    public static Command Create()
    {
        var output = new Option<string>("--out", "-o")
        {
            Description = "Folder for the model zip, sampler ONNX, figures and demo.json (created; files of the same names are replaced).",
            DefaultValueFactory = _ => "mldiffusion-demo",
        };
        var steps = new Option<int>("--steps")
        {
            Description = "Most training steps (batch 128, network 128 x 3; early stopping on a validation share of the training rows); at least 10.",
            DefaultValueFactory = _ => DemoRunner.DefaultSteps,
        };
        steps.Validators.Add(r =>
        {
            int v = r.GetValueOrDefault<int>();
            if (v < 10 || v > 1_000_000) r.AddError($"--steps must be between 10 and 1000000 (got {v}).");
        });
        var seed = new Option<int>("--seed")
        {
            Description = "Seed of training, latents and metrics (the held-out split is fixed).",
            DefaultValueFactory = _ => 1,
        };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON on stdout (no progress bars, no table)." };
        var command = new Command("demo",
            "Train a diffusion model on the embedded Palmer penguins data, fit its sampling plan at NFE 7, and compare the default and " +
            "optimised plans with a fitted Gaussian and the data's own floor on held-out rows; writes the model, the sampler ONNX and figures.")
        {
            output, steps, seed, json,
        };
        command.SetAction((parse, cancellationToken) => Task.Run(() =>
            Execute(parse.GetValue(output)!, parse.GetValue(steps), parse.GetValue(seed), parse.GetValue(json), cancellationToken), CancellationToken.None));
        return command;
    }

    /// <summary>Runs the demo and prints its result; returns the exit code.</summary>
    public static int Execute(string outputFolder, int steps, int seed, bool json, CancellationToken cancellationToken)
    {
        string target = Path.GetFullPath(outputFolder);
        string staging;
        try
        {
            Directory.CreateDirectory(target);
            staging = Path.Combine(target, $".partial-{Environment.ProcessId}-{Guid.NewGuid():N}");
            Directory.CreateDirectory(staging);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            Console.Error.WriteLine($"mldiffusion demo: cannot create the output folder '{target}': {e.Message} Pass a writable folder with --out.");
            return ExitOutput;
        }
        try
        {
            DemoResult result;
            var settings = new DemoSettings(staging, steps, seed);
            if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 132);   // a log keeps the table on one line a row
            if (json || Console.IsOutputRedirected)
                result = DemoRunner.Run(settings, null, cancellationToken);
            else
            {
                DemoResult? r = null;
                AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                    .Start(ctx =>
                    {
                        var tasks = new Dictionary<string, ProgressTask>
                        {
                            ["train"] = ctx.AddTask($"train ({steps} steps)", maxValue: 1),
                            ["optimise"] = ctx.AddTask("fit sampling plan", maxValue: 1),
                            ["evaluate"] = ctx.AddTask("evaluate", maxValue: 1),
                            ["write"] = ctx.AddTask("write files", maxValue: 1),
                        };
                        var progress = new InlineProgress(p =>
                        {
                            var task = tasks[p.Stage];
                            task.Value = Math.Max(task.Value, p.Fraction);
                            if (p.Stage == "train" && p.Detail is not null) task.Description = $"train ({steps} steps, {p.Detail})";
                            if (p.Stage == "optimise" && p.Detail is not null) task.Description = $"fit sampling plan: {p.Detail}";
                            ctx.Refresh();
                        });
                        r = DemoRunner.Run(settings, progress, cancellationToken);
                        foreach (var t in tasks.Values) t.Value = 1;
                    });
                result = r!;
            }
            // Complete: move the files into the output folder.
            var files = new List<string>();
            foreach (var name in result.Files)
            {
                File.Move(Path.Combine(staging, name), Path.Combine(target, name), overwrite: true);
                files.Add(Path.Combine(target, name));
            }
            result = result with { Files = files };
            string text = JsonSerializer.Serialize(result, JsonOptions);
            File.WriteAllText(Path.Combine(target, "demo.json"), text);
            if (json) Console.WriteLine(text);
            else Print(result, target);
            return ExitOk;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"mldiffusion demo: cannot write into '{target}': {e.Message} Pass a writable folder with --out.");
            return ExitOutput;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("mldiffusion demo: cancelled; no output was written.");
            return ExitCancelled;
        }
        finally
        {
            try { Directory.Delete(staging, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static void Print(DemoResult r, string target)
    {
        var c = CultureInfo.InvariantCulture;
        AnsiConsole.MarkupLine($"Penguins: {r.TotalRows} rows, {r.DroppedRows} dropped for missing cells; seeded 20 % split: " +
            $"{r.TrainRows} training rows, {r.HeldOutRows} held out. Trained {r.TrainingSteps} steps" +
            (r.StoppedEarly ? " (stopped early on a 20 % validation share of the training rows)" : "") + $", kept step {r.BestStep}, in {r.TrainingSeconds.ToString("F1", c)} s " +
            $"(final loss {r.FinalLoss.ToString("F3", c)}); plan fitted in {r.OptimizeSeconds.ToString("F1", c)} s.");
        var table = new Table().Title($"Held-out comparison at NFE {r.Nfe} (distances in per-feature std units; lower is better)");
        foreach (var h in new[] { "source", "sliced W2", "MMD^2", "disc. RMS", "c2", "efficiency", "NFE", "rows/s" })
            table.AddColumn(h == "source" ? new TableColumn(h) : new TableColumn(h).RightAligned());
        foreach (var row in r.Table)
            table.AddRow(Markup.Escape(row.Source), row.HeldOutSlicedW2.ToString("F4", c), row.HeldOutMmd2.ToString("F4", c), Cell(row.DiscretisationRms, "F4"),
                Cell(row.KineticCost, "F3"), Cell(row.Efficiency, "F3"), row.Nfe?.ToString(c) ?? "", Cell(row.RowsPerSecond, "N0"));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"default plan: {Markup.Escape(r.DefaultPlan)}; optimised plan: {Markup.Escape(r.OptimisedPlan)}. " +
            "Fitted Gaussian: the training rows' mean and full covariance. Floor: as many training rows as held-out rows. " +
            "disc. RMS: distance to the same network's 1000-step Heun samples from the same latents.");
        AnsiConsole.MarkupLine("Error against NFE (discretisation RMS, default -> optimised): " +
            string.Join(", ", r.ErrorVsNfe.Select(p => $"{p.Nfe}: {p.DefaultRms.ToString("F3", c)} -> {p.OptimisedRms.ToString("F3", c)}")));
        AnsiConsole.MarkupLine($"Wrote {Markup.Escape(target)}: {Markup.Escape(string.Join(", ", r.Files.Select(Path.GetFileName)))}, demo.json " +
            $"({r.TotalSeconds.ToString("F0", c)} s).");

        static string Cell(double? value, string format) => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "";
    }

    private sealed class InlineProgress(Action<DemoProgress> report) : IProgress<DemoProgress>
    {
        public void Report(DemoProgress value) => report(value);
    }
}
