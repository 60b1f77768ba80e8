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
/// Issue 10, item 4: the guide's settings (default network, 3000 steps) on the 274 penguins training rows, with and without
/// a validation split and early stopping, and with fewer steps; measured on heldout.csv by the mean and largest
/// negative log-likelihood (nats, data units; probability-flow ODE, exact divergence, 64 Heun steps) and sliced W2 (1000
/// generated rows, standardised units). The fitted Gaussian (training mean and covariance) is the reference.
/// </summary>
internal static class EarlyStoppingStudy
{
    public static void Run(string[] args)
    {
        var c = CultureInfo.InvariantCulture;
        int seeds = args.Length > 1 ? int.Parse(args[1], c) : 3;
        string root = Path.Combine(ShippedData.ModelsFolder(), "penguins");
        var train = ShippedData.ReadCsv(Path.Combine(root, "train.csv"), 4);
        var held = ShippedData.ReadCsv(Path.Combine(root, "heldout.csv"), 4);
        const int d = 4;
        var ml = new MLContext(seed: 1);
        var view = ml.Data.LoadFromEnumerable(Enumerable.Range(0, train.Length / d).Select(r => new Row(train.AsSpan(r * d, d).ToArray())).ToList(),
            SchemaDefinition.Create(typeof(Row)).With(d));
        var gaussian = GaussianNll(train, held, d);
        Console.WriteLine($"early-stopping: penguins, {train.Length / d} training rows, {held.Length / d} held-out rows, {seeds} seeds; mean +- sd over seeds");
        Console.WriteLine();
        Console.WriteLine("| settings | steps taken | held-out mean NLL | held-out max NLL | held-out sliced W2 |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
        Console.WriteLine($"| fitted Gaussian | | {gaussian.Average():F3} | {gaussian.Max():F2} | |");
        var settings = new (string Name, Action<ScoreMatchingOptions> Edit)[]
        {
            ("guide: 3000 steps", o => { }),
            ("1000 steps", o => { o.Steps = 1000; }),
            ("3000 steps, ValidationFraction 0.2, patience 5", o => { o.ValidationFraction = 0.2; o.EarlyStoppingPatience = 5; }),
        };
        foreach (var (name, edit) in settings)
        {
            var taken = new List<double>();
            var mean = new List<double>();
            var max = new List<double>();
            var w2 = new List<double>();
            for (int seed = 1; seed <= seeds; seed++)
            {
                var o = new ScoreMatchingOptions { Steps = 3000, Seed = seed, ValidationSeed = seed, ReportInterval = 100 };
                edit(o);
                var model = ml.Diffusion().Trainers.ScoreMatching(o).Fit(view);
                taken.Add(model.Summary.Steps);
                using var nll = new LikelihoodTransformer(model);
                var scores = nll.Score(held);
                mean.Add(scores.Average());
                max.Add(scores.Max());
                var (mu, sd) = (model.FeatureScaler.Mean.ToArray(), model.FeatureScaler.Scale.ToArray());
                w2.Add(SlicedWasserstein.W2(ShippedData.Standardise(model.Generate(1000, seed: 7), mu, sd), ShippedData.Standardise(held, mu, sd), d, 128, new Random(99)));
            }
            Console.WriteLine($"| {name} | {taken.Average():F0} | {mean.Average():F3} +- {Sd(mean):F3} | {max.Average():F2} +- {Sd(max):F2} | {w2.Average():F4} +- {Sd(w2):F4} |");
        }
    }

    /// <summary>-ln N(x; mean, cov) of the held-out rows under the training rows' mean and (population) covariance.</summary>
    private static double[] GaussianNll(float[] train, float[] held, int d)
    {
        int n = train.Length / d;
        var mean = new double[d];
        for (int i = 0; i < train.Length; i++) mean[i % d] += train[i] / (double)n;
        var cov = new double[d, d];
        for (int r = 0; r < n; r++)
            for (int a = 0; a < d; a++)
                for (int b = 0; b < d; b++)
                    cov[a, b] += (train[r * d + a] - mean[a]) * (train[r * d + b] - mean[b]) / n;
        var l = new double[d, d];
        for (int a = 0; a < d; a++)
            for (int b = 0; b <= a; b++)
            {
                double s = cov[a, b];
                for (int k = 0; k < b; k++) s -= l[a, k] * l[b, k];
                l[a, b] = a == b ? Math.Sqrt(s) : s / l[b, b];
            }
        double logDet = 0;
        for (int a = 0; a < d; a++) logDet += 2 * Math.Log(l[a, a]);
        var result = new double[held.Length / d];
        for (int r = 0; r < result.Length; r++)
        {
            var y = new double[d];
            double q = 0;
            for (int a = 0; a < d; a++)
            {
                double s = held[r * d + a] - mean[a];
                for (int k = 0; k < a; k++) s -= l[a, k] * y[k];
                y[a] = s / l[a, a];
                q += y[a] * y[a];
            }
            result[r] = 0.5 * (q + logDet + d * Math.Log(2 * Math.PI));
        }
        return result;
    }

    private static double Sd(List<double> v)
    {
        if (v.Count < 2) return 0;
        double m = v.Average();
        return Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / (v.Count - 1));
    }

    private sealed class Row(float[] features)
    {
        public float[] Features { get; set; } = features;
    }
}
