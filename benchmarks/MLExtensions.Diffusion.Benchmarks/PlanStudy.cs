using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Benchmarks;

/// <summary>
/// Issue #9 measures: error-vs-NFE curves of sampling plans on the shipped models (models/penguins, models/mixture).
/// For each NFE: today's default before #9 (Heun, EDM rho = 7 from the schedule's top level), the same grid from the top
/// of the trained range, the fixed default (Heun, uniform angle from the top of the trained range), simple plans, the fitted least-kinetic-cost path with uniform t (equal W2 length on it),
/// equal W2 length on the training schedule, and the plan OptimizeSchedule chooses (from train.csv). Each is measured on
/// the same latents: discretisation error (RMS and sliced W2 to Heun-1000 samples from the same latents) and held-out
/// sliced W2 and MMD^2 to heldout.csv, all in standardised units. Then: which criterion ranks the plans at each NFE like
/// their measured error (Spearman rank correlation): the discrete W2 action N sum_i l_i^2 (what equal-length grids
/// minimise) or the sum of one-step errors (what the dynamic programme minimises; one-step solvers only).
/// Usage: plans [rows=10000] [nfe list, default 3,5,7,9,11,13,15].
/// </summary>
internal static class PlanStudy
{
    private const int Projections = 128;

    public static void Run(string[] args)
    {
        var c = CultureInfo.InvariantCulture;
        int rows = args.Length > 1 ? int.Parse(args[1], c) : 10000;
        int[] budgets = args.Length > 2 ? args[2].Split(',').Select(s => int.Parse(s, c)).ToArray() : [3, 5, 7, 9, 11, 13, 15];
        string root = ShippedData.ModelsFolder();
        var ml = new MLContext(seed: 1);
        foreach (string name in new[] { "penguins", "mixture" })
        {
            var clock = Stopwatch.StartNew();
            var model = DiffusionModel.Load(Path.Combine(root, name, "model.zip"));
            int d = model.Dimension;
            var train = ShippedData.ReadCsv(Path.Combine(root, name, "train.csv"), d);
            var held = ShippedData.Standardise(ShippedData.ReadCsv(Path.Combine(root, name, "heldout.csv"), d), model.FeatureScaler.Mean, model.FeatureScaler.Scale);
            var trainView = ml.Data.LoadFromEnumerable(Enumerable.Range(0, train.Length / d).Select(r => new Row(train.AsSpan(r * d, d).ToArray())).ToList(),
                SchemaDefinition.Create(typeof(Row)).With(d));
            var measure = new DiscretisationError(model, rows, seed: 20260, referenceSteps: 1000);
            var zTrain = ShippedData.Standardise(train, model.FeatureScaler.Mean, model.FeatureScaler.Scale);
            var metric = new DenoiserPathMetric(model.Denoiser, zTrain, 2048, seed: 5);
            var fitted = GaussianPathGeodesic.Fit(metric);
            var ot = new GaussianOtSchedule(Math.Sqrt(GaussianDataPathMetric.FromData(zTrain, d).Eigenvalues.Average()));
            double top = model.TrainedNoiseLevelRange.High;
            double scheduleTop = Level(model.Schedule, model.Schedule.MaxTime);
            Console.WriteLine($"## {name} (d = {d}; {rows} latent rows; reference Heun 1000 steps; {held.Length / d} held-out rows; reference set up in {clock.Elapsed.TotalSeconds:F0} s)");
            Console.WriteLine();
            Console.WriteLine($"kinetic cost c2 under the model's path metric: training ({model.Schedule.Name}) {GaussianPathKineticCost.Compute(metric, model.Schedule):F4}, " +
                $"gaussian-ot(s0 = {ot.DataStd:F3}) {GaussianPathKineticCost.Compute(metric, ot):F4}, vp-linear {GaussianPathKineticCost.Compute(metric, new VpLinearSchedule()):F4}, " +
                $"cond-ot {GaussianPathKineticCost.Compute(metric, new CondOtSchedule()):F4}, fitted path {fitted.KineticCost:F4}; " +
                $"Gelbrich W2^2 to N(0, I) {GaussianDataPathMetric.FromData(zTrain, d).SquaredDistanceToNoise:F4}");
            Console.WriteLine();
            Console.WriteLine("| NFE | plan | RMS | sliced W2 to converged | held-out sliced W2 | held-out MMD^2 | W2 action | sum of step errors |");
            Console.WriteLine("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
            var rankings = new List<string>();
            foreach (int nfe in budgets)
            {
                int heun = (nfe + 1) / 2;
                var plans = new List<(string Label, SamplingPlan Plan)>
                {
                    ("default before #9 (Heun, EDM rho 7 from the schedule top)", new SamplingPlan(model.Schedule, TimeGrid.EdmRho(model.Schedule, heun, 0.002, scheduleTop), GenerateSamplerKind.Heun)),
                    ("Heun, EDM rho 7 from the trained top", SamplingPlan.Create(model.Schedule, SamplingGridKind.EdmRho, GenerateSamplerKind.Heun, nfe, top)),
                    ("fixed default (Heun, uniform angle from the trained top)", model.DefaultSamplingPlan(heun)),
                    ("Gaussian-OT, uniform t, Heun", SamplingPlan.Create(ot, SamplingGridKind.UniformTime, GenerateSamplerKind.Heun, nfe, top)),
                    ("training, log-SNR, DPM++(2M)", SamplingPlan.Create(model.Schedule, SamplingGridKind.UniformLogSnr, GenerateSamplerKind.DpmSolverPlusPlus2M, nfe, top)),
                    ("training, EDM rho 7, DPM++(2M)", SamplingPlan.Create(model.Schedule, SamplingGridKind.EdmRho, GenerateSamplerKind.DpmSolverPlusPlus2M, nfe, top)),
                    ("fitted path, uniform t (= equal W2 length), Heun", SamplingPlan.Create(fitted.Schedule, SamplingGridKind.UniformTime, GenerateSamplerKind.Heun, nfe, top)),
                    ("training, equal W2 length, Heun", SamplingPlan.Create(model.Schedule, SamplingGridKind.EqualLength, GenerateSamplerKind.Heun, nfe, top, speed: GaussianPathKineticCost.Speed(metric, model.Schedule))),
                };
                var optimised = ml.Diffusion().OptimizeSchedule(model, new ScheduleOptimizationOptions { Nfe = nfe, Seed = nfe, ReportRows = 64 }).Optimize(trainView);
                plans.Add(($"OptimizeSchedule: {optimised.Report.Chosen.Label}", optimised.Model.SamplingPlan));
                var measured = new List<(double Rms, double Action, double StepSum)>();
                foreach (var (label, plan) in plans)
                {
                    var samples = measure.Sample(plan);
                    double rms = Rms(samples, measure.ReferenceSamples, d);
                    double toConverged = SlicedWasserstein.W2(samples, measure.ReferenceSamples, d, Projections, new Random(1));
                    double heldW2 = SlicedWasserstein.W2(samples, held, d, Projections, new Random(1));
                    double mmd = MaximumMeanDiscrepancy.UnbiasedSquared(samples.AsSpan(0, Math.Min(rows, 2000) * d), held, d);
                    double action = WassersteinAction(metric, plan);
                    double stepSum = StepErrorSum(model, plan);
                    measured.Add((rms, action, stepSum));
                    Console.WriteLine(string.Create(c, $"| {plan.Nfe} | {label} | {rms:F4} | {toConverged:F4} | {heldW2:F4} | {mmd:F5} | {action:F3} | {(double.IsNaN(stepSum) ? "-" : stepSum.ToString("F3", c))} |"));
                }
                var oneStep = measured.Where(m => !double.IsNaN(m.StepSum)).ToList();
                rankings.Add(string.Create(c, $"NFE {nfe}: Spearman(W2 action, RMS) = {Spearman(measured.Select(m => m.Action), measured.Select(m => m.Rms)):F2} over {measured.Count} plans; " +
                    $"Spearman(sum of step errors, RMS) = {Spearman(oneStep.Select(m => m.StepSum), oneStep.Select(m => m.Rms)):F2} over {oneStep.Count} one-step plans"));
            }
            Console.WriteLine();
            foreach (var line in rankings) Console.WriteLine(line);
            Console.WriteLine();
            Console.WriteLine($"({name}: {clock.Elapsed.TotalSeconds:F0} s)");
            Console.WriteLine();
        }
    }

    /// <summary>N sum_i l_i^2 with l_i the W2 length of step i (8-point Gauss-Legendre per step): the discrete kinetic action,
    /// which an equal-length grid minimises for a given path.</summary>
    private static double WassersteinAction(IGaussianPathMetric metric, SamplingPlan plan)
    {
        var speed = GaussianPathKineticCost.Speed(metric, plan.Schedule);
        ReadOnlySpan<double> nodes = [-0.9602898564975363, -0.7966664774136267, -0.5255324099163290, -0.1834346424956498, 0.1834346424956498, 0.5255324099163290, 0.7966664774136267, 0.9602898564975363];
        ReadOnlySpan<double> weights = [0.1012285362903763, 0.2223810344533745, 0.3137066458778873, 0.3626837833783620, 0.3626837833783620, 0.3137066458778873, 0.2223810344533745, 0.1012285362903763];
        double action = 0;
        for (int i = 0; i + 1 < plan.Times.Length; i++)
        {
            double a = plan.Times[i + 1], b = plan.Times[i], length = 0;
            for (int q = 0; q < nodes.Length; q++) length += 0.5 * (b - a) * weights[q] * speed(0.5 * (a + b) + 0.5 * (b - a) * nodes[q]);
            action += length * length;
        }
        return plan.Steps * action;
    }

    /// <summary>Start error + sum of one-step errors along the plan's own grid (StepGridOptimizer on the plan's levels,
    /// neighbouring steps only); NaN for a multistep solver.</summary>
    private static double StepErrorSum(DiffusionModel model, SamplingPlan plan)
    {
        if (plan.Sampler == GenerateSamplerKind.DpmSolverPlusPlus2M) return double.NaN;
        var levels = plan.NoiseLevels();
        var optimizer = new StepGridOptimizer(model, plan.Schedule, plan.Sampler, levels.AsSpan(0, levels.Length - 1),
            new StepGridOptimizerOptions { Rows = 512, Seed = 3, MaxJump = 1 });
        return optimizer.Optimize(plan.Nfe).EstimatedError;
    }

    private static double Spearman(IEnumerable<double> a, IEnumerable<double> b)
    {
        double[] ra = Ranks(a.ToArray()), rb = Ranks(b.ToArray());
        return MathNet.Numerics.Statistics.Correlation.Pearson(ra, rb);
    }

    private static double[] Ranks(double[] values)
    {
        var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Length];
        for (int r = 0; r < order.Length; r++) ranks[order[r]] = r;
        return ranks;
    }

