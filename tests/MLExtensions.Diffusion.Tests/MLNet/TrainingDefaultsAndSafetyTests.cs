using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Training;

namespace MLExtensions.Diffusion.Tests.MLNet;

/// <summary>Defaults that agree with each other, divergence detection and the checks of the training data (issue 10,
/// items 6, 10 and 11).</summary>
public class TrainingDefaultsAndSafetyTests
{
    [Theory]
    [InlineData(1, 0)]
    [InlineData(50, 5)]
    [InlineData(500, 50)]
    [InlineData(2000, 100)]
    [InlineData(100_000, 100)]
    public void DefaultWarmup_FitsAnySteps(int steps, int expected)
    {
        var options = new ScoreMatchingOptions { Steps = steps };
        options.Validate();
        Assert.Null(options.WarmupSteps);
        Assert.Equal(expected, options.EffectiveWarmupSteps);
        var engine = new TrainingOptions { Steps = steps };
        engine.Validate();
        Assert.Equal(expected, engine.EffectiveWarmupSteps);
    }

    [Fact]
    public void ExplicitWarmup_IsKept_AndAboveStepsIsStillRejected()
    {
        var options = new ScoreMatchingOptions { Steps = 50, WarmupSteps = 20 };
        options.Validate();
        Assert.Equal(20, options.EffectiveWarmupSteps);
        options.WarmupSteps = 51;
        var e = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(nameof(ScoreMatchingOptions.WarmupSteps), e.ParamName);
    }

    [Fact]
    public void ShortRun_WithDefaultWarmupAndReportInterval_Trains()
    {
        var context = new MLContext(seed: 1);
        var options = new ScoreMatchingOptions { Steps = 50, Width = 16, Depth = 1, BatchSize = 32, Seed = 2, Threads = 1 };
        var reports = new List<TrainingProgress>();
        options.Progress = new Sink(reports.Add);
        var model = context.Diffusion().Trainers.ScoreMatching(options).Fit(MLNetTestData.View(context, MLNetTestData.Mixture(100, seed: 1)));
        Assert.Equal(50, model.Summary.Steps);
        var report = Assert.Single(reports);
        Assert.Equal(50, report.Step);
        Assert.True(double.IsFinite(model.Summary.FinalLoss));
    }

    private sealed class Sink(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
