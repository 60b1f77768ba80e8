using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
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

    [Theory]
    [InlineData(1, 10)]
    [InlineData(2, 10)]
    [InlineData(9, 10)]
    [InlineData(10, 11)]
    [InlineData(40, 41)]
    public void MinimumRows_IsMax10AndDPlus1(int dimension, int expected) => Assert.Equal(expected, TrainingDataLimits.MinimumRows(dimension));

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    public void TooFewRows_AreRefused_SayingHowManyAreNeeded(int rows)
    {
        var context = new MLContext(seed: 1);
        var e = Assert.Throws<ArgumentException>(() =>
            context.Diffusion().Trainers.ScoreMatching(MLNetTestData.TinyOptions(10)).Fit(MLNetTestData.View(context, MLNetTestData.Mixture(rows, seed: 1))));
        Assert.Equal("input", e.ParamName);
        Assert.Contains($"{rows} usable row(s)", e.Message, StringComparison.Ordinal);
        Assert.Contains("needs at least 10", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TenRows_Train()
    {
        var context = new MLContext(seed: 1);
        var model = context.Diffusion().Trainers.ScoreMatching(MLNetTestData.TinyOptions(10)).Fit(MLNetTestData.View(context, MLNetTestData.Mixture(10, seed: 1)));
        Assert.Equal(10, model.Summary.Rows);
        Assert.Empty(model.Summary.Warnings);
    }

    [Fact]
    public void OneExtremeRow_IsWarnedAbout_InTheLogAndTheSummary_AndTheSummaryWarningsSurviveSaveAndLoad()
    {
        var context = new MLContext(seed: 1);
        var logged = new List<string>();
        context.Log += (_, e) => { if (e.Kind == ChannelMessageKind.Warning) lock (logged) logged.Add(e.Message); };
        var data = MLNetTestData.Mixture(200, seed: 1);
        data[2 * 17 + 1] = 1e30f;
        var model = context.Diffusion().Trainers.ScoreMatching(MLNetTestData.TinyOptions(10)).Fit(MLNetTestData.View(context, data));

        Assert.True(model.FeatureScaler.Scale[1] > 1e27);
        var outlier = Assert.Single(model.Summary.Warnings, w => w.Contains("Feature 1 of column 'Features'", StringComparison.Ordinal));
        Assert.Contains("row 17", outlier, StringComparison.Ordinal);
        Assert.Contains(model.Summary.Warnings, w => w.Contains("ratio", StringComparison.Ordinal) && w.Contains("(feature 1)", StringComparison.Ordinal));
        lock (logged) Assert.All(model.Summary.Warnings, w => Assert.Contains(logged, m => m.Contains(w, StringComparison.Ordinal)));

        string path = Path.Combine(Path.GetTempPath(), $"warnings-{Guid.NewGuid():N}.zip");
        try
        {
            model.Save(path);
            Assert.Equal(model.Summary.Warnings, context.Diffusion().LoadModel(path).Summary.Warnings);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void OrdinaryData_HeavyTailsAndASpikeAtZero_AreNotWarnedAbout()
    {
        var random = new Random(5);
        var data = new float[2000 * 3];
        for (int r = 0; r < 2000; r++)
        {
            data[3 * r] = (float)Math.Tan(Math.PI * (random.NextDouble() - 0.5));          // Cauchy
            data[3 * r + 1] = random.NextDouble() < 0.6 ? 0f : (float)(10 * random.NextDouble()); // spike at zero: MAD 0
            data[3 * r + 2] = (float)(1000 + 50 * random.NextDouble());
        }
        Assert.Empty(TrainingDataLimits.ScaleWarnings(data, 3, "Features"));
    }

    private sealed class Sink(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
