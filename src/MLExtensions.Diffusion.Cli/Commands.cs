using System.CommandLine;
using System.Text;
using System.Text.Json;
using Microsoft.ML;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Training;

namespace MLExtensions.Diffusion.Cli;

/// <summary>The subcommands.</summary>
internal static class Commands
{
    /// <summary>The model-zip entry where <c>train</c> stores the feature column names.</summary>
    public const string ColumnsEntry = "cli/columns.json";

    private static Option<string> Required(string name, string description) => new(name) { Description = description, Required = true };

    private static Option<bool> JsonOption() => new("--json") { Description = "Print machine-readable JSON on standard output instead of text; disables progress bars." };

    private static Option<string[]> ColumnsOption() => new("--columns")
    {
        Description = "Feature columns, comma separated (e.g. --columns a,b,c). Default: every numeric column (for a model trained by " +
                      "this tool: the columns it was trained on). A text column named here is an error.",
        CustomParser = r => r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
    };

    private static Option<MissingMode> MissingOption() => new("--missing")
    {
        Description = "Empty cells are missing values (never zeros): 'error' (default) stops naming the row and column; 'drop' drops those rows.",
        DefaultValueFactory = _ => MissingMode.Error,
    };

    private static Option<int> IntOption(string name, string description, int defaultValue, int min = 1) => new Option<int>(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        Validators =
        {
            r =>
            {
                if (r.Tokens.Count == 1 && int.TryParse(r.Tokens[0].Value, System.Globalization.NumberStyles.Integer, CliApp.C, out int v) && v < min)
                    r.AddError($"{name} must be at least {min} (got {v}).");
            },
        },
    };

    private static MLContext Ml(int seed) => new(seed);

