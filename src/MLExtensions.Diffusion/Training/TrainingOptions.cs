namespace MLExtensions.Diffusion.Training;

/// <summary>Hyper-parameters of <see cref="ScoreModelTrainer"/>.</summary>
public sealed record TrainingOptions
{
    /// <summary>The network architecture.</summary>
    public MlpOptions Network { get; init; } = new();

    /// <summary>What the network predicts (default EDM preconditioning).</summary>
    public Parametrisation Parametrisation { get; init; } = Parametrisation.Edm;

    /// <summary>sigma_data of the preconditioning, in standardised units (default 1).</summary>
    public double SigmaData { get; init; } = 1.0;

    /// <summary>How training noise levels are drawn, in data units (default EDM log-normal).</summary>
    public NoiseLevelSampler NoiseLevels { get; init; } = NoiseLevelSampler.LogNormal();

    /// <summary>Rows per step (default 256), in [1, <see cref="MaximumBatchSize"/>].</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>The largest <see cref="BatchSize"/>: 2^20 rows per step.</summary>
    public const int MaximumBatchSize = 1 << 20;

    /// <summary>Optimiser steps (default 2000).</summary>
    public int Steps { get; init; } = 2000;

    /// <summary>Peak learning rate (default 2e-3).</summary>
    public double LearningRate { get; init; } = 2e-3;

    /// <summary>Linear warm-up steps, in [0, <see cref="Steps"/>]; null (the default) for
    /// <see cref="DefaultWarmupSteps"/>(<see cref="Steps"/>) = min(100, Steps / 10).</summary>
    public int? WarmupSteps { get; init; }

    /// <summary>The warm-up steps in use: <see cref="WarmupSteps"/>, or <see cref="DefaultWarmupSteps"/>(<see cref="Steps"/>).</summary>
    public int EffectiveWarmupSteps => WarmupSteps ?? DefaultWarmupSteps(Steps);

    /// <summary>The default warm-up for <paramref name="steps"/> optimiser steps: min(100, steps / 10) (100 for the default
    /// 2000 steps, and never more than the steps, so short runs are valid with the defaults).</summary>
    /// <param name="steps">Optimiser steps.</param>
    /// <returns>The warm-up steps (0 for fewer than 10 steps).</returns>
    public static int DefaultWarmupSteps(int steps) => Math.Clamp(steps / 10, 0, 100);

    /// <summary>Final learning rate as a fraction of the peak after cosine decay (default 0.05).</summary>
    public double FinalLearningRateFraction { get; init; } = 0.05;

    /// <summary>Decoupled weight decay (default 0).</summary>
    public double WeightDecay { get; init; }

    /// <summary>Global gradient-norm clip (default 1).</summary>
    public double GradientClipNorm { get; init; } = 1.0;

    /// <summary>EMA decay of the weights the returned denoiser uses (default 0.999).</summary>
    public double EmaDecay { get; init; } = 0.999;

    /// <summary>Seed of initialisation, batches and noise: same seed and thread count, same model.</summary>
    public int Seed { get; init; }

    /// <summary>Steps between progress reports (default 100).</summary>
    public int ReportInterval { get; init; } = 100;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A field is out of range.</exception>
    /// <exception cref="ArgumentNullException">A field is null.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Network, nameof(Network));
        ArgumentNullException.ThrowIfNull(NoiseLevels, nameof(NoiseLevels));
        Network.Validate();
        if (!double.IsFinite(SigmaData) || SigmaData <= 0) throw new ArgumentOutOfRangeException(nameof(SigmaData), SigmaData, "sigma_data must be finite and positive.");
        if (BatchSize <= 0 || BatchSize > MaximumBatchSize)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"The batch size must lie in [1, {nameof(MaximumBatchSize)} = {MaximumBatchSize}].");
        if (Steps <= 0) throw new ArgumentOutOfRangeException(nameof(Steps), Steps, "Steps must be positive.");
        if (WarmupSteps is { } warmup && (warmup < 0 || warmup > Steps)) throw new ArgumentOutOfRangeException(nameof(WarmupSteps), warmup, "Warm-up steps must lie in [0, Steps].");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "The learning rate must be finite and positive.");
        if (!(FinalLearningRateFraction >= 0 && FinalLearningRateFraction <= 1)) throw new ArgumentOutOfRangeException(nameof(FinalLearningRateFraction), FinalLearningRateFraction, "The final fraction must lie in [0, 1].");
        if (!(WeightDecay >= 0) || !double.IsFinite(WeightDecay)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "The weight decay must be finite and non-negative.");
        if (!(GradientClipNorm > 0) || !double.IsFinite(GradientClipNorm)) throw new ArgumentOutOfRangeException(nameof(GradientClipNorm), GradientClipNorm, "The clip norm must be finite and positive.");
        if (!(EmaDecay >= 0 && EmaDecay < 1)) throw new ArgumentOutOfRangeException(nameof(EmaDecay), EmaDecay, "The EMA decay must lie in [0, 1).");
        if (ReportInterval <= 0) throw new ArgumentOutOfRangeException(nameof(ReportInterval), ReportInterval, "The report interval must be positive.");
    }
}
