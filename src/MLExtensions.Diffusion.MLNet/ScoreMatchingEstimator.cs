using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLExtensions.Diffusion.Training;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// The ML.NET trainer of a <see cref="DiffusionModel"/>: reads a known-size float vector column, checks it, and fits a
/// noise-conditioned MLP denoiser by denoising score matching (<see cref="ScoreModelTrainer"/>).
/// Under <see cref="FeatureScaling.PerFeature"/> (the default) each feature is first standardised to zero mean and unit
/// standard deviation and the engine trains on these standardised rows (see <see cref="DiffusionModelParameters.FeatureScaler"/>).
/// Made by <c>mlContext.Diffusion().Trainers.ScoreMatching(...)</c>.
/// </summary>
/// <remarks>
/// <para>Progress goes to <see cref="ScoreMatchingOptions.Progress"/> and, as info lines, to ML.NET's log
/// (<see cref="MLContext.Log"/>, source "ScoreMatching") through the public <see cref="IHostEnvironment"/> channel API;
/// dropped rows and extreme feature scales (<see cref="TrainingDataLimits"/>) are logged as warnings and kept in
/// <see cref="TrainingSummary.Warnings"/>.</para>
/// <para><see cref="GetOutputSchema"/> builds its result through a public route because the
/// <see cref="SchemaShape.Column"/> constructor and <c>SchemaShape.Create</c> are internal to ML.NET: it asks
/// <c>mlContext.Transforms.CopyColumns(generated, features)</c> for its output shape, which is the input shape plus a
/// column of exactly the feature column's type (a known-size float vector), the type of the generated column.</para>
/// </remarks>
/// <example>
/// <code>
/// var mlContext = new MLContext(seed: 1);
/// IDataView data = mlContext.Data.LoadFromEnumerable(rows);          // rows with a [VectorType(2)] float[] Features
/// var estimator = mlContext.Diffusion().Trainers.ScoreMatching(new ScoreMatchingOptions { Steps = 2000 });
/// DiffusionModel model = estimator.Fit(data);
/// </code>
/// </example>
public sealed class ScoreMatchingEstimator : IEstimator<DiffusionModel>
{
    private readonly MLContext _context;

    internal ScoreMatchingEstimator(MLContext context, ScoreMatchingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _context = context;
        Options = options;
    }

    /// <summary>The options (validated at construction and again at <see cref="Fit"/>).</summary>
    public ScoreMatchingOptions Options { get; }

    /// <summary>Trains a model on the feature column of <paramref name="input"/>.</summary>
    /// <param name="input">Data with the column <see cref="ScoreMatchingOptions.FeatureColumnName"/>: a known-size vector of Single.</param>
    /// <returns>The trained model.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">The column is missing or of the wrong type (named in the message); a row holds a
    /// NaN or infinite value under <see cref="MissingValueHandling.Error"/> (row and column named); fewer rows remain than
    /// <see cref="TrainingDataLimits.MinimumRows"/> (max(10, d + 1); the message says how many are needed); or an
    /// option is invalid (its name is the <see cref="ArgumentException.ParamName"/>). Extreme per-feature scales are not an
    /// error: they are logged as warnings and kept in <see cref="TrainingSummary.Warnings"/> (see <see cref="TrainingDataLimits"/>).</exception>
    /// <exception cref="OperationCanceledException"><see cref="ScoreMatchingOptions.CancellationToken"/> was cancelled.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="ScoreMatchingOptions.BatchSize"/> times the widest layer
    /// exceeds <see cref="Array.MaxLength"/> (ParamName "BatchSize").</exception>
    /// <exception cref="TrainingDivergedException">Training diverged: a step's loss or gradient norm, or a weight, is not
    /// finite (the message names the step and what to change, e.g. a lower <see cref="ScoreMatchingOptions.LearningRate"/>);
    /// no model is returned.</exception>
    public DiffusionModel Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = Options;
        o.Validate();
        string column = o.FeatureColumnName;
        int d = FeatureColumnReader.RequireVectorColumn(input.Schema, column, nameof(input));
        long widest = Math.Max(o.Width, d + 2L * o.EmbeddingFrequencies);
        if (o.BatchSize * widest > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(o.BatchSize), o.BatchSize,
                $"The option {nameof(o.BatchSize)} = {o.BatchSize} times the widest layer ({widest}: max(d + 2 x {nameof(o.EmbeddingFrequencies)}, {nameof(o.Width)})) exceeds the largest array ({Array.MaxLength}); use at most {Array.MaxLength / widest} rows per step.");
        var host = ((IHostEnvironment)_context).Register("ScoreMatching");
        using var channel = host.Start("Fit");
        var token = o.CancellationToken;
        token.ThrowIfCancellationRequested();