    public static Command Train(CliContext ctx)
    {
        var data = Required("--data", "The training table: a CSV file with a header row, or a .parquet file.");
        var output = Required("--output", "The model zip to write (atomically; on Ctrl-C nothing is written).");
        output.Aliases.Add("-o");
        var columns = ColumnsOption();
        var missing = MissingOption();
        var steps = IntOption("--steps", "Optimiser steps.", 2000);
        var width = IntOption("--width", "Hidden width of the network.", 256);
        var depth = IntOption("--depth", "Hidden layers of the network.", 3);
        var batch = IntOption("--batch-size", "Rows per step.", 256);
        var lr = new Option<double>("--learning-rate") { Description = "Peak learning rate.", DefaultValueFactory = _ => 2e-3 };
        var schedule = new Option<ScheduleKind>("--schedule") { Description = "Noise schedule: Cosine, CondOt, VpLinear, VpCosine, Ve.", DefaultValueFactory = _ => ScheduleKind.Cosine };
        var seed = IntOption("--seed", "Seed (same seed and threads give the same model).", 1, min: 0);
        var validation = new Option<double>("--validation-fraction") { Description = "Share of rows held out for early stopping (0 to 0.5).", DefaultValueFactory = _ => 0 };
        var patience = IntOption("--patience", "Early-stopping patience: held-out evaluations (one per progress report: every steps/20 steps, at most 100) without a new best; used with --validation-fraction.", 5);
        var json = JsonOption();
        var cmd = new Command("train", "Train a score-matching diffusion model on the numeric columns of a table and save it as a model zip " +
            "(the feature column names travel in the zip). Progress bar on a terminal; Ctrl-C cancels and writes nothing.")
        {
            data, output, columns, missing, steps, width, depth, batch, lr, schedule, seed, validation, patience, json,
        };
        cmd.SetAction(CliApp.Guard(ctx, (p, ct) =>
        {
            bool j = p.GetValue(json);
            var table = TableReader.Read(p.GetValue(data)!, p.GetValue(columns), p.GetValue(missing));
            string outPath = p.GetValue(output)!;
            if (!Directory.Exists(Path.GetDirectoryName(Path.GetFullPath(outPath))))
                throw new CliException($"The output folder of '{outPath}' does not exist.");
            var ml = Ml(p.GetValue(seed));
            int d = table.Columns.Length;
            var view = CliApp.ToDataView(ml, table.Values, d);
            double vf = p.GetValue(validation);
            var model = CliApp.WithProgress(ctx, j, "training", report =>
            {
                var options = new ScoreMatchingOptions
                {
                    Steps = p.GetValue(steps), Width = p.GetValue(width), Depth = p.GetValue(depth), BatchSize = p.GetValue(batch),
                    LearningRate = p.GetValue(lr), Schedule = p.GetValue(schedule), Seed = p.GetValue(seed),
                    ReportInterval = Math.Max(1, Math.Min(100, p.GetValue(steps) / 20)),
                    CancellationToken = ct,
                    Progress = new SyncProgress<TrainingProgress>(t => report((double)t.Step / t.TotalSteps,
                        string.Create(CliApp.C, $"step {t.Step}/{t.TotalSteps}, loss {t.Loss:F4}"))),
                };
                if (vf > 0) { options.ValidationFraction = vf; options.EarlyStoppingPatience = p.GetValue(patience); }
                return ml.Diffusion().Trainers.ScoreMatching(options).Fit(view);
            });
            ct.ThrowIfCancellationRequested();
            DiffusionModelArchive.Save(model, outPath, new Dictionary<string, byte[]> { [ColumnsEntry] = JsonSerializer.SerializeToUtf8Bytes(table.Columns) });
            var s = model.Summary;
            if (j)
                ctx.Out.WriteLine(CliApp.Json(new { model = outPath, columns = table.Columns, rows = table.Rows, droppedRows = table.DroppedRows, summary = s.ToString() }));
            else
                ctx.Out.WriteLine($"Trained on {table.Rows} rows x {d} columns ({string.Join(", ", table.Columns)})" +
                    (table.DroppedRows > 0 ? $", {table.DroppedRows} rows dropped for missing values" : "") + $"; wrote {outPath}.\n{s}");
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    public static Command Sample(CliContext ctx)
    {
        var model = Required("--model", "The model zip (from train or optimize).");
        var output = Required("--output", "The CSV file of generated rows to write (atomically), one column per feature.");
        output.Aliases.Add("-o");
        var count = IntOption("--count", "Rows to generate.", 1000);
        var seed = IntOption("--seed", "Seed of the latents (row i depends only on seed and i).", 1, min: 0);
        var steps = new Option<int?>("--steps") { Description = "Solver steps; default: the model's sampling plan." };
        var sampler = new Option<GenerateSamplerKind?>("--sampler") { Description = "Solver: Heun, Euler, Ddim, DpmSolverPlusPlus2M; default: the model's plan." };
        var json = JsonOption();
        var (cluster, shardRows, format) = (ClusterCommands.ClusterOption(), ClusterCommands.ShardRowsOption(), ClusterCommands.FormatOption());
        var cmd = new Command("sample", "Generate rows from a model (in data units) and write them to a CSV file. Progress bar on a terminal.")
        {
            model, output, count, seed, steps, sampler, json, cluster, shardRows, format,
        };
        cmd.SetAction(CliApp.Guard(ctx, (p, ct) =>
        {
            if (p.GetValue(cluster) is { } clusterText)
            {
                var job = CliApp.WithProgress(ctx, p.GetValue(json), "sampling", report => ClusterCommands.Sample(clusterText, p.GetValue(model)!, p.GetValue(output)!,
                    p.GetValue(count), p.GetValue(seed), p.GetValue(steps), p.GetValue(sampler), p.GetValue(shardRows), p.GetValue(format), report, ct));
                int written = job.Shards.Count(x => x.Written);
                if (p.GetValue(json)) ctx.Out.WriteLine(CliApp.Json(new { output = p.GetValue(output), rows = p.GetValue(count), shards = job.Shards.Count, written, retries = job.Retries }));
                else ctx.Out.WriteLine($"Wrote {p.GetValue(count)} generated rows in {job.Shards.Count} shards to {p.GetValue(output)} ({written} written now, {job.Shards.Count - written} already there).");
                return ExitCodes.Ok;
            }
            var ml = Ml(p.GetValue(seed));
            var m = CliApp.LoadModel(ml, p.GetValue(model)!);
            int n = p.GetValue(count), d = m.Dimension;
            var options = new GenerateOptions { BatchSize = Math.Min(n, 1024) };
            if (p.GetValue(steps) is int st) options.Steps = st;
            if (p.GetValue(sampler) is GenerateSamplerKind k) options.Sampler = k;
            var values = CliApp.WithProgress(ctx, p.GetValue(json), "sampling", report =>
            {
                var view = ml.Diffusion().Generate(m, n, p.GetValue(seed), options);
                var result = new float[n * d];
                using var cursor = view.GetRowCursor(view.Schema);
                var getter = cursor.GetGetter<Microsoft.ML.Data.VBuffer<float>>(view.Schema["Generated"]);
                var buffer = default(Microsoft.ML.Data.VBuffer<float>);
                int r = 0;
                while (cursor.MoveNext())
                {
                    ct.ThrowIfCancellationRequested();
                    getter(ref buffer);
                    buffer.DenseValues().ToArray().CopyTo(result, r * d);
                    r++;
                    if (r % 256 == 0 || r == n) report((double)r / n, $"{r}/{n} rows");
                }
                return result;
            });
            string outPath = p.GetValue(output)!;
            CliApp.WriteTextAtomic(outPath, CliApp.Csv(CliApp.ColumnNames(m), values));
            if (p.GetValue(json)) ctx.Out.WriteLine(CliApp.Json(new { output = outPath, rows = n, columns = CliApp.ColumnNames(m) }));
            else ctx.Out.WriteLine($"Wrote {n} generated rows to {outPath}.");
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    public static Command Evaluate(CliContext ctx)
    {
        var model = Required("--model", "The model zip.");
        var data = Required("--data", "Held-out rows (CSV or .parquet) to compare generated rows with.");
        var columns = ColumnsOption();
        var missing = MissingOption();
        var seed = IntOption("--seed", "Seed of the generated rows.", 1, min: 0);
        var noNll = new Option<bool>("--no-likelihood") { Description = "Skip the mean held-out NLL (the slowest part)." };
        var json = JsonOption();
        var cmd = new Command("evaluate", "Evaluate a model on held-out rows: sliced and exact W2, MMD^2, mean held-out NLL (nats per row), " +
            "kinetic cost c2 and entropy production S_tot with standard errors, efficiency and NFE.")
        {
            model, data, columns, missing, seed, noNll, json,
        };
        cmd.SetAction(CliApp.Guard(ctx, (p, ct) =>
        {
            var ml = Ml(p.GetValue(seed));
            var m = CliApp.LoadModel(ml, p.GetValue(model)!);
            var table = CliApp.ReadForModel(p.GetValue(data)!, p.GetValue(columns), p.GetValue(missing), m);
            var metrics = ml.Diffusion().Evaluate(m, CliApp.ToDataView(ml, table.Values, m.Dimension),
                new EvaluationOptions { Seed = p.GetValue(seed), ComputeLikelihood = !p.GetValue(noNll) });
            if (p.GetValue(json)) ctx.Out.WriteLine(CliApp.Json(MetricsObject(metrics)));
            else ctx.Out.WriteLine(metrics.ToString());
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    internal static object MetricsObject(DiffusionMetrics m) => new
    {
        m.HeldOutRows, m.GeneratedRows, m.SlicedW2, m.W2, m.Mmd2, m.MeanNll, m.KineticCost, m.KineticCostStandardError,
        m.TotalEntropyProduction, m.TotalEntropyProductionStandardError, m.EndpointW2, m.Efficiency, m.Nfe,
    };

    public static Command Likelihood(CliContext ctx)
    {
        var model = Required("--model", "The model zip.");
        var data = Required("--data", "Rows to score (CSV or .parquet).");
        var output = Required("--output", "The CSV file to write (atomically): row (1-based row of the input, after dropped rows are removed) and nll.");
        output.Aliases.Add("-o");
        var columns = ColumnsOption();
        var missing = MissingOption();
        var steps = IntOption("--steps", "Steps of the probability-flow ODE.", 64);
        var json = JsonOption();
        var cmd = new Command("likelihood", "Score each row by its negative log-likelihood under the model (nats per row, data units; " +
            "high means unlikely) and write one line per row to a CSV file.")
        {
            model, data, output, columns, missing, steps, json,
        };
        cmd.SetAction(CliApp.Guard(ctx, (p, ct) =>
        {
            var ml = Ml(0);
            var m = CliApp.LoadModel(ml, p.GetValue(model)!);
            var table = CliApp.ReadForModel(p.GetValue(data)!, p.GetValue(columns), p.GetValue(missing), m);
            using var t = new LikelihoodTransformer(m, new LikelihoodTransformOptions { Steps = p.GetValue(steps) });
            double[] nll = t.Score(table.Values);
            ct.ThrowIfCancellationRequested();
            var sb = new StringBuilder("row,nll\n");
            for (int i = 0; i < nll.Length; i++) sb.Append(CliApp.C, $"{i + 1},{nll[i]:R}\n");
            string outPath = p.GetValue(output)!;
            CliApp.WriteTextAtomic(outPath, sb.ToString());
            if (p.GetValue(json)) ctx.Out.WriteLine(CliApp.Json(new { output = outPath, rows = nll.Length, meanNll = nll.Average() }));
            else ctx.Out.WriteLine(string.Create(CliApp.C, $"Scored {nll.Length} rows (mean NLL {nll.Average():F3} nats); wrote {outPath}."));
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    public static Command Export(CliContext ctx)
    {
        var model = Required("--model", "The model zip.");
        var output = Required("--output", "The folder to write network.onnx (the denoiser) and sampler.onnx (noise [N, d] -> samples [N, d], data units) into; created if missing.");
        output.Aliases.Add("-o");
        var steps = new Option<int?>("--steps") { Description = "Solver steps of the sampler graph; default: the model's sampling plan." };
        var json = JsonOption();
        var cmd = new Command("export", "Export a model to ONNX: the network graph and the whole sampler unrolled into one graph " +
            "(runs in plain ML.NET with ApplyOnnxModel or any ONNX runtime).")
        {
            model, output, steps, json,
        };
        cmd.SetAction(CliApp.Guard(ctx, (p, ct) =>
        {
            var ml = Ml(0);
            var m = CliApp.LoadModel(ml, p.GetValue(model)!);
            string dir = p.GetValue(output)!;
            Directory.CreateDirectory(dir);
            string network = Path.Combine(dir, "network.onnx"), sampler = Path.Combine(dir, "sampler.onnx");
            m.ExportNetworkOnnx().Save(network);
            var graph = p.GetValue(steps) is int st ? m.ExportSamplerOnnx(steps: st) : m.ExportSamplerOnnx();
            graph.Model.Save(sampler);
            if (p.GetValue(json)) ctx.Out.WriteLine(CliApp.Json(new { network, sampler, dimension = graph.Dimension }));
            else ctx.Out.WriteLine($"Wrote {network} and {sampler} (input 'noise' [N, {graph.Dimension}], output 'samples' [N, {graph.Dimension}]).");
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    public static Command Thermo(CliContext ctx) => ThermoCommand.Create(ctx);

    public static Command Optimize(CliContext ctx) => PlanCommands.Optimize(ctx);

    public static Command Search(CliContext ctx) => PlanCommands.Search(ctx);
}
