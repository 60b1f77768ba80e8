using System.Globalization;
using MLExtensions.Diffusion.Likelihood;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Tests.MLNet;
using MLExtensions.Diffusion.Training;
using Xunit.Abstractions;

namespace MLExtensions.Diffusion.Tests.Likelihood;

/// <summary>The compiled likelihood engine (issue #12) against today's engine, a closed form, its own error estimate,
/// several threads, and bad input.</summary>
public class CompiledLikelihoodTests(ITestOutputHelper output)
{
    private static readonly Lazy<DiffusionModel> Mixture = new(() => DiffusionModel.Load(Path.Combine(ModelsFolder(), "mixture", "model.zip")));

    private static string ModelsFolder() => Path.GetDirectoryName(PenguinsTestData.Folder)!;

    private static float[] HeldOut(string name, int d) =>
        File.ReadAllLines(Path.Combine(ModelsFolder(), name, "heldout.csv")).Skip(1).Where(l => l.Length > 0)
            .SelectMany(l => l.Split(',').Take(d).Select(f => float.Parse(f, CultureInfo.InvariantCulture))).ToArray();

    private static DiffusionModel Model(string name) => name == "penguins" ? PenguinsTestData.Model : Mixture.Value;

    [Theory]
    [InlineData("penguins", 32, LikelihoodIntegrator.Heun)]
    [InlineData("mixture", 32, LikelihoodIntegrator.Heun)]
    [InlineData("penguins", 8, LikelihoodIntegrator.RungeKutta4)]
    [InlineData("mixture", 16, LikelihoodIntegrator.Euler)]
    public void ShippedModelsAgreeWithTodaysEngine(string name, int steps, LikelihoodIntegrator integrator)
    {
        var model = Model(name);
        var rows = HeldOut(name, model.Dimension);
        using var today = new LikelihoodTransformer(model, new LikelihoodTransformOptions { Engine = LikelihoodEngine.CSharp, Steps = steps, Integrator = integrator });
        using var compiled = new LikelihoodTransformer(model, new LikelihoodTransformOptions { Engine = LikelihoodEngine.Compiled, Steps = steps, Integrator = integrator });
        var a = today.Score(rows);
        var b = compiled.Score(rows);
        var diff = a.Zip(b, (p, q) => Math.Abs(p - q)).ToArray();
        output.WriteLine($"{name} {integrator} {steps}: {a.Length} rows, mean |d| {diff.Average():E2}, max {diff.Max():E2}; NLL range {a.Min():F2}..{a.Max():F2}");
        Assert.True(diff.Average() <= 1e-4, $"mean |d| {diff.Average()}");
        Assert.True(diff.Max() <= 1e-3, $"max |d| {diff.Max()}");
    }

    /// <summary>Untrained networks of every supported shape (plain, residual, every-layer conditioning; EDM and epsilon
    /// preconditioning; d = 3 and 7) against <see cref="ProbabilityFlowLikelihood"/> over the same
    /// <see cref="NeuralDenoiser"/>, whose Jacobian-vector products are an independent forward-mode implementation.</summary>
    [Theory]
    [InlineData(3, false, TimeConditioning.InputOnly, Parametrisation.Edm)]
    [InlineData(3, true, TimeConditioning.InputOnly, Parametrisation.Epsilon)]
    [InlineData(7, false, TimeConditioning.EveryLayer, Parametrisation.Edm)]
    [InlineData(7, true, TimeConditioning.EveryLayer, Parametrisation.Velocity)]
    public void NetworkShapesAgreeWithTodaysEngine(int d, bool residual, TimeConditioning conditioning, Parametrisation parametrisation)
    {
        var network = new TimeConditionedMlp(d, new MlpOptions { Width = 24, Depth = 3, Residual = residual, TimeConditioning = conditioning, Threads = 1 }, new Random(d));
        var random = new Random(5);
        // Non-zero biases so that every term is exercised.
        for (int i = 0; i < network.Parameters.Length; i++) network.Parameters[i] += (float)(0.05 * (2 * random.NextDouble() - 1));
        var mean = Enumerable.Range(0, d).Select(j => 0.1 * j).ToArray();
        var denoiser = new NeuralDenoiser(network, Standardizer.Create(mean, Enumerable.Repeat(1.3, d).ToArray()), parametrisation, 1.0);
        var schedule = new CosineSchedule();
        var x = Enumerable.Range(0, 9 * d).Select(_ => 2 * random.NextDouble() - 1).ToArray();
        var expected = new double[9];
        var actual = new double[9];
        ProbabilityFlowLikelihood.Compute(denoiser, schedule, x, expected, new LikelihoodOptions { Steps = 12 });
        Assert.True(CompiledLikelihood.Supports(denoiser, schedule, out _));
        new CompiledLikelihood(denoiser, schedule, new CompiledLikelihoodOptions { Steps = 12, ChunkRows = 4 }).Compute(x, actual, default, default);
        for (int r = 0; r < 9; r++) Assert.True(Math.Abs(expected[r] - actual[r]) <= 1e-4 * Math.Max(1, Math.Abs(expected[r])), $"row {r}: {expected[r]} vs {actual[r]}");
    }

