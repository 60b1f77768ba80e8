using System.Text.Json.Nodes;
using Microsoft.ML;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Tests.MLNet;

public class ScheduleOptimizationTests(DiffusionModelFixture fixture) : IClassFixture<DiffusionModelFixture>
{
    private MLContext Context => fixture.Context;

    /// <summary>Small sizes: the logic, not the statistics, is under test here (the statistics are in docs/benchmarks.md).</summary>
    private static ScheduleOptimizationOptions Small(int nfe, int seed = 0) => new()
    {
        Nfe = nfe, Seed = seed, SelectionRows = 64, ReportRows = 64, ReferenceSteps = 100, CandidateLevels = 8, OptimizerRows = 32,
        PathMetricSamples = 128,
    };

    [Fact]
    public void TheChosenPlan_IsTheCandidateOfLeastSelectionError_WithinTheBudget_AndTheModelCarriesIt()
    {
        var data = MLNetTestData.View(Context, DiffusionModelFixture.ScaledData(200, 5));
        var progress = new List<ScheduleOptimizationProgress>();
        var options = Small(5);
        options.Progress = new Recorder(progress);
        var result = Context.Diffusion().OptimizeSchedule(fixture.ScaledModel, options).Optimize(data);
        var report = result.Report;
        var built = report.Candidates.Where(k => k.Failure is null).ToList();
        Assert.True(built.Count >= 20, $"only {built.Count} candidates were built");
        Assert.All(built, k => Assert.True(k.Nfe <= 5 && k.Nfe >= 1));
        Assert.Equal(built.Min(k => k.Rms), report.Chosen.Rms);
        Assert.Same(report.ChosenPlan, result.Model.SamplingPlan);
        Assert.Equal(report.ChosenPlan.Nfe, report.After.Nfe);
        Assert.Equal(fixture.ScaledModel.SamplingPlan.Nfe, report.Before.Nfe);
        Assert.Equal(5, report.DefaultAtBudget.Nfe);
        Assert.Contains("fitted-path", report.KineticCosts.Keys);
        Assert.All(report.KineticCosts.Values, c => Assert.True(c > 0 && double.IsFinite(c)));
        // The fitted path is the least-cost Gaussian path under the metric it was fitted with.
        Assert.True(report.KineticCosts["fitted-path"] <= report.KineticCosts["training"] * (1 + 1e-3));
        Assert.Contains(progress, p => p.Stage == "report" && p.Completed == p.Total);
        // Text and JSON carry the same choice.
        Assert.Contains(report.Chosen.Label, report.ToString());
        var json = JsonNode.Parse(report.ToJson())!;
        Assert.Equal(report.Chosen.Label, json["chosen"]!["Label"]!.GetValue<string>());
        Assert.Equal(report.After.Rms, json["after"]!["Rms"]!.GetValue<double>());
        Assert.Equal(report.ChosenPlan.Times.ToArray(), SamplingPlan.FromJson(json["chosenPlan"]!.ToJsonString()).Times.ToArray());
        // Fit gives the same model plan (same seed, same data).
        var again = Context.Diffusion().OptimizeSchedule(fixture.ScaledModel, Small(5)).Fit(data);
        Assert.Equal(result.Model.SamplingPlan.Times.ToArray(), again.SamplingPlan.Times.ToArray());
        Assert.Equal(result.Model.SamplingPlan.Sampler, again.SamplingPlan.Sampler);
    }

