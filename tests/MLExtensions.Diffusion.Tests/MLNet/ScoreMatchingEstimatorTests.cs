using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Training;

namespace MLExtensions.Diffusion.Tests.MLNet;

public class ScoreMatchingEstimatorTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private sealed class ScalarRow
    {
        public float Features { get; set; }
    }

    private sealed class TextRow
    {
        public string Features { get; set; } = "";
    }

    private sealed class DoubleRow
    {
        [VectorType(2)]
        public double[] Features { get; set; } = [];
    }

    private sealed class VariableRow
    {
        public float[] Features { get; set; } = [];
    }

    private sealed class OtherRow
    {
        [VectorType(2)]
        public float[] Other { get; set; } = [];
    }

    [Fact]
    public void Fit_OnMixture_GeneratesFiniteRowsNearTheDataMeanAndModes()
    {
        var context = new MLContext(seed: 1);
        var data = MLNetTestData.Mixture(400, seed: 3);
        var options = MLNetTestData.TinyOptions(1500);
        options.Width = 64;
        var model = context.Diffusion().Trainers.ScoreMatching(options).Fit(MLNetTestData.View(context, data));

        Assert.Equal(2, model.Dimension);
        Assert.Equal(400, model.Summary.Rows);
        Assert.Equal(0, model.Summary.DroppedRows);
        Assert.Equal(model.Denoiser.Network.Parameters.Length, model.Summary.ParameterCount);
        var rows = model.Generate(count: 1000, seed: 5, steps: 16);
        Assert.Equal(2000, rows.Length);
        Assert.All(rows, v => Assert.True(float.IsFinite(v)));
        double mx = 0, my = 0, right = 0, nearMode = 0;
        for (int r = 0; r < 1000; r++)
        {
            mx += rows[2 * r] / 1000.0;
            my += rows[2 * r + 1] / 1000.0;
            if (rows[2 * r] > 0) right++;
            if (Math.Abs(Math.Abs(rows[2 * r]) - 2) < 1) nearMode++;
        }
        output.WriteLine($"mean ({mx:F3}, {my:F3}), right {right / 1000:F3}, near a mode {nearMode / 1000:F3}");
        // The data mean is (0, 1) and the modes sit at x = -2 and x = 2 (sd 0.5): loose checks of a tiny model.
        Assert.InRange(mx, -0.5, 0.5);
        Assert.InRange(my, 0.6, 1.4);
        Assert.InRange(right / 1000, 0.3, 0.7);
        // Under the data law 95% of x lie within 1 (two sd) of a mode; a unimodal fit would put far fewer there.
        Assert.True(nearMode / 1000 > 0.8, $"Only {nearMode / 1000:P0} of the rows lie near a mode.");
    }

    [Fact]
    public void Fit_SameSeedAndOptions_GivesIdenticalParameters_AndAnotherSeedDiffers()
    {
        var context = new MLContext();
        var view = MLNetTestData.View(context, MLNetTestData.Mixture(200, seed: 4));
        var a = context.Diffusion().Trainers.ScoreMatching(MLNetTestData.TinyOptions(60)).Fit(view);
        var b = context.Diffusion().Trainers.ScoreMatching(MLNetTestData.TinyOptions(60)).Fit(view);
        var other = MLNetTestData.TinyOptions(60);
        other.Seed = 12;
        var c = context.Diffusion().Trainers.ScoreMatching(other).Fit(view);
        Assert.Equal(a.Denoiser.Network.Parameters, b.Denoiser.Network.Parameters);
        Assert.NotEqual(a.Denoiser.Network.Parameters, c.Denoiser.Network.Parameters);
    }

    [Fact]
    public void Fit_WithoutSeed_DrawsItFromTheSeededMLContext()
    {
        var data = MLNetTestData.Mixture(100, seed: 4);
        DiffusionModel Train(int contextSeed)
        {
            var context = new MLContext(seed: contextSeed);
            var options = MLNetTestData.TinyOptions(40);
            options.Seed = null;
            return context.Diffusion().Trainers.ScoreMatching(options).Fit(MLNetTestData.View(context, data));
        }
        var a = Train(7);
        var b = Train(7);
        Assert.Equal(a.Summary.Seed, b.Summary.Seed);
        Assert.Equal(a.Denoiser.Network.Parameters, b.Denoiser.Network.Parameters);
    }

    [Fact]
    public void Fit_ReportsProgressToTheSinkAndToTheMLContextLog()
    {
        var context = new MLContext();
        var messages = new List<string>();
        context.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var reports = new List<TrainingProgress>();
        var options = MLNetTestData.TinyOptions(100);
        options.ReportInterval = 25;
        options.Progress = new ListProgress(reports);
        var model = context.Diffusion().Trainers.ScoreMatching(options).Fit(MLNetTestData.View(context, MLNetTestData.Mixture(100, 1)));
        Assert.Equal([25, 50, 75, 100], reports.Select(r => r.Step));
        Assert.All(reports, r => Assert.True(double.IsFinite(r.Loss) && r.Loss > 0));
        Assert.Equal(reports[^1].Loss, model.Summary.FinalLoss);
        lock (messages)
        {
            Assert.Contains(messages, m => m.Contains("Step 100/100", StringComparison.Ordinal));
            Assert.Contains(messages, m => m.Contains("Training on 100 row(s) x 2 feature(s)", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Fit_CancelledToken_Throws()
    {
        var context = new MLContext();
        var view = MLNetTestData.View(context, MLNetTestData.Mixture(100, 1));
        var before = MLNetTestData.TinyOptions(100);
        before.CancellationToken = new CancellationToken(canceled: true);
        Assert.ThrowsAny<OperationCanceledException>(() => context.Diffusion().Trainers.ScoreMatching(before).Fit(view));

        using var source = new CancellationTokenSource();
        var during = MLNetTestData.TinyOptions(1000);
        during.ReportInterval = 10;
        int reports = 0;
        during.Progress = new ListProgress([], () => { if (++reports == 2) source.Cancel(); });
        during.CancellationToken = source.Token;
        Assert.ThrowsAny<OperationCanceledException>(() => context.Diffusion().Trainers.ScoreMatching(during).Fit(view));
        Assert.Equal(2, reports);
    }

    [Fact]
    public void Fit_MissingValue_IsAnErrorNamingRowAndColumn_ByDefault()
    {
        var context = new MLContext();
        var data = MLNetTestData.Mixture(50, 1);
        data[2 * 7 + 1] = float.NaN;
        var e = Assert.Throws<ArgumentException>(() =>
            context.Diffusion().Trainers.ScoreMatching(MLNetTestData.TinyOptions(10)).Fit(MLNetTestData.View(context, data)));
        Assert.Contains("Row 7", e.Message, StringComparison.Ordinal);
        Assert.Contains("'Features'", e.Message, StringComparison.Ordinal);
        Assert.Contains("NaN", e.Message, StringComparison.Ordinal);
        Assert.Equal("input", e.ParamName);

        data[2 * 7 + 1] = 0;
        data[2 * 9] = float.PositiveInfinity;
        var inf = Assert.Throws<ArgumentException>(() =>
            context.Diffusion().Trainers.ScoreMatching(MLNetTestData.TinyOptions(10)).Fit(MLNetTestData.View(context, data)));
        Assert.Contains("Row 9", inf.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_DropRows_SkipsAndReportsThem()
    {
        var context = new MLContext();
        var warnings = new List<string>();
        context.Log += (_, e) => { if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning) lock (warnings) warnings.Add(e.Message); };
        var data = MLNetTestData.Mixture(60, 1);
        data[0] = float.NaN;
        data[2 * 10 + 1] = float.NaN;
        data[2 * 10] = float.NaN;
        data[2 * 33] = float.NegativeInfinity;
        var options = MLNetTestData.TinyOptions(10);
        options.MissingValueHandling = MissingValueHandling.DropRows;
        var model = context.Diffusion().Trainers.ScoreMatching(options).Fit(MLNetTestData.View(context, data));
        Assert.Equal(3, model.Summary.DroppedRows);
        Assert.Equal(57, model.Summary.Rows);
        // The feature scaler saw exactly the kept rows: its mean is theirs.
        double meanX = 0;
        for (int r = 0; r < 60; r++) if (r is not (0 or 10 or 33)) meanX += data[2 * r] / 57.0;
        Assert.Equal(meanX, model.FeatureScaler.Mean[0], 5);
        lock (warnings) Assert.Contains(warnings, w => w.Contains("Dropped 3 row(s)", StringComparison.Ordinal));
    }

    [Fact]
    public void Fit_EmptyData_OrEveryRowDropped_Throws()
    {
        var context = new MLContext();
        var empty = Assert.Throws<ArgumentException>(() =>
            context.Diffusion().Trainers.ScoreMatching(MLNetTestData.TinyOptions(10)).Fit(MLNetTestData.View(context, [])));
        Assert.Contains("no rows", empty.Message, StringComparison.Ordinal);

        var options = MLNetTestData.TinyOptions(10);
        options.MissingValueHandling = MissingValueHandling.DropRows;
        var allBad = Assert.Throws<ArgumentException>(() =>
            context.Diffusion().Trainers.ScoreMatching(options).Fit(MLNetTestData.View(context, [float.NaN, 1, 2, float.NaN])));
        Assert.Contains("Every row", allBad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_WrongColumnType_NamesTheColumn()
    {
        var context = new MLContext();
        var estimator = context.Diffusion().Trainers.ScoreMatching(MLNetTestData.TinyOptions(10));
        IDataView[] wrong =
        [
            context.Data.LoadFromEnumerable(new[] { new ScalarRow { Features = 1 } }),
            context.Data.LoadFromEnumerable(new[] { new TextRow { Features = "a" } }),
            context.Data.LoadFromEnumerable(new[] { new DoubleRow { Features = [1, 2] } }),
            context.Data.LoadFromEnumerable(new[] { new VariableRow { Features = [1, 2] } }),
        ];
        foreach (var view in wrong)
        {
            var e = Assert.Throws<ArgumentException>(() => estimator.Fit(view));
            Assert.Contains("Column 'Features' must be a known-size vector of Single", e.Message, StringComparison.Ordinal);
        }
        var missing = Assert.Throws<ArgumentException>(() => estimator.Fit(context.Data.LoadFromEnumerable(new[] { new OtherRow { Other = [1, 2] } })));
        Assert.Contains("no column 'Features'", missing.Message, StringComparison.Ordinal);
        Assert.Contains("'Other'", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_CustomFeatureColumnName_IsRead()
    {
        var context = new MLContext();
        var view = context.Data.LoadFromEnumerable(Enumerable.Range(0, 40).Select(i => new OtherRow { Other = [i % 2, i % 3] }).ToList());
        var options = MLNetTestData.TinyOptions(10);
        options.FeatureColumnName = "Other";
        var model = context.Diffusion().Trainers.ScoreMatching(options).Fit(view);
        Assert.Equal(40, model.Summary.Rows);
        Assert.Equal(Enumerable.Range(0, 40).Average(i => i % 3), model.FeatureScaler.Mean[1], 5);
    }

    public static TheoryData<string, Action<ScoreMatchingOptions>> BadOptions => new()
    {
        { nameof(ScoreMatchingOptions.Steps), o => o.Steps = 0 },
        { nameof(ScoreMatchingOptions.BatchSize), o => o.BatchSize = -1 },
        { nameof(ScoreMatchingOptions.LearningRate), o => o.LearningRate = double.NaN },
        { nameof(ScoreMatchingOptions.WarmupSteps), o => o.WarmupSteps = 10_000 },
        { nameof(ScoreMatchingOptions.EmaDecay), o => o.EmaDecay = 1 },
        { nameof(ScoreMatchingOptions.Width), o => o.Width = 0 },
        { nameof(ScoreMatchingOptions.Depth), o => o.Depth = -2 },
        { nameof(ScoreMatchingOptions.GradientClipNorm), o => o.GradientClipNorm = 0 },
        { nameof(ScoreMatchingOptions.WeightDecay), o => o.WeightDecay = -1 },
        { nameof(ScoreMatchingOptions.Threads), o => o.Threads = -1 },
        { nameof(ScoreMatchingOptions.FeatureColumnName), o => o.FeatureColumnName = " " },
        { nameof(ScoreMatchingOptions.GeneratedColumnName), o => o.GeneratedColumnName = o.NoiseColumnName },
        { nameof(ScoreMatchingOptions.VpBetaMax), o => o.VpBetaMax = 0.01 },
        { nameof(ScoreMatchingOptions.ScheduleEndCutoff), o => o.ScheduleEndCutoff = 1 },
        { nameof(ScoreMatchingOptions.Schedule), o => o.Schedule = (ScheduleKind)99 },
        { nameof(ScoreMatchingOptions.SamplingSteps), o => o.SamplingSteps = 0 },
        { nameof(ScoreMatchingOptions.UniformTimeMin), o => { o.NoiseLevels = NoiseLevelDistribution.UniformTime; o.UniformTimeMin = 2; } },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void AbsurdOption_IsRejectedNamingIt(string option, Action<ScoreMatchingOptions> spoil)
    {
        var options = MLNetTestData.TinyOptions(10);
        spoil(options);
        var e = Assert.ThrowsAny<ArgumentException>(() => new MLContext().Diffusion().Trainers.ScoreMatching(options));
        Assert.Equal(option, e.ParamName);
        Assert.Contains(option, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SimpleOverload_ValidatesSteps()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => new MLContext().Diffusion().Trainers.ScoreMatching(steps: 0));
        Assert.Equal("Steps", e.ParamName);
        var estimator = new MLContext().Diffusion().Trainers.ScoreMatching("X", steps: 50, seed: 3, width: 8);
        Assert.Equal(("X", 50, 5, 3, 8), (estimator.Options.FeatureColumnName, estimator.Options.Steps, estimator.Options.WarmupSteps, estimator.Options.Seed!.Value, estimator.Options.Width));
    }

    [Fact]
    public void GetOutputSchema_AddsTheGeneratedVectorColumn_AndChecksTheFeatureColumn()
    {
        var context = new MLContext();
        var estimator = context.Diffusion().Trainers.ScoreMatching(MLNetTestData.TinyOptions(10));
        var view = MLNetTestData.View(context, MLNetTestData.Mixture(4, 1));
        var shape = SchemaShapeOf(context, view);
        var output = estimator.GetOutputSchema(shape);
        var generated = Assert.Single(output, c => c.Name == "Generated");
        Assert.Equal(SchemaShape.Column.VectorKind.Vector, generated.Kind);
        Assert.Equal(NumberDataViewType.Single, generated.ItemType);
        Assert.Contains(output, c => c.Name == "Features");

        var scalar = SchemaShapeOf(context, context.Data.LoadFromEnumerable(new[] { new ScalarRow() }));
        var e = Assert.Throws<ArgumentException>(() => estimator.GetOutputSchema(scalar));
        Assert.Contains("'Features'", e.Message, StringComparison.Ordinal);
    }

    /// <summary>SchemaShape.Create(schema), which ML.NET keeps internal (its pipelines call it); reached by reflection in the test only.</summary>
    private static SchemaShape SchemaShapeOf(MLContext context, IDataView view)
    {
        var create = typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public, [typeof(DataViewSchema)])!;
        return (SchemaShape)create.Invoke(null, [view.Schema])!;
    }

    private sealed class ListProgress(List<TrainingProgress> sink, Action? onReport = null) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            sink.Add(value);
            onReport?.Invoke();
        }
    }
}
