using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Thermodynamics;
using MLExtensions.Diffusion.Training;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Cli.Demo;

/// <summary>Settings of one demo run.</summary>
public sealed record DemoSettings(string OutputFolder, int Steps, int Seed, int Nfe = DemoRunner.DefaultNfe);

/// <summary>Progress the runner reports: a stage name and a fraction in [0, 1].</summary>
public readonly record struct DemoProgress(string Stage, double Fraction, string? Detail = null);

/// <summary>
/// The demo: train a small score-matching model on the embedded penguins rows, fit the sampling plan at a small NFE
/// (OptimizeSchedule), compare the default and the optimised plans at equal NFE with a fitted Gaussian and the training
/// rows' own floor on held-out rows, and write the model, the sampler ONNX and the figures.
/// </summary>
public static class DemoRunner
{
    public const int DefaultSteps = 2000;
    public const int DefaultNfe = 7;
    public const int Projections = 256;
    public const int ProjectionSeed = 99;
    public static readonly int[] CurveNfe = [3, 5, 7, 9, 13, 19];

    public static DemoResult Run(DemoSettings settings, IProgress<DemoProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var total = Stopwatch.StartNew();
        var data = DemoData.Load();
        const int d = DemoData.Dimension;
        Directory.CreateDirectory(settings.OutputFolder);
        var files = new List<string>();

        // 1. Train.
        var context = new MLContext(seed: settings.Seed);
        var view = context.Data.LoadFromEnumerable(Enumerable.Range(0, data.TrainRows)
            .Select(r => new FeatureRow { Features = data.Train.AsSpan(r * d, d).ToArray() }).ToList());
        var options = new ScoreMatchingOptions
        {
            Width = 128, Depth = 3, Steps = settings.Steps, WarmupSteps = Math.Min(100, Math.Max(1, settings.Steps / 10)), BatchSize = 128,
            LearningRate = 2e-3, EmaDecay = 0.998, Seed = settings.Seed, Threads = Math.Min(2, Environment.ProcessorCount),
            // Early stopping on a validation share of the training split (the held-out 20 % never trains nor selects):
            // a few hundred rows are memorised if the network trains too long (docs/guide.md, small data).
            ValidationFraction = 0.2, ValidationSeed = settings.Seed, EarlyStoppingPatience = 6,
            ReportInterval = Math.Max(1, Math.Min(50, settings.Steps / 10)),
            Progress = new SyncProgress<TrainingProgress>(p => progress?.Report(new DemoProgress("train", (double)p.Step / p.TotalSteps,
                double.IsNaN(p.ValidationLoss) ? $"loss {p.Loss:F3}" : $"loss {p.Loss:F3}, validation {p.ValidationLoss:F3}"))),
            CancellationToken = cancellationToken,
        };
        var trained = context.Diffusion().Trainers.ScoreMatching(options).Fit(view);
        progress?.Report(new DemoProgress("train", 1));

        // 2. Fit the sampling plan at the NFE budget.
        var optimizeClock = Stopwatch.StartNew();
        var optimisation = context.Diffusion().OptimizeSchedule(trained, new ScheduleOptimizationOptions
        {
            Nfe = settings.Nfe, Seed = settings.Seed, SelectionRows = 512, ReportRows = 512, ReferenceSteps = 400, OptimizerRows = 256,
            PathMetricSamples = 768, CandidateLevels = 24, CancellationToken = cancellationToken,
            Progress = new SyncProgress<ScheduleOptimizationProgress>(p => progress?.Report(new DemoProgress("optimise", p.Total == 0 ? 0 : (double)p.Completed / p.Total, p.Stage))),
        }).Optimize(view);
        optimizeClock.Stop();
        var report = optimisation.Report;
        var optimised = optimisation.Model;
        var defaultPlan = trained.DefaultSamplingPlan(SamplingPlan.StepsForNfe(GenerateSamplerKind.Heun, settings.Nfe));
        var byDefault = trained.WithSamplingPlan(defaultPlan);
        progress?.Report(new DemoProgress("optimise", 1));

        // 3. The table: held-out sliced W2 and MMD^2 in standardised units.
        progress?.Report(new DemoProgress("evaluate", 0));
        var scaler = trained.FeatureScaler;
        int n = data.HeldOutRows;
        var held = Standardise(data.HeldOut, scaler);
        var error = new DiscretisationError(trained, rows: 512, seed: settings.Seed + 17, referenceSteps: 1000, cancellationToken);
        double w2Estimate = report.W2Estimate;
        DemoRow Sampler(string label, DiffusionModel model, double cost)
        {
            var rows = model.Generate(n, seed: settings.Seed + 1000);
            const int timed = 4096;
            double best = double.PositiveInfinity;
            for (int repeat = 0; repeat < 3; repeat++)   // best of three: the generation rate without warm-up or scheduling noise
            {
                var clock = Stopwatch.StartNew();
                model.Generate(timed, seed: settings.Seed + 2000 + repeat);
                best = Math.Min(best, clock.Elapsed.TotalSeconds);
            }
            double rate = timed / best;
            var z = Standardise(rows, scaler);
            double tau = model.SamplingPlan.Schedule.Tau;
            return new DemoRow(label, SlicedW2(z, held), Mmd2(z, held), error.Measure(model.SamplingPlan).Rms, cost,
                w2Estimate * w2Estimate / (tau * cost), model.SamplingPlan.Nfe, rate);
        }
        var table = new List<DemoRow>
        {
            Sampler("default plan", byDefault, report.KineticCosts["training"]),
            Sampler("optimised plan", optimised,
                report.KineticCosts[report.Chosen.Schedule]),
        };
        var gaussian = Standardise(GaussianBaseline.Fit(data.Train, d).Sample(n, settings.Seed + 3000), scaler);
        table.Add(new DemoRow("fitted Gaussian", SlicedW2(gaussian, held), Mmd2(gaussian, held), null, null, null, null, null));
        var floor = Standardise(Subset(data.Train, d, n, settings.Seed + 4000), scaler);
        table.Add(new DemoRow("training rows (floor)", SlicedW2(floor, held), Mmd2(floor, held), null, null, null, null, null));
        progress?.Report(new DemoProgress("evaluate", 0.5));

        // 4. Error against NFE: the default plan family and the optimised family (its path, grid and solver) at each NFE.
        var chosenSchedule = report.ChosenPlan.Schedule;
        var metric = new DenoiserPathMetric(trained.Denoiser, Standardise(data.Train, scaler), samples: 512, seed: settings.Seed);
        var speed = GaussianPathKineticCost.Speed(metric, chosenSchedule);
        double top = report.ChosenPlan.TopNoiseLevel;
        StepGridOptimizer? programme = null;   // a dynamic-programming grid is re-solved at each NFE on the same measured step errors
        if (report.Chosen.Grid == SamplingGridKind.DynamicProgramming)
        {
            const int levels = 32;
            const double bottom = 0.002;
            var candidates = Enumerable.Range(0, levels).Select(i => top * Math.Pow(bottom / top, i / (double)(levels - 1))).ToArray();
            programme = new StepGridOptimizer(trained, chosenSchedule, report.Chosen.Sampler, candidates,
                new StepGridOptimizerOptions { Rows = 256, Seed = settings.Seed }, cancellationToken);
        }
        var curve = new List<DemoNfePoint>();
        foreach (int nfe in CurveNfe)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var plain = trained.DefaultSamplingPlan(SamplingPlan.StepsForNfe(GenerateSamplerKind.Heun, nfe));
            var tuned = nfe == settings.Nfe ? report.ChosenPlan
                : programme is not null ? programme.Optimize(nfe).Plan
                : SamplingPlan.Create(chosenSchedule, report.Chosen.Grid, report.Chosen.Sampler, nfe, top, speed: speed);
            curve.Add(new DemoNfePoint(plain.Nfe, error.Measure(plain).Rms, error.Measure(tuned).Rms));
        }
        progress?.Report(new DemoProgress("evaluate", 1));