    [Fact]
    public void OnIsotropicGaussianData_TheFittedPathIsTheGaussianOtPath_WithC2EqualToW2Squared()
    {
        // Isotropic feature scaling, so that z = y: N((1.5, -0.5), 0.5^2 I), W2^2 to N(0, I) = 2.5 + 2 (0.5 - 1)^2 = 3.
        var z = StandardNormal.Sample(new Random(4), 4000 * 2);
        var rows = new float[z.Length];
        for (int i = 0; i < rows.Length; i++) rows[i] = (float)((i % 2 == 0 ? 1.5 : -0.5) + 0.5 * z[i]);
        var trainOptions = MLNetTestData.TinyOptions(60);
        trainOptions.FeatureScaling = FeatureScaling.Isotropic;
        var data = MLNetTestData.View(Context, rows);
        var model = Context.Diffusion().Trainers.ScoreMatching(trainOptions).Fit(data);
        var options = Small(3);
        options.PathMetric = PathMetricSource.GaussianMoments;
        options.Grids = [SamplingGridKind.UniformTime];
        options.Samplers = [GenerateSamplerKind.Euler];
        var report = Context.Diffusion().OptimizeSchedule(model, options).Optimize(data).Report;
        double w2Squared = report.W2Estimate * report.W2Estimate;
        Assert.Equal(3.0, w2Squared, 0.15);   // the sample's Bures distance, near the law's 3
        double c2 = report.KineticCosts["fitted-path"];
        Assert.True(Math.Abs(c2 - w2Squared) <= 1e-3 * w2Squared, $"fitted c2 {c2}, W2^2 {w2Squared}");
        Assert.True(w2Squared / (report.Paths["fitted-path"].Tau * c2) >= 0.99);
        // The closed-form Gaussian OT schedule of the isotropic moments costs the same; cosine costs more.
        Assert.True(Math.Abs(report.KineticCosts["gaussian-ot"] - w2Squared) <= 1e-2 * w2Squared);
        Assert.True(report.KineticCosts["training"] > 1.05 * w2Squared);
        // The fitted path's noise level at each time matches the Gaussian OT path's at the same time (both constant speed).
        var fitted = report.Paths["fitted-path"];
        var ot = report.Paths["gaussian-ot"];
        foreach (double t in new[] { 0.2, 0.5, 0.8 })
            Assert.Equal(ot.Sigma(t) / ot.M(t), fitted.Sigma(t) / fitted.M(t), 0.02 * ot.Sigma(t) / ot.M(t));
    }

    [Fact]
    public void BadInput_FailsNamingTheProblem()
    {
        var model = fixture.ScaledModel;
        var catalog = Context.Diffusion();
        Assert.Equal("Nfe", Assert.Throws<ArgumentOutOfRangeException>(() => catalog.OptimizeSchedule(model, new ScheduleOptimizationOptions { Nfe = 0 })).ParamName);
        Assert.Equal("Samplers", Assert.Throws<ArgumentException>(() => catalog.OptimizeSchedule(model, new ScheduleOptimizationOptions { Samplers = [] })).ParamName);
        Assert.Equal("ReferenceSteps", Assert.Throws<ArgumentOutOfRangeException>(() => catalog.OptimizeSchedule(model, new ScheduleOptimizationOptions { ReferenceSteps = 5 })).ParamName);
        var estimator = catalog.OptimizeSchedule(model, Small(3));
        Assert.Throws<ArgumentException>(() => estimator.Fit(Context.Data.LoadFromEnumerable(new[] { new { Other = 1f } })));
        var wide = Context.Data.LoadFromEnumerable(Enumerable.Range(0, 10).Select(_ => new WideRow { Features = [1, 2, 3] }).ToList());
        Assert.Contains("dimension is 2", Assert.Throws<ArgumentException>(() => estimator.Fit(wide)).Message);
        Assert.Contains("at least 4", Assert.Throws<ArgumentException>(() => estimator.Fit(MLNetTestData.View(Context, [1, 2, 3, 4]))).Message);
        var withNaN = DiffusionModelFixture.ScaledData(20, 1);
        withNaN[7] = float.NaN;
        Assert.Throws<ArgumentException>(() => estimator.Fit(MLNetTestData.View(Context, withNaN)));
        var cancelled = Small(3);
        cancelled.CancellationToken = new CancellationToken(canceled: true);
        Assert.ThrowsAny<OperationCanceledException>(() => catalog.OptimizeSchedule(model, cancelled).Fit(MLNetTestData.View(Context, DiffusionModelFixture.ScaledData(20, 1))));
    }

    private sealed class WideRow
    {
        [Microsoft.ML.Data.VectorType(3)]
        public float[] Features { get; set; } = [];
    }

    private sealed class Recorder(List<ScheduleOptimizationProgress> list) : IProgress<ScheduleOptimizationProgress>
    {
        public void Report(ScheduleOptimizationProgress value) => list.Add(value);
    }
}
