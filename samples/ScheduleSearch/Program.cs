// Schedule optimisation and an AutoML-style schedule search on a shipped model (models/penguins by default).
// 1. OptimizeSchedule: the same network, a better plan at an NFE budget; prints the report and saves the model.
// 2. A search over path, grid, noise range, solver and NFE (SamplingSearchParameters) with a tuner, a trial budget and
//    a seed; the loss is chosen by --loss (default: discretisation error, which uses no data); the held-out rows are split
//    into a validation half (validation losses) and a test half (reported, never used to choose).
// 3. The Pareto front of NFE against the test sliced W2 (and against the discretisation error) as data and as a PNG.
// Usage: dotnet run -c Release --project samples/ScheduleSearch -- [--model penguins|mixture] [--nfe 5] [--trials 40]
//        [--tuner gp|random|grid] [--loss rms|w2|mmd] [--seed 1] [--out schedule-search]
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.ScheduleSearch;
using MLExtensions.Diffusion.Search;
using ScottPlot;

var c = CultureInfo.InvariantCulture;
string modelName = "penguins", tunerName = "gp", lossName = "rms", outDir = "schedule-search";
int nfe = 5, trials = 40, seed = 1;
for (int i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--model": modelName = args[i + 1]; break;
        case "--nfe": nfe = int.Parse(args[i + 1], c); break;
        case "--trials": trials = int.Parse(args[i + 1], c); break;
        case "--tuner": tunerName = args[i + 1]; break;
        case "--loss": lossName = args[i + 1]; break;
        case "--seed": seed = int.Parse(args[i + 1], c); break;
        case "--out": outDir = args[i + 1]; break;
        default: Console.Error.WriteLine($"Unknown option {args[i]}."); return 2;
    }
}
string folder = Path.Combine(FindRepositoryRoot(), "models", modelName);
Directory.CreateDirectory(outDir);
var ml = new MLContext(seed);
var model = ml.Diffusion().LoadModel(Path.Combine(folder, "model.zip"));
int d = model.Dimension;
IDataView Csv(float[] rows) => ml.Data.LoadFromEnumerable(
    Enumerable.Range(0, rows.Length / d).Select(r => new Row { Features = rows.AsSpan(r * d, d).ToArray() }).ToList(), Row.Schema(d));
var train = ReadCsv(Path.Combine(folder, "train.csv"), d);
var held = ReadCsv(Path.Combine(folder, "heldout.csv"), d);
int half = held.Length / d / 2;
var validation = held.AsSpan(0, half * d).ToArray();
var test = held.AsSpan(half * d).ToArray();
Console.WriteLine($"{modelName}: d = {d}, {train.Length / d} training rows, held-out split {half} validation / {test.Length / d} test; model plan: {model.SamplingPlan}");

// 1. OptimizeSchedule at the budget.
var optimised = ml.Diffusion().OptimizeSchedule(model, new ScheduleOptimizationOptions { Nfe = nfe, Seed = seed }).Optimize(Csv(train));
Console.WriteLine();
Console.WriteLine(optimised.Report);
optimised.Model.Save(Path.Combine(outDir, $"{modelName}-nfe{nfe}.zip"));
File.WriteAllText(Path.Combine(outDir, $"optimise-nfe{nfe}.json"), optimised.Report.ToJson());

