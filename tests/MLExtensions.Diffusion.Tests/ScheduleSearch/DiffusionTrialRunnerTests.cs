using Microsoft.ML;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.ScheduleSearch;
using MLExtensions.Diffusion.Search;
using MLExtensions.Diffusion.Tests.MLNet;

namespace MLExtensions.Diffusion.Tests.ScheduleSearch;

public class DiffusionTrialRunnerTests(DiffusionModelFixture fixture) : IClassFixture<DiffusionModelFixture>
{
    private MLContext Context => fixture.Context;

    private DiffusionTrialRunnerOptions Options(SearchLoss loss = SearchLoss.ValidationSlicedW2, bool fixedModel = true) => new()
    {
        TrainingData = MLNetTestData.View(Context, DiffusionModelFixture.ScaledData(200, 11)),
        ValidationData = MLNetTestData.View(Context, DiffusionModelFixture.ScaledData(100, 12)),
        TestData = MLNetTestData.View(Context, DiffusionModelFixture.ScaledData(100, 13)),
        Model = fixedModel ? fixture.ScaledModel : null,
        BaseTrainingOptions = MLNetTestData.TinyOptions(),
        Loss = loss, Rows = 64, ReferenceSteps = 100, Seed = 4,
    };

    private static Parameter Point(string path, SamplingGridKind grid, GenerateSamplerKind sampler, int nfe, double top = 20) =>
        Parameter.Create(new Dictionary<string, object?>
        {
            ["Path"] = path, ["Grid"] = grid.ToString(), ["Rho"] = 7.0, ["TopNoiseLevel"] = top, ["BottomNoiseLevel"] = 0.002,
            ["Sampler"] = sampler.ToString(), ["Nfe"] = nfe,
        });

    [Fact]
    public void TheSpaces_AreDeclaredWithMLNetsAttributes()
    {
        var sampling = SearchSpace.FromType<SamplingSearchParameters>();
        Assert.Equal(["Path", "Grid", "Rho", "TopNoiseLevel", "BottomNoiseLevel", "Sampler", "Nfe"], sampling.Dimensions.Select(d => d.Name));
        Assert.Equal(3, sampling["Path"].Cardinality);
        Assert.Equal(6, sampling["Grid"].Cardinality);
        Assert.True(sampling["TopNoiseLevel"].LogScale);
        var both = SearchSpace.FromType<DiffusionSearchParameters>();
        Assert.Equal(11, both.Count);
        Assert.Contains(both.Dimensions, d => d.Name == "Training.LearningRate" && d.LogScale);
        Assert.Contains(both.Dimensions, d => d.Name == "Sampling.Grid");
        // Every default point maps back to the typed options.
        var p = both.Default().To<DiffusionSearchParameters>();
        Assert.Equal(GenerateSamplerKind.Heun, p.Sampling.Sampler);
        Assert.Equal(128, p.Training.Width);
    }

