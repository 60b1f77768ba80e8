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

    [Fact]
    public void DivergedRun_StopsWithAnErrorNamingTheStepAndTheLearningRate()
    {
        // Learning rate 1e3 (the run): the float32 gradients overflow within a few steps; before the fix training ran
        // on and returned a model whose generated rows were all NaN.
        var context = new MLContext(seed: 1);
        var options = new ScoreMatchingOptions { Steps = 100, Width = 128, Depth = 3, BatchSize = 128, Seed = 3, Threads = 1, LearningRate = 1e3 };
        var e = Assert.Throws<TrainingDivergedException>(() =>
            context.Diffusion().Trainers.ScoreMatching(options).Fit(MLNetTestData.View(context, MLNetTestData.Mixture(200, seed: 1))));
        Assert.InRange(e.Step, 1, 100);
        Assert.Equal(100, e.TotalSteps);
        Assert.False(double.IsFinite(e.Loss) && double.IsFinite(e.GradientNorm));
        Assert.Contains($"step {e.Step} of 100", e.Message, StringComparison.Ordinal);
        Assert.Contains("LearningRate", e.Message, StringComparison.Ordinal);
        Assert.Contains("GradientClipNorm", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DivergenceCheck_DoesNotFireOnAnOrdinaryRun()
    {
        var context = new MLContext(seed: 1);
        var model = context.Diffusion().Trainers.ScoreMatching(MLNetTestData.TinyOptions(100)).Fit(MLNetTestData.View(context, MLNetTestData.Mixture(200, seed: 1)));
        Assert.All(model.Generate(50, seed: 1), v => Assert.True(float.IsFinite(v)));
    }

    private sealed class Sink(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
