using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Benchmarks;

/// <summary>
/// Issue 10, item 2: per-feature standardisation against the quantile-normal feature transform
/// (<see cref="FeatureScaling.QuantileNormal"/>) on the shipped data sets. For each data set and scaling, models are
/// trained from train.csv with the shipped model's options and several seeds, 1000 rows are generated (seed 7) and compared
/// with heldout.csv by sliced W2 (128 directions, seeded 99) and unbiased MMD^2 (Gaussian kernel, median heuristic), both in
/// the training split's standardised units (the same for both scalings). The "train split" row is the floor: the training
/// rows themselves against the held-out rows.
/// </summary>
internal static class FeatureTransformStudy
{
    private const int Projections = 128, GeneratedRows = 1000;

    public static void Run(string[] args)
    {
        var c = CultureInfo.InvariantCulture;
        int seeds = args.Length > 1 ? int.Parse(args[1], c) : 3;
        string root = ShippedData.ModelsFolder();
        var ml = new MLContext(seed: 1);
        Console.WriteLine($"feature-transforms: {seeds} training seeds; {GeneratedRows} generated rows; sliced W2 ({Projections} directions) and MMD^2 to heldout.csv in the training split's standardised units; mean +- sd over seeds");
        foreach (string name in new[] { "penguins", "mixture" })
        {
            var shipped = DiffusionModel.Load(Path.Combine(root, name, "model.zip"));
            int d = shipped.Dimension;
            var train = ShippedData.ReadCsv(Path.Combine(root, name, "train.csv"), d);
            var held = ShippedData.ReadCsv(Path.Combine(root, name, "heldout.csv"), d);
            var (mean, std) = Moments(train, d);
            var heldZ = ShippedData.Standardise(held, mean, std);
            var view = ml.Data.LoadFromEnumerable(Enumerable.Range(0, train.Length / d).Select(r => new Row(train.AsSpan(r * d, d).ToArray())).ToList(),
                SchemaDefinition.Create(typeof(Row)).With(d));
            Console.WriteLine();
            Console.WriteLine($"## {name} (d = {d}; {train.Length / d} training rows, {held.Length / d} held-out rows; width {shipped.Options.Width}, depth {shipped.Options.Depth}, {shipped.Options.Steps} steps)");
            Console.WriteLine();
            Console.WriteLine("| source | held-out sliced W2 | held-out MMD^2 | training s |");
            Console.WriteLine("| --- | ---: | ---: | ---: |");
            var floorZ = ShippedData.Standardise(train, mean, std);
            Console.WriteLine($"| train split (floor) | {SlicedW2(floorZ, heldZ, d):F4} | {MaximumMeanDiscrepancy.UnbiasedSquared(floorZ, heldZ, d):F5} | |");
            foreach (var scaling in new[] { FeatureScaling.PerFeature, FeatureScaling.QuantileNormal })
            {
                var w2 = new List<double>();
                var mmd = new List<double>();
                double seconds = 0;
                for (int seed = 1; seed <= seeds; seed++)
                {
                    var options = shipped.Options;
                    options.Seed = seed;
                    options.FeatureScaling = scaling;
                    options.MissingValueHandling = MissingValueHandling.DropRows;
                    var clock = Stopwatch.StartNew();
                    var model = ml.Diffusion().Trainers.ScoreMatching(options).Fit(view);
                    seconds += clock.Elapsed.TotalSeconds;
                    var generated = ShippedData.Standardise(model.Generate(GeneratedRows, seed: 7), mean, std);
                    w2.Add(SlicedW2(generated, heldZ, d));
                    mmd.Add(MaximumMeanDiscrepancy.UnbiasedSquared(generated, heldZ, d));
                }
                Console.WriteLine($"| {scaling} | {w2.Average():F4} +- {Sd(w2):F4} | {mmd.Average():F5} +- {Sd(mmd):F5} | {seconds / seeds:F1} |");
            }
        }
    }

    private static double SlicedW2(double[] a, double[] b, int d) => SlicedWasserstein.W2(a, b, d, Projections, new Random(99));

    private static double Sd(List<double> values)
    {
        if (values.Count < 2) return 0;
        double m = values.Average();
        return Math.Sqrt(values.Sum(v => (v - m) * (v - m)) / (values.Count - 1));
    }

    private static (double[] Mean, double[] Std) Moments(float[] rows, int d)
    {
        int n = rows.Length / d;
        var mean = new double[d];
        var std = new double[d];
        for (int i = 0; i < rows.Length; i++) mean[i % d] += rows[i] / (double)n;
        for (int i = 0; i < rows.Length; i++) std[i % d] += (rows[i] - mean[i % d]) * (rows[i] - mean[i % d]) / n;
        for (int j = 0; j < d; j++) std[j] = Math.Sqrt(std[j]);
        return (mean, std);
    }

    private sealed class Row(float[] features)
    {
        public float[] Features { get; set; } = features;
    }
}