    /// <summary>A network whose weights are zero and whose output bias is mu, with the data parametrisation, is the
    /// exact denoiser of a point mass at mu; with that law's marginal as the prior, ln p is exactly ln N(y; mu, s^2 I),
    /// s = sigma(t_min) / m(t_min) (the smoothed law).</summary>
    [Fact]
    public void PointMassDenoiserGivesTheClosedForm()
    {
        const int d = 3;
        double[] mu = [0.4, -0.3, 1.1];
        var network = new TimeConditionedMlp(d, new MlpOptions { Width = 8, Depth = 2, Threads = 1 }, new Random(1));
        Array.Clear(network.Parameters);
        var bias = ((Linear)network.Layers[^1]).Bias;
        for (int j = 0; j < d; j++) bias[j] = (float)mu[j];
        var denoiser = new NeuralDenoiser(network, Standardizer.Create(new double[d], [1.0, 1.0, 1.0]), Parametrisation.Data, 1.0);
        var schedule = new CosineSchedule();
        double tMin = 0.01;
        double s = schedule.Sigma(tMin) / schedule.M(tMin);
        var random = new Random(2);
        var y = Enumerable.Range(0, 5 * d).Select(i => mu[i % d] + s * (2 * random.NextDouble() - 1) * 2).ToArray();
        // The prior: the point mass's marginal N(m mu, sigma^2 I), as a Gaussian of vanishing variance.
        var prior = MLExtensions.Diffusion.Denoisers.GaussianDenoiser.Isotropic(mu, 1e-9);
        foreach (var options in new[]
                 {
                     new CompiledLikelihoodOptions { TMin = tMin, Prior = prior, AdaptiveTolerance = 1e-8 },
                     new CompiledLikelihoodOptions { TMin = tMin, Prior = prior, Steps = 64 },
                 })
        {
            var logP = new double[5];
            var estimate = new double[5];
            new CompiledLikelihood(denoiser, schedule, options).Compute(y, logP, estimate, default);
            for (int r = 0; r < 5; r++)
            {
                double exact = 0;
                for (int j = 0; j < d; j++)
                {
                    double u = y[r * d + j] - mu[j];
                    exact -= 0.5 * (Math.Log(2 * Math.PI * s * s) + u * u / (s * s));
                }
                double error = Math.Abs(logP[r] - exact);
                output.WriteLine($"{(options.AdaptiveTolerance is null ? "Heun 64" : "adaptive")} row {r}: {logP[r]:F6} vs exact {exact:F6}, error {error:E2}, estimate {estimate[r]:E2}");
                Assert.True(error <= (options.AdaptiveTolerance is null ? Math.Max(estimate[r], 1e-9) : 1e-5), $"row {r}: error {error}, estimate {estimate[r]}");
            }
        }
    }

