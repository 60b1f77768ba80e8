using System.Text.Json.Serialization;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Training;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Models;

/// <summary>
/// Options of <c>ScoreMatchingEstimator</c> (ML.NET style: settable members with defaults, checked in one place,
/// <see cref="Validate"/>).
/// </summary>
/// <example>
/// <code>
/// var options = new ScoreMatchingOptions { Steps = 3000, Width = 128, Seed = 1 };
/// DiffusionModelParameters model = mlContext.Diffusion().Trainers.ScoreMatching(options).Fit(data);
/// float[] rows = model.Generate(count: 1000, seed: 7);
/// </code>
/// </example>
public sealed partial class ScoreMatchingOptions
{
    /// <summary>The default feature column name, "Features".</summary>
    public const string DefaultFeatureColumnName = "Features";

    /// <summary>The training column: a known-size vector of <see cref="float"/> (default "Features").</summary>
    public string FeatureColumnName { get; set; } = DefaultFeatureColumnName;

    /// <summary>The schedule family the model is trained with and, by default, samples along (default
    /// <see cref="ScheduleKind.Cosine"/>); ignored when <see cref="CustomSchedule"/> is set.</summary>
    public ScheduleKind Schedule { get; set; } = ScheduleKind.Cosine;

    /// <summary>Any <see cref="NoiseSchedule"/> (tabulated, Gaussian-OT, a fitted path, ...) to use instead of the
    /// <see cref="Schedule"/> family; null (the default) for the family. It must be one that <see cref="ScheduleJson"/> can
    /// write, so that the model can be saved. Saved in the model's <c>schedule.json</c>, not in <c>options.json</c>.</summary>
    [JsonIgnore]
    public NoiseSchedule? CustomSchedule { get; set; }

    /// <summary>Final time tau of the Cosine, CondOt, VpLinear and VpCosine schedules (default 1).</summary>
    public double ScheduleTau { get; set; } = 1.0;

    /// <summary>Relative end cut-off of the Cosine and CondOt schedules, MaxTime = tau (1 - cut-off) (default 1e-3).</summary>
    public double ScheduleEndCutoff { get; set; } = 1e-3;

    /// <summary>beta_min of the VpLinear schedule (default 0.1).</summary>
    public double VpBetaMin { get; set; } = 0.1;

    /// <summary>beta_max of the VpLinear schedule (default 20).</summary>
    public double VpBetaMax { get; set; } = 20.0;

    /// <summary>The offset s of the VpCosine schedule (default 0.008).</summary>
    public double VpCosineOffset { get; set; } = 0.008;

    /// <summary>sigma_max of the Ve schedule (default 80).</summary>
    public double VeSigmaMax { get; set; } = 80.0;

    /// <summary>How features are scaled before training (default <see cref="MLExtensions.Diffusion.Models.FeatureScaling.PerFeature"/>: each feature
    /// to zero mean and unit standard deviation; the diffusion then lives in these standardised units).</summary>
    public FeatureScaling FeatureScaling { get; set; } = FeatureScaling.PerFeature;

    /// <summary>What the network predicts (default <see cref="Parametrisation.Edm"/>).</summary>
    public Parametrisation Parametrisation { get; set; } = Parametrisation.Edm;

    /// <summary>sigma_data of the preconditioning, in standardised units (default 1).</summary>
    public double SigmaData { get; set; } = 1.0;

    /// <summary>How training noise levels are drawn (default <see cref="NoiseLevelDistribution.LogNormal"/>).</summary>
    public NoiseLevelDistribution NoiseLevels { get; set; } = NoiseLevelDistribution.LogNormal;

    /// <summary>Mean of ln(sigma / m) for <see cref="NoiseLevelDistribution.LogNormal"/> (default -1.2).</summary>
    public double LogNormalMean { get; set; } = -1.2;

    /// <summary>Standard deviation of ln(sigma / m) for <see cref="NoiseLevelDistribution.LogNormal"/> (default 1.2).</summary>
    public double LogNormalStandardDeviation { get; set; } = 1.2;

    /// <summary>Smallest training time for <see cref="NoiseLevelDistribution.UniformTime"/> (default 1e-3).</summary>
    public double UniformTimeMin { get; set; } = 1e-3;

    /// <summary>Hidden width of the network (default 256).</summary>
    public int Width { get; set; } = 256;

    /// <summary>Hidden layers or residual blocks (default 3).</summary>
    public int Depth { get; set; } = 3;

