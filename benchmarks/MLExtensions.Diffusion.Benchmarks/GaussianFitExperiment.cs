using System.Diagnostics;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Training;

namespace MLExtensions.Diffusion.Benchmarks;

/// <summary>Trains on 2-D Gaussian data and prints the relative score error against the exact denoiser per t.</summary>
internal static class GaussianFitExperiment
{
    public static void Run(string[] args)
    {
        int steps = Arg(args, 1, 3000), batch = Arg(args, 2, 256), width = Arg(args, 4, 64), depth = Arg(args, 5, 3);
        double lr = args.Length > 3 ? double.Parse(args[3]) : 3e-3;
        var param = args.Length > 6 ? Enum.Parse<Parametrisation>(args[6]) : Parametrisation.Edm;
        double pMean = args.Length > 7 ? double.Parse(args[7]) : -1.2, pStd = args.Length > 8 ? double.Parse(args[8]) : 1.2;
        double ema = args.Length > 9 ? double.Parse(args[9]) : 0.999;
        bool residual = args.Length > 10 && args[10] == "res";
        double[] mean = [1.0, -2.0], variance = [0.5, 2.0];
        var rng = new Random(1);
        var z = StandardNormal.Sample(rng, 40000);
        var data = new float[40000];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(mean[i % 2] + Math.Sqrt(variance[i % 2]) * z[i]);
        var options = new TrainingOptions
        {
            Network = new MlpOptions { Width = width, Depth = depth, EmbeddingFrequencies = 8, Threads = 1, Residual = residual },
            BatchSize = batch, Steps = steps, LearningRate = lr, Seed = 7, Parametrisation = param,
            NoiseLevels = NoiseLevelSampler.LogNormal(pMean, pStd), EmaDecay = ema,
        };
        var sw = Stopwatch.StartNew();
        var learned = new ScoreModelTrainer(options).Fit(data, 2);
        double secs = sw.Elapsed.TotalSeconds;
        var exact = GaussianDenoiser.Diagonal(mean, variance);
        var schedule = new CosineSchedule(1.0);
        var line = new List<string>();
        foreach (double t in new[] { 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9 })
        {
            var r = new Random(100);
            double m = schedule.M(t), s = schedule.Sigma(t);
            int rows = 4000;
            var y = StandardNormal.Sample(r, rows * 2);
            var e = StandardNormal.Sample(r, rows * 2);
            var x = new double[rows * 2];
            for (int i = 0; i < x.Length; i++) x[i] = m * (mean[i % 2] + Math.Sqrt(variance[i % 2]) * y[i]) + s * e[i];
            var a = new double[x.Length];
            var b = new double[x.Length];
            learned.Denoise(x, m, s, a);
            exact.Denoise(x, m, s, b);
            double num = 0, den = 0;
            for (int i = 0; i < x.Length; i++) { double diff = m * (a[i] - b[i]); double sc = x[i] - m * b[i]; num += diff * diff; den += sc * sc; }
            line.Add($"{t}:{100 * Math.Sqrt(num / den):F1}%");
        }
        Console.WriteLine($"steps={steps} batch={batch} lr={lr} w={width} depth={depth} {param} P=({pMean},{pStd}) ema={ema} res={residual} time={secs:F1}s  " + string.Join(" ", line));
    }

    private static int Arg(string[] args, int i, int fallback) => args.Length > i ? int.Parse(args[i]) : fallback;
}