    [Fact]
    public async Task ATrial_MeasuresThePlanItDescribes_AgainstAnIndependentMeasure()
    {
        var runner = new DiffusionTrialRunner(Context, Options(SearchLoss.DiscretisationRms));
        var result = await runner.RunAsync(new TrialSettings(0, Point("training", SamplingGridKind.EdmRho, GenerateSamplerKind.Heun, 9, top: 1000)), CancellationToken.None);
        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(9, result.Metrics!["Cost"]);
        // Top 1000 is capped at min(path top 637, 6 x the trained top 20.1) = 120.5, the highest level the network can follow.
        var model = fixture.ScaledModel;
        double top = Math.Min(1000, DiffusionModel.FollowableNoiseLevelFactor * model.TrainedNoiseLevelRange.High);
        var plan = SamplingPlan.Create(model.Schedule, SamplingGridKind.EdmRho, GenerateSamplerKind.Heun, 9, top);
        var independent = new DiscretisationError(model, 64, 4, 100).Measure(plan);
        Assert.Equal(independent.Rms, result.Loss, 12);
        Assert.Equal(independent.Rms, result.Metrics["Rms"], 12);
        Assert.True(result.Metrics.ContainsKey("TestSlicedW2") && result.Metrics.ContainsKey("ValidationMmd"));
        Assert.Equal(0, runner.NetworksTrained);
        // Dynamic programming and the fitted path run too (DPM++(2M) on the DDIM programme).
        foreach (var (path, grid, sampler) in new[] { ("fitted-path", SamplingGridKind.DynamicProgramming, GenerateSamplerKind.DpmSolverPlusPlus2M),
                     ("gaussian-ot", SamplingGridKind.EqualLength, GenerateSamplerKind.Euler), ("training", SamplingGridKind.DynamicProgramming, GenerateSamplerKind.Heun) })
        {
            var r = await runner.RunAsync(new TrialSettings(1, Point(path, grid, sampler, 5)), CancellationToken.None);
            Assert.True(r.IsSuccess, $"{path}/{grid}/{sampler}: {r.Error}");
            Assert.True(r.Metrics!["Cost"] <= 5);
        }
    }

    [Fact]
    public async Task ASearchOverTrainingAndSampling_TrainsOneNetworkPerTrainingPoint_AndIsReproducible()
    {
        var options = Options(fixedModel: false);
        var space = new SearchSpace()
            .AddChoice("Training.Width", 16L, 24L).AddChoice("Training.Steps", 250L)
            .AddChoice("Sampling.Nfe", 3L, 5L).AddChoice("Sampling.Sampler", "Heun", "Euler");
        async Task<(SearchResult Result, int Trained)> Search()
        {
            var runner = new DiffusionTrialRunner(Context, options);
            var result = await new SearchExperiment().SetSearchSpace(space).SetTuner(new GridSearchTuner(space)).SetTrialRunner(runner)
                .SetMaxTrials(8).SetSeed(3).RunAsync();
            return (result, runner.NetworksTrained);
        }
        var (first, trained) = await Search();
        Assert.All(first.Trials, t => Assert.True(t.IsSuccess, t.Error));
        Assert.Equal(8, first.Trials.Count);
        Assert.Equal(2, trained);   // two widths, every sampling point reuses its network
        var (second, _) = await Search();
        Assert.Equal(first.Trials.Select(t => t.Loss), second.Trials.Select(t => t.Loss));
        // The Pareto front of NFE against the test metric is non-dominated and sorted by cost.
        var front = ParetoFront.Compute(first.Trials.Select(t => (Cost: t.Metrics!["Cost"], Loss: t.Metrics["TestSlicedW2"])), x => x.Cost, x => x.Loss);
        for (int i = 1; i < front.Count; i++) Assert.True(front[i].Cost > front[i - 1].Cost && front[i].Loss < front[i - 1].Loss);
    }

    [Fact]
    public async Task BadPointsAndOptions_FailClearly()
    {
        Assert.Throws<ArgumentException>(() => new DiffusionTrialRunner(Context, new DiffusionTrialRunnerOptions { TrainingData = Options().TrainingData }));
        var runner = new DiffusionTrialRunner(Context, Options(fixedModel: false));
        var e = await Assert.ThrowsAsync<ArgumentException>(() => runner.RunAsync(new TrialSettings(0, Point("training", SamplingGridKind.EdmRho, GenerateSamplerKind.Heun, 5)), CancellationToken.None));
        Assert.Contains("fixed Model", e.Message);
        var withModel = new DiffusionTrialRunner(Context, Options());
        e = await Assert.ThrowsAsync<ArgumentException>(() => withModel.RunAsync(new TrialSettings(0, Point("wiggly", SamplingGridKind.EdmRho, GenerateSamplerKind.Heun, 5)), CancellationToken.None));
        Assert.Contains("Unknown path 'wiggly'", e.Message);
    }
}
