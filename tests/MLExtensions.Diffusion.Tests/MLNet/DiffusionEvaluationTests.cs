using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;
using Xunit.Abstractions;

namespace MLExtensions.Diffusion.Tests.MLNet;

public class DiffusionEvaluationTests(ITestOutputHelper output)
{
    [Fact]
    public void Penguins_MetricsAreFiniteAndConsistent()
    {
        var mlContext = new MLContext(seed: 1);
        var model = PenguinsTestData.Model;
        var held = PenguinsTestData.HeldOut;
        var view = PenguinsTestData.View(mlContext, held);
        var likelihood = new LikelihoodTransformOptions { Steps = 24 };
        var metrics = mlContext.Diffusion().Evaluate(model, view, new EvaluationOptions { Seed = 3, SamplingSteps = 12, ThermodynamicSamples = 256, Likelihood = likelihood });
        output.WriteLine(metrics.ToString());

        int n = held.Length / PenguinsTestData.Dimension;
        Assert.Equal(n, metrics.HeldOutRows);
        Assert.Equal(n, metrics.GeneratedRows);
        Assert.Equal(n, metrics.W2Rows);
        Assert.Equal(2 * 12 - 1, metrics.Nfe);   // Heun down to sigma = 0 skips the last correction
        foreach (double v in new[] { metrics.SlicedW2, metrics.W2, metrics.Mmd2, metrics.MeanNll, metrics.KineticCost, metrics.TotalEntropyProduction, metrics.EndpointW2, metrics.Efficiency })
            Assert.True(double.IsFinite(v), metrics.ToString());
        Assert.True(metrics.SlicedW2 > 0 && metrics.SlicedW2 <= metrics.W2 + 1e-12, "the sliced W2 never exceeds W2 (same sets, up to Monte Carlo)");
        Assert.True(metrics.KineticCost > 0 && metrics.KineticCostStandardError > 0 && metrics.KineticCostStandardError < 0.2 * metrics.KineticCost);
        Assert.True(metrics.TotalEntropyProduction > 0);
        Assert.True(metrics.Efficiency > 0 && metrics.Efficiency <= 1.05, $"efficiency {metrics.Efficiency}");

        using var transformer = mlContext.Diffusion().NegativeLogLikelihood(model, likelihood).Fit(view);
        double columnMean = transformer.Transform(view).GetColumn<float>("NLL").Average(v => (double)v);
        Assert.Equal(columnMean, metrics.MeanNll, 1e-4 * Math.Abs(columnMean));
    }

    [Fact]
    public void SamplingSteps_AndComputeLikelihood_AreHonoured()
    {
        var mlContext = new MLContext(seed: 1);
        var view = PenguinsTestData.View(mlContext, PenguinsTestData.HeldOut.AsSpan(0, 40 * PenguinsTestData.Dimension).ToArray());
        var metrics = mlContext.Diffusion().Evaluate(PenguinsTestData.Model, view,
            new EvaluationOptions { SamplingSteps = 5, GeneratedRows = 30, MaxExactW2Rows = 25, ThermodynamicSamples = 16, ComputeLikelihood = false });
        Assert.Equal(9, metrics.Nfe);
        Assert.Equal(30, metrics.GeneratedRows);
        Assert.Equal(25, metrics.W2Rows);
        Assert.True(double.IsNaN(metrics.MeanNll));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GaussianData_KineticCostAndEfficiencyMatchTheClosedForms(bool optimalTransport)
    {
        // Data N(mu, s^2 I) in d = 3: c2 is the sum over coordinates of the one-dimensional quadrature c2 (independent
        // coordinates), and W2(q, P_T) is the Bures distance of the exact marginals. On the Gaussian OT schedule the path is the
        // constant-speed geodesic, so the efficiency is 1.
        const int d = 3, rows = 4000, samples = 2000;
        const double s = 0.6;
        double[] mu = [0.5, -1.0, 0.0];
        NoiseSchedule schedule = optimalTransport ? new GaussianOtSchedule(s) : new CosineSchedule();
        var data = GaussianDenoiser.Isotropic(mu, s);
        var z = new double[rows * d];
        data.SampleData(new Random(7), z);

        var (integral, endpoint, efficiency) = DiffusionEvaluator.Thermodynamics(data, schedule, z, samples, new Random(8));

        double exactC2 = 0;
        for (int j = 0; j < d; j++) exactC2 += EntropyProduction.Integrate(schedule, GaussianDenoiser.Isotropic([mu[j]], s)).KineticCost;
        double exactW2 = WassersteinSpeed.GaussianDistance(schedule, data, 0, schedule.MaxTime);
        double exactEfficiency = exactW2 * exactW2 / (schedule.MaxTime * exactC2);
        output.WriteLine($"c2 {integral.KineticCost:F4} +- {integral.KineticCostStandardError:F4} (exact {exactC2:F4}); W2 {endpoint:F4} (exact {exactW2:F4}); efficiency {efficiency:F4} (exact {exactEfficiency:F4})");

        Assert.True(Math.Abs(integral.KineticCost - exactC2) < 4 * integral.KineticCostStandardError + 1e-3 * exactC2);
        Assert.Equal(exactW2, endpoint, 0.03 * exactW2);
        Assert.Equal(exactEfficiency, efficiency, 0.05 * exactEfficiency);
        if (optimalTransport) Assert.Equal(1.0, exactEfficiency, 0.01);
        else Assert.True(exactEfficiency < 0.98, $"cosine efficiency {exactEfficiency}");
    }

    [Fact]
    public void BadInputs_FailNamingTheProblem()
    {
        var mlContext = new MLContext(seed: 1);
        var model = PenguinsTestData.Model;
        var view = PenguinsTestData.View(mlContext, PenguinsTestData.HeldOut.AsSpan(0, 8 * PenguinsTestData.Dimension).ToArray());
        Assert.Equal("GeneratedRows", Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Diffusion().Evaluate(model, view, new EvaluationOptions { GeneratedRows = 1 })).ParamName);
        Assert.Equal("ThermodynamicSamples", Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Diffusion().Evaluate(model, view, new EvaluationOptions { ThermodynamicSamples = 1 })).ParamName);
        var missing = Assert.Throws<ArgumentException>(() => mlContext.Diffusion().Evaluate(model, view, new EvaluationOptions { FeatureColumnName = "X" }));
        Assert.Contains("'X'", missing.Message);
        var one = PenguinsTestData.View(mlContext, PenguinsTestData.HeldOut.AsSpan(0, PenguinsTestData.Dimension).ToArray());
        Assert.Contains("at least 2", Assert.Throws<ArgumentException>(() => mlContext.Diffusion().Evaluate(model, one)).Message);
        var nan = PenguinsTestData.HeldOut.AsSpan(0, 3 * PenguinsTestData.Dimension).ToArray();
        nan[5] = float.NaN;
        Assert.Contains("Row 1", Assert.Throws<ArgumentException>(() => mlContext.Diffusion().Evaluate(model, PenguinsTestData.View(mlContext, nan))).Message);
        var dropped = mlContext.Diffusion().Evaluate(model, PenguinsTestData.View(mlContext, nan),
            new EvaluationOptions { MissingValueHandling = MissingValueHandling.DropRows, ThermodynamicSamples = 4, ComputeLikelihood = false, SamplingSteps = 2 });
        Assert.Equal(2, dropped.HeldOutRows);
    }
}