    /// <summary>The Heun grid's error estimate bounds its error against the converged solution (RK4, 256 steps) on every
    /// held-out penguin; the adaptive integrator at 1e-5 is within 1e-4 nats on average and its estimate is of the
    /// error's size.</summary>
    [Fact]
    public void ErrorEstimatesBoundTheObservedError()
    {
        var model = PenguinsTestData.Model;
        var rows = HeldOut("penguins", 4);
        var z = Standardise(model, rows);
        int n = z.Length / 4;
        double[] Run(CompiledLikelihoodOptions options, double[]? estimate = null)
        {
            var logP = new double[n];
            new CompiledLikelihood(model.Denoiser, model.Schedule, options).Compute(z, logP, estimate ?? default, default);
            return logP;
        }
        var truth = Run(new CompiledLikelihoodOptions { Steps = 256, Integrator = LikelihoodIntegrator.RungeKutta4 });
        foreach (int steps in new[] { 16, 32, 64 })
        {
            var estimate = new double[n];
            var heun = Run(new CompiledLikelihoodOptions { Steps = steps }, estimate);
            var errors = heun.Zip(truth, (a, b) => Math.Abs(a - b)).ToArray();
            int worst = Enumerable.Range(0, n).MaxBy(r => errors[r] / estimate[r]);
            output.WriteLine($"Heun {steps}: mean error {errors.Average():E2}, mean estimate {estimate.Average():E2}, " +
                             $"largest error/estimate {errors[worst] / estimate[worst]:F3} (row {worst})");
            for (int r = 0; r < n; r++)
                Assert.True(errors[r] <= estimate[r], $"Heun {steps}, row {r}: error {errors[r]} > estimate {estimate[r]}");
        }
        var adaptiveEstimate = new double[n];
        var adaptive = Run(new CompiledLikelihoodOptions { AdaptiveTolerance = 1e-5 }, adaptiveEstimate);
        double meanError = adaptive.Zip(truth, (a, b) => Math.Abs(a - b)).Average();
        output.WriteLine($"adaptive 1e-5: mean error {meanError:E2}, mean estimate {adaptiveEstimate.Average():E2}");
        Assert.True(meanError <= 1e-4, $"adaptive mean error {meanError}");
        Assert.True(adaptiveEstimate.Average() >= 0.1 * meanError, $"estimate {adaptiveEstimate.Average()} vs error {meanError}");
    }

    [Fact]
    public void HutchinsonIsUnbiasedWithinItsStandardError()
    {
        var model = PenguinsTestData.Model;
        var z = Standardise(model, HeldOut("penguins", 4));
        int n = z.Length / 4;
        var exact = new double[n];
        var estimate = new double[n];
        var standardError = new double[n];
        new CompiledLikelihood(model.Denoiser, model.Schedule, new CompiledLikelihoodOptions { Steps = 16 }).Compute(z, exact, default, default);
        var result = new CompiledLikelihood(model.Denoiser, model.Schedule,
            new CompiledLikelihoodOptions { Steps = 16, Divergence = DivergenceEstimator.Hutchinson, HutchinsonProbes = 16, ChunkRows = 16 })
            .Compute(z, estimate, default, standardError, seed: 4);
        Assert.Equal(16, result.ProbesPerRow);
        Assert.All(standardError, se => Assert.True(se > 0));
        double meanDiff = estimate.Zip(exact, (a, b) => a - b).Average();
        double pooled = Math.Sqrt(standardError.Sum(se => se * se)) / n;
        output.WriteLine($"Hutchinson 16 probes: mean difference {meanDiff:E2}, pooled standard error {pooled:E2}");
        Assert.True(Math.Abs(meanDiff) <= 4 * pooled, $"mean difference {meanDiff} vs pooled standard error {pooled}");
        // Per row, within 5 standard errors.
        for (int r = 0; r < n; r++) Assert.True(Math.Abs(estimate[r] - exact[r]) <= 5 * standardError[r] + 1e-6, $"row {r}");
    }

