using Microsoft.ML;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Training;
using Xunit;

namespace MLExtensions.Diffusion.Tests.MLNet;

/// <summary>The validation split and early stopping (<see cref="ScoreMatchingOptions.ValidationFraction"/>,
/// <see cref="ScoreMatchingOptions.EarlyStoppingPatience"/>), checked against the progress reports.</summary>
public sealed class ValidationSplitTests
{
    private sealed class Collect : IProgress<TrainingProgress>
    {
        public List<TrainingProgress> Reports { get; } = [];
        public void Report(TrainingProgress value) => Reports.Add(value);
    }

    private static (DiffusionModel Model, List<TrainingProgress> Reports) Train(int rows, int steps, double fraction, int patience)
    {
        var context = new MLContext(seed: 1);
        var collect = new Collect();
        var o = MLNetTestData.TinyOptions(steps);
        o.Width = 64;
        o.LearningRate = 1e-2;
        o.ReportInterval = 25;
        o.ValidationFraction = fraction;
        o.ValidationSeed = 3;
        o.EarlyStoppingPatience = patience;
        o.Progress = collect;
        var model = context.Diffusion().Trainers.ScoreMatching(o).Fit(MLNetTestData.View(context, MLNetTestData.Mixture(rows, 2)));
        return (model, collect.Reports);
    }

    [Fact]
    public void SmallData_StopsEarly_AtTheRuleAndKeepsTheBestEvaluation()
    {
        var (model, reports) = Train(rows: 40, steps: 3000, fraction: 0.25, patience: 3);
        var v = model.Summary.Validation;
        Assert.NotNull(v);
        Assert.Equal(10, v.Rows);
        Assert.Equal(30, model.Summary.Rows);
        Assert.All(reports, r => Assert.True(double.IsFinite(r.ValidationLoss)));
        // the best is the minimum of the reported held-out losses, at its step
        var best = reports.MinBy(r => r.ValidationLoss);
        Assert.Equal(best.ValidationLoss, v.BestLoss);
        Assert.Equal(best.Step, v.BestStep);
        // stopped early: exactly `patience` evaluations after the best, none of them better, and no steps after the last
        Assert.True(v.StoppedEarly);
        Assert.Equal(3, reports.Count(r => r.Step > v.BestStep));
        Assert.Equal(reports[^1].Step, v.StepsTaken);
        Assert.Equal(v.StepsTaken, model.Summary.Steps);
        Assert.True(v.StepsTaken < 3000);
        Assert.Equal(reports[^1].ValidationLoss, v.LastLoss);
    }

    [Fact]
    public void WithoutPatience_RunsAllSteps_ReportingTheHeldOutLoss()
    {
        var (model, reports) = Train(rows: 200, steps: 200, fraction: 0.2, patience: 0);
        var v = model.Summary.Validation!;
        Assert.False(v.StoppedEarly);
        Assert.Equal(200, v.StepsTaken);
        Assert.Equal(40, v.Rows);
        Assert.Equal(8, reports.Count);
        Assert.Equal(reports.Min(r => r.ValidationLoss), v.BestLoss);
    }

    [Fact]
    public void SaveLoad_KeepsTheValidationRecord()
    {
        var (model, _) = Train(rows: 100, steps: 100, fraction: 0.2, patience: 0);
        string path = Path.Combine(Path.GetTempPath(), $"validation-{Guid.NewGuid():N}.zip");
        try
        {
            model.Save(path);
            var again = new MLContext(seed: 1).Diffusion().LoadModel(path);
            Assert.Equal(model.Summary.Validation, again.Summary.Validation);
            Assert.Equal(0.2, again.Options.ValidationFraction);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void WithoutSplit_NoValidation()
    {
        var (model, reports) = Train(rows: 100, steps: 50, fraction: 0, patience: 0);
        Assert.Null(model.Summary.Validation);
        Assert.All(reports, r => Assert.True(double.IsNaN(r.ValidationLoss)));
    }

    [Fact]
    public void Options_AreChecked_NamingTheOption()
    {
        var o = new ScoreMatchingOptions { ValidationFraction = 0.7 };
        Assert.Equal(nameof(ScoreMatchingOptions.ValidationFraction), Assert.ThrowsAny<ArgumentException>(o.Validate).ParamName);
        o = new ScoreMatchingOptions { EarlyStoppingPatience = 2 };
        Assert.Equal(nameof(ScoreMatchingOptions.EarlyStoppingPatience), Assert.ThrowsAny<ArgumentException>(o.Validate).ParamName);
        o = new ScoreMatchingOptions { EarlyStoppingPatience = -1, ValidationFraction = 0.1 };
        Assert.Equal(nameof(ScoreMatchingOptions.EarlyStoppingPatience), Assert.ThrowsAny<ArgumentException>(o.Validate).ParamName);
        var context = new MLContext(seed: 1);
        var one = MLNetTestData.TinyOptions(10);
        one.ValidationFraction = 0.5;
        // One row cannot be split, but it is refused first: fewer rows than TrainingDataLimits.MinimumRows (issue 10, item 10).
        var e = Assert.Throws<ArgumentException>(() => context.Diffusion().Trainers.ScoreMatching(one).Fit(MLNetTestData.View(context, MLNetTestData.Mixture(1, 1))));
        Assert.Equal("input", e.ParamName);
        Assert.Contains($"at least {TrainingDataLimits.MinimumRows(2)}", e.Message);
    }
}