        // 5. Files.
        progress?.Report(new DemoProgress("write", 0));
        string Output(string name)
        {
            string path = Path.Combine(settings.OutputFolder, name);
            files.Add(path);
            return path;
        }
        optimised.Save(Output("model.zip"));
        optimised.ExportSamplerOnnx().Model.Save(Output("sampler.onnx"));
        File.WriteAllText(Output("schedule-report.json"), report.ToJson());
        var generated = optimised.Generate(Math.Max(n, 300), seed: settings.Seed + 5000);
        DemoFigures.PairPlot(Output("pairs.png"), data.Train, generated, $"penguins: training rows (grey) vs generated, optimised plan, NFE {report.ChosenPlan.Nfe}");
        DemoFigures.KineticEnergy(Output("kinetic-energy.png"), metric, report.Paths, report.KineticCosts);
        DemoFigures.ErrorVsNfe(Output("error-vs-nfe.png"), curve, report.Chosen);
        progress?.Report(new DemoProgress("write", 1));

        total.Stop();
        var validation = trained.Summary.Validation;
        var result = new DemoResult(data.TotalRows, data.DroppedRows, data.TrainRows, data.HeldOutRows, trained.Summary.Steps,
            validation?.BestStep ?? trained.Summary.Steps, validation?.StoppedEarly ?? false,
            trained.Summary.TrainingSeconds, trained.Summary.FinalLoss, settings.Nfe, defaultPlan.ToString(), report.ChosenPlan.ToString(),
            optimizeClock.Elapsed.TotalSeconds, table, curve, report.KineticCosts, files.Select(Path.GetFileName).ToList()!, total.Elapsed.TotalSeconds);
        return result;
    }

    private static double SlicedW2(double[] a, double[] b) => SlicedWasserstein.W2(a, b, DemoData.Dimension, Projections, new Random(ProjectionSeed));

    private static double Mmd2(double[] a, double[] b) => MaximumMeanDiscrepancy.UnbiasedSquared(a, b, DemoData.Dimension);

    internal static double[] Standardise(ReadOnlySpan<float> values, Standardizer scaler)
    {
        int d = scaler.Dimension;
        var z = new double[values.Length];
        for (int i = 0; i < z.Length; i++) z[i] = (values[i] - scaler.Mean[i % d]) / scaler.Scale[i % d];
        return z;
    }

    private static float[] Subset(float[] rows, int d, int count, int seed)
    {
        var order = Enumerable.Range(0, rows.Length / d).ToArray();
        new Random(seed).Shuffle(order);
        return order.Take(count).SelectMany(r => rows.AsSpan(r * d, d).ToArray()).ToArray();
    }

    private sealed class FeatureRow
    {
        [VectorType(DemoData.Dimension)]
        public float[] Features { get; set; } = [];
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the thread pool and may arrive after the run).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
