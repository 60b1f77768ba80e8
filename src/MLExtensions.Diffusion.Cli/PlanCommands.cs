using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.ScheduleSearch;
using MLExtensions.Diffusion.Search;
using ScottPlot;

namespace MLExtensions.Diffusion.Cli;

/// <summary><c>optimize</c> and <c>search</c>.</summary>
internal static class PlanCommands
{
    private static Option<string[]> Columns() => new("--columns")
    {
        Description = "Feature columns of --data, comma separated; default: the model's.",
        CustomParser = r => r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
    };

    public static Command Optimize(CliContext ctx)
    {
        var model = new Option<string>("--model") { Description = "The model zip.", Required = true };
        var data = new Option<string>("--data") { Description = "Training rows (CSV or .parquet) the plan is fitted on.", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "The model zip to write with the chosen sampling plan (atomically).", Required = true };
        var report = new Option<string?>("--report") { Description = "The JSON report to write (every candidate, the choice, error before/after). Default: <output>.report.json." };
        var nfe = new Option<int>("--nfe") { Description = "Network evaluations per row of the plan.", DefaultValueFactory = _ => 9 };
        var seed = new Option<int>("--seed") { Description = "Seed.", DefaultValueFactory = _ => 1 };
        var columns = Columns();
        var missing = new Option<MissingMode>("--missing") { Description = "Empty cells: error or drop.", DefaultValueFactory = _ => MissingMode.Error };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of text." };
        var cmd = new Command("optimize", "Fit the sampling plan (schedule, time grid, solver) of a model for an NFE budget (OptimizeSchedule) " +
            "and write the model with that plan plus the report.")
        {
            model, data, output, report, nfe, seed, columns, missing, json,
        };
        cmd.SetAction(CliApp.Guard(ctx, (p, ct) =>
        {
            var ml = new MLContext(p.GetValue(seed));
            var m = CliApp.LoadModel(ml, p.GetValue(model)!);
            var table = CliApp.ReadForModel(p.GetValue(data)!, p.GetValue(columns), p.GetValue(missing), m);
            var result = ml.Diffusion().OptimizeSchedule(m, new ScheduleOptimizationOptions { Nfe = p.GetValue(nfe), Seed = p.GetValue(seed), CancellationToken = ct })
                .Optimize(CliApp.ToDataView(ml, table.Values, m.Dimension));
            string outPath = p.GetValue(output)!, reportPath = p.GetValue(report) ?? outPath + ".report.json";
            CliApp.WriteTextAtomic(reportPath, result.Report.ToJson());
            DiffusionModelArchive.Save(result.Model, outPath);
            if (p.GetValue(json)) ctx.Out.WriteLine(CliApp.Json(new { model = outPath, report = reportPath, plan = result.Model.SamplingPlan.ToString() }));
            else ctx.Out.WriteLine($"{result.Report}\nWrote {outPath} and {reportPath}.");
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    public static Command Search(CliContext ctx)
    {
        var model = new Option<string>("--model") { Description = "The model zip whose sampling plan is searched.", Required = true };
        var data = new Option<string>("--data") { Description = "Rows (CSV or .parquet): the first half validates (selects), the second half tests (reports).", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "Folder for search.json, pareto.csv and pareto.png; created if missing.", Required = true };
        var tuner = new Option<string>("--tuner") { Description = "Tuner: gp (Gaussian process, default), random or grid.", DefaultValueFactory = _ => "gp" };
        tuner.AcceptOnlyFromAmong("gp", "random", "grid");
        var trials = new Option<int>("--trials") { Description = "Trial budget.", DefaultValueFactory = _ => 20 };
        var loss = new Option<SearchLoss>("--loss") { Description = "Loss that selects: DiscretisationRms, ValidationSlicedW2, ValidationMmd, ValidationNll.", DefaultValueFactory = _ => SearchLoss.DiscretisationRms };
        var seed = new Option<int>("--seed") { Description = "Seed (same seed, same trials).", DefaultValueFactory = _ => 1 };
        var columns = Columns();
        var missing = new Option<MissingMode>("--missing") { Description = "Empty cells: error or drop.", DefaultValueFactory = _ => MissingMode.Error };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of text; no progress bar." };
        var (cluster, batch) = (ClusterCommands.ClusterOption(), ClusterCommands.BatchOption());
        var cmd = new Command("search", "Search sampling plans (path, grid, rho, noise range, solver, NFE) with a tuner under a trial budget; " +
            "write the trials (search.json) and the Pareto front of NFE against held-out sliced W2 (pareto.csv, pareto.png).")
        {
            model, data, output, tuner, trials, loss, seed, columns, missing, json, cluster, batch,
        };
        cmd.SetAction(CliApp.Guard(ctx, (p, ct) =>
        {
            int s = p.GetValue(seed), n = p.GetValue(trials);
            if (n < 1) throw new CliException("--trials must be at least 1.", ExitCodes.UsageError);
            var ml = new MLContext(s);
            var m = CliApp.LoadModel(ml, p.GetValue(model)!);
            var table = CliApp.ReadForModel(p.GetValue(data)!, p.GetValue(columns), p.GetValue(missing), m);
            int d = m.Dimension, half = table.Rows / 2;
            if (half < 2) throw new CliException("search needs at least 4 rows.", ExitCodes.DataError);
            var validation = table.Values.AsSpan(0, half * d).ToArray();
            var test = table.Values.AsSpan(half * d).ToArray();
            var space = SearchSpace.FromType<SamplingSearchParameters>();
            var runner = new DiffusionTrialRunner(ml, new DiffusionTrialRunnerOptions
            {
                TrainingData = CliApp.ToDataView(ml, table.Values, d), ValidationData = CliApp.ToDataView(ml, validation, d),
                TestData = CliApp.ToDataView(ml, test, d), Model = m, Loss = p.GetValue(loss), Seed = s,
            });
            ITuner t = p.GetValue(tuner) switch
            {
                "random" => new RandomSearchTuner(space, s),
                "grid" => new GridSearchTuner(space, stepsPerRange: 3),
                _ => new GaussianProcessTuner(space, s),
            };
            var result = p.GetValue(cluster) is { } clusterText
                ? CliApp.WithProgress(ctx, p.GetValue(json), "search", report => ClusterCommands.Search(ctx, clusterText, p.GetValue(model)!, table.Values, d, p.GetValue(loss),
                    p.GetValue(tuner)!, s, n, p.GetValue(batch), p.GetValue(output)!, report, ct))
                : CliApp.WithProgress(ctx, p.GetValue(json), "search", report =>
            {
                int done = 0;
                var progress = new SyncProgress<TrialResult>(tr => report(++done / (double)n, $"trial {done}/{n}"));
                return new SearchExperiment().SetSearchSpace(space).SetTuner(t).SetTrialRunner(runner).SetMaxTrials(n).SetSeed(s)
                    .SetProgress(progress).RunAsync(ct).GetAwaiter().GetResult();
            });
            ct.ThrowIfCancellationRequested();
            string dir = p.GetValue(output)!;
            Directory.CreateDirectory(dir);
            result.Save(Path.Combine(dir, "search.json"));
            var ok = result.Trials.Where(x => x.IsSuccess).ToList();
            var front = ParetoFront.Compute(ok, x => x.Metrics!["Cost"], x => x.Metrics!["TestSlicedW2"]);
            var csv = new StringBuilder("nfe,test_sliced_w2,loss,parameter\n");
            foreach (var x in front)
                csv.Append(CultureInfo.InvariantCulture, $"{x.Metrics!["Cost"]},{x.Metrics["TestSlicedW2"]:R},{x.Loss:R},{CliApp.Quote(x.TrialSettings.Parameter.ToString())}\n");
            CliApp.WriteTextAtomic(Path.Combine(dir, "pareto.csv"), csv.ToString());
            var plot = new Plot();
            var all = plot.Add.ScatterPoints(ok.Select(x => x.Metrics!["Cost"]).ToArray(), ok.Select(x => x.Metrics!["TestSlicedW2"]).ToArray(), Color.FromHex("#9e9e9e"));
            all.LegendText = "trials";
            var line = plot.Add.ScatterLine(front.Select(x => x.Metrics!["Cost"]).ToArray(), front.Select(x => x.Metrics!["TestSlicedW2"]).ToArray(), Color.FromHex("#d62728"));
            line.LegendText = "Pareto front";
            line.MarkerSize = 7;
            plot.XLabel("network evaluations per row (NFE)");
            plot.YLabel("held-out (test) sliced W2");
            plot.Title($"{ok.Count} trials, {p.GetValue(tuner)} tuner, loss {p.GetValue(loss)}");
            plot.ShowLegend(Alignment.UpperRight);
            CliApp.WriteAtomic(Path.Combine(dir, "pareto.png"), stream => stream.Write(plot.GetImageBytes(800, 500, ImageFormat.Png)));
            if (p.GetValue(json))
                ctx.Out.WriteLine(CliApp.Json(new
                {
                    trials = result.Trials.Count, succeeded = ok.Count, best = result.BestTrial?.TrialSettings.Parameter.ToString(), bestLoss = result.BestTrial?.Loss,
                    front = front.Select(x => new { nfe = x.Metrics!["Cost"], testSlicedW2 = x.Metrics["TestSlicedW2"] }), output = dir,
                }));
            else
                ctx.Out.WriteLine($"{ok.Count}/{result.Trials.Count} trials succeeded; best loss {result.BestTrial?.Loss:F4} at {result.BestTrial?.TrialSettings.Parameter}\n" +
                    "Pareto front: " + string.Join(", ", front.Select(x => string.Create(CultureInfo.InvariantCulture, $"NFE {x.Metrics!["Cost"]} -> {x.Metrics["TestSlicedW2"]:F4}"))) +
                    $"\nWrote search.json, pareto.csv and pareto.png to {dir}.");
            return ExitCodes.Ok;
        }));
        return cmd;
    }
}