    /// <summary>Whether hidden layers after the first are residual blocks (default false).</summary>
    public bool Residual { get; set; }

    /// <summary>Whether residual blocks start with a layer norm (default false).</summary>
    public bool LayerNorm { get; set; }

    /// <summary>Fourier frequencies of the noise embedding (default 16).</summary>
    public int EmbeddingFrequencies { get; set; } = 16;

    /// <summary>Where the noise embedding enters the network (default <see cref="Training.TimeConditioning.InputOnly"/>).</summary>
    public TimeConditioning TimeConditioning { get; set; } = TimeConditioning.InputOnly;

    /// <summary>Optimiser steps (default 2000).</summary>
    public int Steps { get; set; } = 2000;

    /// <summary>Rows per step (default 256), in [1, <see cref="MaximumBatchSize"/>]; at fit time BatchSize x max(d + 2
    /// <see cref="EmbeddingFrequencies"/>, <see cref="Width"/>) must also fit in one array (<see cref="Array.MaxLength"/>).</summary>
    public int BatchSize { get; set; } = 256;

    /// <summary>The largest <see cref="BatchSize"/>: 2^20 rows per step.</summary>
    public const int MaximumBatchSize = TrainingOptions.MaximumBatchSize;

    /// <summary>Peak learning rate (default 2e-3).</summary>
    public double LearningRate { get; set; } = 2e-3;

    /// <summary>Linear warm-up steps, at most <see cref="Steps"/>; null (the default) for
    /// <see cref="TrainingOptions.DefaultWarmupSteps"/>(<see cref="Steps"/>) = min(100, Steps / 10), so that any positive
    /// <see cref="Steps"/> is valid with the defaults (100 for the default 2000 steps). <see cref="EffectiveWarmupSteps"/> is
    /// the value in use.</summary>
    public int? WarmupSteps { get; set; }

    /// <summary>The warm-up steps training uses: <see cref="WarmupSteps"/>, or min(100, <see cref="Steps"/> / 10) when it is null.</summary>
    [JsonIgnore]
    public int EffectiveWarmupSteps => WarmupSteps ?? TrainingOptions.DefaultWarmupSteps(Steps);

    /// <summary>Final learning rate as a fraction of the peak after cosine decay (default 0.05).</summary>
    public double FinalLearningRateFraction { get; set; } = 0.05;

    /// <summary>Decoupled weight decay (default 0).</summary>
    public double WeightDecay { get; set; }

    /// <summary>EMA decay of the weights the model keeps (default 0.999).</summary>
    public double EmaDecay { get; set; } = 0.999;

    /// <summary>Global gradient-norm clip (default 1).</summary>
    public double GradientClipNorm { get; set; } = 1.0;

    /// <summary>Seed of initialisation, batches and noise; null draws one from the MLContext's seeded source (default null).</summary>
    public int? Seed { get; set; }

    /// <summary>GEMM threads; 0 means the library default (default 0).</summary>
    public int Threads { get; set; }

    /// <summary>Steps between progress reports and log lines (default 100); the last step is always reported, so a value
    /// above <see cref="Steps"/> gives one report at the end.</summary>
    public int ReportInterval { get; set; } = 100;

    /// <summary>What to do with rows holding NaN (missing) or infinite values (default <see cref="MissingValueHandling.Error"/>).</summary>
    public MissingValueHandling MissingValueHandling { get; set; } = MissingValueHandling.Error;

    /// <summary>The input column <c>DiffusionModelParameters.Transform</c> reads, when present: standard-normal latent noise, a
    /// vector of d floats (default "Noise").</summary>
    public string NoiseColumnName { get; set; } = "Noise";

    /// <summary>The column <c>DiffusionModelParameters.Transform</c> adds: the generated rows (default "Generated").</summary>
    public string GeneratedColumnName { get; set; } = "Generated";

    /// <summary>Seed of the latents <c>DiffusionModelParameters.Transform</c> draws when the input has no
    /// <see cref="NoiseColumnName"/> column: row i gets row i of <c>Generate(rows, GenerationSeed)</c> (default 0).</summary>
    public int GenerationSeed { get; set; }

    /// <summary>Solver steps <c>DiffusionModelParameters.Transform</c> takes with the Heun sampler (default 20).</summary>
    public int SamplingSteps { get; set; } = 20;

    /// <summary>Receives a report every <see cref="ReportInterval"/> steps (called on the training thread); not saved.</summary>
    [JsonIgnore]
    public IProgress<TrainingProgress>? Progress { get; set; }