// 2. The search.
var space = SearchSpace.FromType<SamplingSearchParameters>();
var loss = lossName switch { "w2" => SearchLoss.ValidationSlicedW2, "mmd" => SearchLoss.ValidationMmd, _ => SearchLoss.DiscretisationRms };
var runner = new DiffusionTrialRunner(ml, new DiffusionTrialRunnerOptions
{
    TrainingData = Csv(train), ValidationData = Csv(validation), TestData = Csv(test), Model = model, Loss = loss, Seed = seed,
});
ITuner tuner = tunerName switch
{
    "random" => new RandomSearchTuner(space, seed),
    "grid" => new GridSearchTuner(space, stepsPerRange: 3),
    _ => new GaussianProcessTuner(space, seed),
};
var progress = new Progress<TrialResult>(t => Console.WriteLine(t.IsSuccess
    ? string.Create(c, $"  trial {t.TrialSettings.TrialId,3}: loss {t.Loss:F4}, NFE {t.Metrics!["Cost"],2}, test sliced W2 {t.Metrics["TestSlicedW2"]:F4}  {t.TrialSettings.Parameter}")
    : $"  trial {t.TrialSettings.TrialId,3} failed: {t.Error}"));
Console.WriteLine();
Console.WriteLine($"search: {trials} trials, {tunerName} tuner, loss {loss}, seed {seed}");
var result = await new SearchExperiment().SetSearchSpace(space).SetTuner(tuner).SetTrialRunner(runner).SetMaxTrials(trials).SetSeed(seed)
    .SetProgress(progress).SetLog(ml, "ScheduleSearch").RunAsync();
result.Save(Path.Combine(outDir, "search.json"));
Console.WriteLine($"best trial {result.BestTrial?.TrialSettings.TrialId}: loss {result.BestTrial?.Loss:F4} {result.BestTrial?.TrialSettings.Parameter}");

// 3. Pareto fronts: NFE against the test sliced W2 (held-out accuracy) and against the discretisation error.
var ok = result.Trials.Where(t => t.IsSuccess).ToList();
foreach (var (metric, label) in new[] { ("TestSlicedW2", "test sliced W2 (standardised units)"), ("Rms", "discretisation error RMS (standardised units)") })
{
    var front = ParetoFront.Compute(ok, t => t.Metrics!["Cost"], t => t.Metrics![metric]);
    var lines = new List<string> { "nfe," + metric + ",parameter" };
    lines.AddRange(front.Select(t => string.Create(c, $"{t.Metrics!["Cost"]},{t.Metrics[metric]:R},\"{t.TrialSettings.Parameter.ToString().Replace("\"", "'")}\"")));
    File.WriteAllLines(Path.Combine(outDir, $"pareto-{metric}.csv"), lines);
    var plot = new Plot();
    var all = plot.Add.ScatterPoints(ok.Select(t => t.Metrics!["Cost"]).ToArray(), ok.Select(t => t.Metrics![metric]).ToArray(), Color.FromHex("#9e9e9e"));
    all.LegendText = "trials";
    var line = plot.Add.ScatterLine(front.Select(t => t.Metrics!["Cost"]).ToArray(), front.Select(t => t.Metrics![metric]).ToArray(), Color.FromHex("#d62728"));
    line.LegendText = "Pareto front";
    line.MarkerSize = 7;
    plot.XLabel("network evaluations per row (NFE)");
    plot.YLabel(label);
    plot.Title($"{modelName}: {ok.Count} trials, {tunerName} tuner, loss {loss}");
    plot.ShowLegend(Alignment.UpperRight);
    string png = Path.Combine(outDir, $"pareto-{metric}.png");
    plot.SavePng(png, 800, 500);
    Console.WriteLine($"Pareto front ({metric}): " + string.Join(", ", front.Select(t => string.Create(c, $"NFE {t.Metrics!["Cost"]} -> {t.Metrics[metric]:F4}"))) + $"; wrote {png}");
}
return 0;

static float[] ReadCsv(string path, int d) =>
    File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0)
        .SelectMany(l => l.Split(',').Take(d).Select(v => float.Parse(v, CultureInfo.InvariantCulture))).ToArray();

static string FindRepositoryRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "MLExtensions.sln"))) return dir.FullName;
    throw new DirectoryNotFoundException("MLExtensions.sln not found above the program's folder.");
}

internal sealed class Row
{
    public float[] Features { get; set; } = [];

    public static SchemaDefinition Schema(int d)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, d);
        return schema;
    }
}