    [Fact]
    public void ThreadsSharingOneTransformerGetTheSingleThreadResults()
    {
        var rows = HeldOut("penguins", 4);
        using var transformer = new LikelihoodTransformer(PenguinsTestData.Model, new LikelihoodTransformOptions { Engine = LikelihoodEngine.Compiled, Steps = 8 });
        var serial = transformer.Score(rows);
        var results = new double[6][];
        using var start = new Barrier(6);
        var threads = Enumerable.Range(0, 6).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            for (int k = 0; k < 3; k++) results[i] = transformer.Score(rows);
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        foreach (var r in results) Assert.Equal(serial, r);

        // And the engine's own parallelism (chunks over threads) does not change a chunk's result.
        var model = PenguinsTestData.Model;
        var z = Standardise(model, rows);
        var one = new double[z.Length / 4];
        var two = new double[z.Length / 4];
        new CompiledLikelihood(model.Denoiser, model.Schedule, new CompiledLikelihoodOptions { Steps = 8, ChunkRows = 10, Threads = 1 }).Compute(z, one, default, default);
        new CompiledLikelihood(model.Denoiser, model.Schedule, new CompiledLikelihoodOptions { Steps = 8, ChunkRows = 10, Threads = 3 }).Compute(z, two, default, default);
        Assert.Equal(one, two);
    }

    [Fact]
    public void BadInputIsRejectedWithClearMessages()
    {
        var model = PenguinsTestData.Model;
        using var transformer = new LikelihoodTransformer(model, new LikelihoodTransformOptions { Engine = LikelihoodEngine.Compiled, Steps = 4 });
        float[] rows = [40, 18, 190, 4000, 45, float.NaN, 200, 4100];
        var nan = Assert.Throws<ArgumentException>(() => transformer.Score(rows));
        Assert.Contains("Row 1", nan.Message);
        var width = Assert.Throws<ArgumentException>(() => transformer.Score(new float[6], 2, 3));
        Assert.Contains("4", width.Message);
        Assert.Contains("3", width.Message);

        var engine = new CompiledLikelihood(model.Denoiser, model.Schedule, new CompiledLikelihoodOptions { Steps = 4 });
        var ragged = Assert.Throws<ArgumentException>(() => engine.Compute(new double[7], new double[1], default, default));
        Assert.Contains("multiple of the dimension 4", ragged.Message);
        var infinite = Assert.Throws<ArgumentException>(() => engine.Compute([0, 0, 0, 0, 0, 0, double.PositiveInfinity, 0], new double[2], default, default));
        Assert.Contains("Row 1", infinite.Message);
        Assert.Contains("feature 2", infinite.Message);
        Assert.Throws<ArgumentException>(() => engine.Compute(new double[8], new double[3], default, default));
        Assert.Equal("AdaptiveTolerance", Assert.Throws<ArgumentOutOfRangeException>(() =>
            new CompiledLikelihood(model.Denoiser, model.Schedule, new CompiledLikelihoodOptions { AdaptiveTolerance = 0 })).ParamName);
        Assert.Equal("ChunkRows", Assert.Throws<ArgumentOutOfRangeException>(() =>
            new CompiledLikelihood(model.Denoiser, model.Schedule, new CompiledLikelihoodOptions { ChunkRows = 0 })).ParamName);
        Assert.Equal("AdaptiveTolerance", Assert.Throws<ArgumentOutOfRangeException>(() =>
            new LikelihoodTransformer(model, new LikelihoodTransformOptions { AdaptiveTolerance = double.NaN })).ParamName);
        // A too-tight adaptive run stops with a message instead of looping.
        var tight = new CompiledLikelihood(model.Denoiser, model.Schedule, new CompiledLikelihoodOptions { AdaptiveTolerance = 1e-12, MaxSteps = 5 });
        Assert.Contains("MaxSteps", Assert.Throws<InvalidOperationException>(() => tight.Compute(new double[4], new double[1], default, default)).Message);
    }

    internal static double[] Standardise(DiffusionModel model, float[] rows)
    {
        int d = model.Dimension;
        var mean = model.FeatureScaler.Mean;
        var scale = model.FeatureScaler.Scale;
        var z = new double[rows.Length];
        for (int i = 0; i < z.Length; i++) z[i] = (rows[i] - mean[i % d]) / scale[i % d];
        return z;
    }
}