    /// <summary>Cancels reading and training (checked between rows and steps); not saved.</summary>
    [JsonIgnore]
    public CancellationToken CancellationToken { get; set; }

    /// <summary>Checks every option; the exception's <see cref="ArgumentException.ParamName"/> is the option's name.</summary>
    /// <exception cref="ArgumentException">A column name is null or blank, or the noise and generated columns share a name.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (its name is the parameter name).</exception>
    public void Validate()
    {
        RequireName(FeatureColumnName, nameof(FeatureColumnName));
        RequireName(NoiseColumnName, nameof(NoiseColumnName));
        RequireName(GeneratedColumnName, nameof(GeneratedColumnName));
        if (NoiseColumnName == GeneratedColumnName)
            throw new ArgumentException($"{nameof(NoiseColumnName)} and {nameof(GeneratedColumnName)} must differ, both are '{NoiseColumnName}'.", nameof(GeneratedColumnName));
        RequireDefined(Schedule, nameof(Schedule));
        RequireDefined(Parametrisation, nameof(Parametrisation));
        RequireDefined(NoiseLevels, nameof(NoiseLevels));
        RequireDefined(TimeConditioning, nameof(TimeConditioning));
        RequireDefined(MissingValueHandling, nameof(MissingValueHandling));
        RequireDefined(FeatureScaling, nameof(FeatureScaling));
        RequirePositive(ScheduleTau, nameof(ScheduleTau));
        if (!(ScheduleEndCutoff > 0 && ScheduleEndCutoff < 1)) Throw(nameof(ScheduleEndCutoff), ScheduleEndCutoff, "must lie in (0, 1)");
        if (!(VpBetaMin > 0) || !double.IsFinite(VpBetaMin)) Throw(nameof(VpBetaMin), VpBetaMin, "must be finite and positive");
        if (!(VpBetaMax > VpBetaMin) || !double.IsFinite(VpBetaMax)) Throw(nameof(VpBetaMax), VpBetaMax, $"must be finite and above {nameof(VpBetaMin)} = {VpBetaMin}");
        RequirePositive(VpCosineOffset, nameof(VpCosineOffset));
        RequirePositive(VeSigmaMax, nameof(VeSigmaMax));
        RequirePositive(SigmaData, nameof(SigmaData));
        if (!double.IsFinite(LogNormalMean)) Throw(nameof(LogNormalMean), LogNormalMean, "must be finite");
        RequirePositive(LogNormalStandardDeviation, nameof(LogNormalStandardDeviation));
        if (!(UniformTimeMin > 0) || !double.IsFinite(UniformTimeMin)) Throw(nameof(UniformTimeMin), UniformTimeMin, "must be finite and positive");
        if (Width <= 0) Throw(nameof(Width), Width, "must be positive");
        if (Depth <= 0) Throw(nameof(Depth), Depth, "must be positive");
        if (EmbeddingFrequencies <= 0) Throw(nameof(EmbeddingFrequencies), EmbeddingFrequencies, "must be positive");
        if (Steps <= 0) Throw(nameof(Steps), Steps, "must be positive");
        if (BatchSize <= 0 || BatchSize > MaximumBatchSize) Throw(nameof(BatchSize), BatchSize, $"must lie in [1, {nameof(MaximumBatchSize)} = {MaximumBatchSize}]");
        RequirePositive(LearningRate, nameof(LearningRate));
        if (WarmupSteps is { } warmup && (warmup < 0 || warmup > Steps)) Throw(nameof(WarmupSteps), warmup, $"must lie in [0, {nameof(Steps)} = {Steps}] (or be null for min(100, {nameof(Steps)} / 10))");
        if (!(FinalLearningRateFraction >= 0 && FinalLearningRateFraction <= 1)) Throw(nameof(FinalLearningRateFraction), FinalLearningRateFraction, "must lie in [0, 1]");
        if (!(WeightDecay >= 0) || !double.IsFinite(WeightDecay)) Throw(nameof(WeightDecay), WeightDecay, "must be finite and non-negative");
        if (!(EmaDecay >= 0 && EmaDecay < 1)) Throw(nameof(EmaDecay), EmaDecay, "must lie in [0, 1)");
        RequirePositive(GradientClipNorm, nameof(GradientClipNorm));
        if (Threads < 0) Throw(nameof(Threads), Threads, "must be non-negative");
        if (ReportInterval <= 0) Throw(nameof(ReportInterval), ReportInterval, "must be positive");
        if (SamplingSteps <= 0) Throw(nameof(SamplingSteps), SamplingSteps, "must be positive");
        NoiseSchedule schedule;
        try
        {
            schedule = CreateSchedule();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentOutOfRangeException(nameof(Schedule), Schedule, $"The {Schedule} schedule rejects its parameters: {e.Message}");
        }
        if (CustomSchedule is not null && !ScheduleJson.CanSerialize(CustomSchedule))
            throw new ArgumentException(
                $"The option {nameof(CustomSchedule)} holds a {CustomSchedule.GetType().Name} ('{CustomSchedule.Name}'), which cannot be saved with the model; " +
                "use a built-in family or tabulate it (TabulatedSchedule).", nameof(CustomSchedule));
        if (NoiseLevels == NoiseLevelDistribution.UniformTime && !(UniformTimeMin < schedule.MaxTime))
            Throw(nameof(UniformTimeMin), UniformTimeMin, $"must lie below the schedule's MaxTime = {schedule.MaxTime}");
        ValidateFeatureTypes();
    }