        var data = FeatureColumnReader.Read(input, column, d, o.MissingValueHandling == MissingValueHandling.DropRows, out int dropped, token);
        int rows = data.Length / d;
        var warnings = new List<string>();
        if (dropped > 0)
            warnings.Add($"Dropped {dropped} row(s) of column '{column}' holding missing (NaN) or infinite values; {rows} row(s) remain.");
        if (rows == 0)
            throw new ArgumentException(dropped > 0
                ? $"Every row of column '{column}' ({dropped}) holds a missing or infinite value; nothing is left to train on."
                : $"The input has no rows in column '{column}'; training needs at least one.", nameof(input));
        int minimumRows = TrainingDataLimits.MinimumRows(d);
        if (rows < minimumRows)
            throw new ArgumentException(
                $"Column '{column}' has {rows} usable row(s){(dropped > 0 ? $" ({dropped} dropped)" : "")}; training a model of {d} feature(s) needs at least " +
                $"{minimumRows} (max(10, d + 1), see {nameof(TrainingDataLimits)}.{nameof(TrainingDataLimits.MinimumRows)}).", nameof(input));
        warnings.AddRange(TrainingDataLimits.ScaleWarnings(data, d, column));
        foreach (string warning in warnings) channel.Warning(MessageSensitivity.None, warning);

        (data, var heldOut) = ValidationSplit.Split(data, d, o);
        rows = data.Length / d;

        int seed = o.Seed ?? host.Rand.Next();
        var schedule = o.CreateSchedule();
        var trainer = new ScoreModelTrainer(o.ToTrainingOptions(seed, schedule));
        channel.Info(MessageSensitivity.None, string.Create(CultureInfo.InvariantCulture,
            $"Training on {rows} row(s) x {d} feature(s): {o.Steps} steps, batch {o.BatchSize}, schedule {schedule}, seed {seed}."));
        double lastLoss = double.NaN;
        var progress = new Reporter(r =>
        {
            lastLoss = r.Loss;
            channel.Info(MessageSensitivity.None, string.Create(CultureInfo.InvariantCulture,
                $"Step {r.Step}/{r.TotalSteps}: loss {r.Loss:G5}, learning rate {r.LearningRate:G3}, gradient norm {r.GradientNorm:G3}."));
            if (!double.IsNaN(r.ValidationLoss))
                channel.Info(MessageSensitivity.None, string.Create(CultureInfo.InvariantCulture, $"Step {r.Step}/{r.TotalSteps}: held-out loss {r.ValidationLoss:G5}."));
            o.Progress?.Report(r);
        });
        var clock = Stopwatch.StartNew();
        var encoding = FeatureEncoding.Fit(data, d, o);
        encoding.EncodeInPlace(data);
        var scaler = DiffusionModel.FitFeatureScaler(data, d, o.FeatureScaling);
        if (o.FeatureScaling == FeatureScaling.PerFeature) scaler.Transform(data, data);
        encoding.EncodeInPlace(heldOut);
        if (o.FeatureScaling == FeatureScaling.PerFeature) scaler.Transform(heldOut, heldOut);
        var denoiser = trainer.Fit(data, heldOut, d, o.EarlyStoppingPatience, o.ValidationSeed, out var validation, progress, token);
        clock.Stop();
        var summary = new TrainingSummary(rows, dropped, d, o.Steps, seed, lastLoss, denoiser.Network.Parameters.Length, clock.Elapsed.TotalSeconds) { Warnings = warnings };
        if (validation is not null)
        {
            summary = summary with { Steps = validation.StepsTaken, Validation = validation };
            channel.Info(MessageSensitivity.None, string.Create(CultureInfo.InvariantCulture,
                $"Held-out loss ({validation.Rows} row(s)): best {validation.BestLoss:G5} at step {validation.BestStep} (the weights kept), last {validation.LastLoss:G5}; " +
                $"{validation.StepsTaken} step(s) taken{(validation.StoppedEarly ? ", stopped early" : "")}."));
        }
        channel.Info(MessageSensitivity.None, string.Create(CultureInfo.InvariantCulture,
            $"Trained {summary.ParameterCount} parameters in {summary.TrainingSeconds:F2} s; final loss {lastLoss:G5}."));
        return new DiffusionModel(denoiser, schedule, scaler, o, summary, encoding: encoding);
    }

    /// <summary>The input shape plus the generated column (<see cref="ScoreMatchingOptions.GeneratedColumnName"/>, a
    /// known-size float vector like the feature column).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="inputSchema"/> is null.</exception>
    /// <exception cref="ArgumentException">The feature column is missing or not a known-size vector of Single.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        string column = Options.FeatureColumnName;
        FeatureColumnReader.CheckShape(inputSchema, column);
        return _context.Transforms.CopyColumns(Options.GeneratedColumnName, column).GetOutputSchema(inputSchema);
    }

    /// <summary>Forwards progress synchronously (no synchronisation-context hop, unlike <see cref="Progress{T}"/>).</summary>
    private sealed class Reporter(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