    private static double Level(NoiseSchedule s, double t) => s.Sigma(t) / s.M(t);

    private static double Rms(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int d)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (a[i] - b[i]) * (a[i] - b[i]);
        return Math.Sqrt(sum / (a.Length / d));
    }

    private sealed class Row(float[] features)
    {
        public float[] Features { get; set; } = features;
    }
}

/// <summary>Sets the vector size of the Features column of a schema definition.</summary>
internal static class SchemaDefinitionExtensions
{
    public static SchemaDefinition With(this SchemaDefinition schema, int dimension)
    {
        schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimension);
        return schema;
    }
}

/// <summary>
/// The choice of the default grid (issue #9): Heun on EDM rho = 3, 5, 7 grids and uniform-angle grids from top levels
/// 10, 20.1 (the trained top) and 40, and a log-SNR grid, on the shipped models' training schedules; discretisation RMS
/// (4096 latents, Heun-1000 reference) at NFE 3-25 for two latent seeds. Usage: default-grids.
/// </summary>
internal static class DefaultGridStudy
{
    public static void Run()
    {
        var c = CultureInfo.InvariantCulture;
        int[] budgets = [3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 25];
        string root = ShippedData.ModelsFolder();
        Console.WriteLine("| model | seed | grid | " + string.Join(" | ", budgets.Select(n => $"NFE {n}")) + " | monotone |");
        Console.WriteLine("| --- | ---: | --- | " + string.Join(" | ", budgets.Select(_ => "---:")) + " | --- |");
        foreach (string name in new[] { "penguins", "mixture" })
        {
            var model = DiffusionModel.Load(Path.Combine(root, name, "model.zip"));
            double top = model.TrainedNoiseLevelRange.High;
            var grids = new List<(string Label, Func<int, SamplingPlan> Make)>();
            foreach (double rho in new[] { 3.0, 5.0, 7.0 })
                foreach (double t in new[] { 10.0, top, 40.0 })
                    grids.Add(($"EDM rho {rho} from {t:G3}", n => SamplingPlan.Create(model.Schedule, SamplingGridKind.EdmRho, GenerateSamplerKind.Heun, n, t, rho: rho)));
            grids.Add(($"log-SNR from {top:G3}", n => SamplingPlan.Create(model.Schedule, SamplingGridKind.UniformLogSnr, GenerateSamplerKind.Heun, n, top)));
            foreach (double t in new[] { 10.0, top, 40.0 })
                grids.Add(($"uniform angle from {t:G3}", n => SamplingPlan.Create(model.Schedule, SamplingGridKind.UniformAngle, GenerateSamplerKind.Heun, n, t)));
            foreach (int seed in new[] { 20260, 7 })
            {
                var measure = new DiscretisationError(model, 4096, seed, 1000);
                foreach (var (label, make) in grids)
                {
                    var errors = budgets.Select(n => measure.Measure(make(n)).Rms).ToArray();
                    bool monotone = errors.Zip(errors.Skip(1)).All(p => p.Second < p.First);
                    Console.WriteLine($"| {name} | {seed} | {label} | " + string.Join(" | ", errors.Select(e => e.ToString("F3", c))) + $" | {(monotone ? "yes" : "no")} |");
                }
            }
        }
    }
}