    /// <summary>The schedule these options describe: <see cref="CustomSchedule"/> if set, else the <see cref="Schedule"/> family.</summary>
    /// <exception cref="ArgumentException">The schedule parameters are invalid.</exception>
    public NoiseSchedule CreateSchedule() => CustomSchedule ?? Schedule switch
    {
        ScheduleKind.Cosine => new CosineSchedule(ScheduleTau, ScheduleEndCutoff),
        ScheduleKind.CondOt => new CondOtSchedule(ScheduleTau, ScheduleEndCutoff),
        ScheduleKind.VpLinear => new VpLinearSchedule(VpBetaMin, VpBetaMax, ScheduleTau),
        ScheduleKind.VpCosine => new VpCosineSchedule(ScheduleTau, VpCosineOffset),
        ScheduleKind.Ve => new VeSchedule(VeSigmaMax),
        _ => throw new ArgumentOutOfRangeException(nameof(Schedule), Schedule, "Unknown schedule kind."),
    };

    /// <summary>A copy of these options without <see cref="Progress"/> and <see cref="CancellationToken"/>.</summary>
    public ScoreMatchingOptions Clone()
    {
        var copy = (ScoreMatchingOptions)MemberwiseClone();
        copy.Progress = null;
        copy.CancellationToken = default;
        CopyFeatureTypes(copy);
        return copy;
    }

    /// <summary>The training-engine options for a validated instance and the seed in use.</summary>
    internal TrainingOptions ToTrainingOptions(int seed, NoiseSchedule schedule) => new()
    {
        Network = new MlpOptions
        {
            Width = Width,
            Depth = Depth,
            Residual = Residual,
            LayerNorm = LayerNorm,
            EmbeddingFrequencies = EmbeddingFrequencies,
            TimeConditioning = TimeConditioning,
            Threads = Threads,
        },
        Parametrisation = Parametrisation,
        SigmaData = SigmaData,
        NoiseLevels = NoiseLevels == NoiseLevelDistribution.LogNormal
            ? NoiseLevelSampler.LogNormal(LogNormalMean, LogNormalStandardDeviation)
            : NoiseLevelSampler.UniformTime(schedule, UniformTimeMin),
        BatchSize = BatchSize,
        Steps = Steps,
        LearningRate = LearningRate,
        WarmupSteps = EffectiveWarmupSteps,
        FinalLearningRateFraction = FinalLearningRateFraction,
        WeightDecay = WeightDecay,
        GradientClipNorm = GradientClipNorm,
        EmaDecay = EmaDecay,
        Seed = seed,
        ReportInterval = ReportInterval,
    };

    private static void RequireName(string? name, string option)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException($"The option {option} must name a column, but it is '{name}'.", option);
    }

    private static void RequireDefined<T>(T value, string option) where T : struct, Enum
    {
        if (!Enum.IsDefined(value)) Throw(option, value, $"is not a defined {typeof(T).Name}");
    }

    private static void RequirePositive(double value, string option)
    {
        if (!(value > 0) || !double.IsFinite(value)) Throw(option, value, "must be finite and positive");
    }

    private static void Throw(string option, object value, string rule) =>
        throw new ArgumentOutOfRangeException(option, value, $"The option {option} {rule}, but it is {value}.");
}
