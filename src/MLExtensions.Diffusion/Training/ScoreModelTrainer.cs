using System.Numerics.Tensors;
using MLExtensions.Diffusion.Randomness;

namespace MLExtensions.Diffusion.Training;

/// <summary>
/// Fits a <see cref="TimeConditionedMlp"/> denoiser to data by denoising score matching: standardise the data
/// (isotropic scale), draw batches, noise levels and noise from a seeded <see cref="Random"/>, minimise
/// <see cref="DiffusionLoss"/> with <see cref="AdamW"/> under a warm-up + cosine <see cref="LearningRateSchedule"/>,
/// global-norm clipping, and an EMA of the weights; returns a <see cref="NeuralDenoiser"/> with the EMA weights.
/// </summary>
/// <remarks>Deterministic for a given seed (GEMM results do not depend on the thread split).</remarks>
public sealed class ScoreModelTrainer
{
    /// <summary>A trainer with the given options.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public ScoreModelTrainer(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The options.</summary>
    public TrainingOptions Options { get; }

    /// <summary>Trains on rows x d data.</summary>
    /// <param name="data">Row-major training data.</param>
    /// <param name="dimension">Features per row, d.</param>
    /// <param name="progress">Optional progress sink, called every <see cref="TrainingOptions.ReportInterval"/> steps.</param>
    /// <param name="cancellationToken">Cancels between steps.</param>
    /// <exception cref="ArgumentException">The data is empty, not a multiple of d, or holds a non-finite value.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive, or the batch size times
    /// the widest layer exceeds <see cref="Array.MaxLength"/> (ParamName "BatchSize").</exception>
    /// <exception cref="OperationCanceledException">Cancellation was requested.</exception>
    /// <exception cref="TrainingDivergedException">A step's loss or gradient norm is not finite, or a weight became NaN or
    /// infinite (the message names the step and the options to change, e.g. a lower learning rate).</exception>
    public NeuralDenoiser Fit(ReadOnlySpan<float> data, int dimension, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Fit(data, default, dimension, 0, 0, out _, progress, cancellationToken);

    /// <summary>Trains on rows x d data, measuring the denoising loss of held-out rows every
    /// <see cref="TrainingOptions.ReportInterval"/> steps on the EMA weights (noise levels and noise drawn once from
    /// <paramref name="validationSeed"/>); returns the EMA weights of the best evaluation and stops after
    /// <paramref name="patience"/> evaluations without a new best (0: never early).</summary>
    /// <param name="data">Row-major training data.</param>
    /// <param name="validation">Row-major held-out rows, in the units of <paramref name="data"/>; empty for none (then the
    /// final EMA weights are returned, as by the other overload).</param>
    /// <param name="dimension">Features per row, d.</param>
    /// <param name="patience">Evaluations without improvement after which training stops; 0 for never.</param>
    /// <param name="validationSeed">Seed of the held-out noise levels and noise.</param>
    /// <param name="validationSummary">The held-out loss record; null without held-out rows.</param>
    /// <param name="progress">Optional progress sink (with <see cref="TrainingProgress.ValidationLoss"/>).</param>
    /// <param name="cancellationToken">Cancels between steps.</param>
    /// <exception cref="ArgumentException">The data is empty, not a multiple of d, or holds a non-finite value; or the
    /// held-out rows are not a multiple of d.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> or <paramref name="patience"/> is out of range.</exception>
    /// <exception cref="OperationCanceledException">Cancellation was requested.</exception>
    /// <exception cref="TrainingDivergedException">A step's loss or gradient norm is not finite, or a weight became NaN or
    /// infinite (the message names the step and the options to change, e.g. a lower learning rate).</exception>
    public NeuralDenoiser Fit(ReadOnlySpan<float> data, ReadOnlySpan<float> validation, int dimension, int patience, int validationSeed,
        out ValidationSummary? validationSummary, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        if (dimension > 0 && validation.Length % dimension != 0)
            throw new ArgumentException($"The held-out length {validation.Length} is not a multiple of {dimension}.", nameof(validation));
        var o = Options;
        long widest = Math.Max(o.Network.Width, dimension + 2L * o.Network.EmbeddingFrequencies);
        if (dimension > 0 && o.BatchSize * widest > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(Options.BatchSize), o.BatchSize,
                $"The batch size {o.BatchSize} times the widest layer ({widest}) exceeds the largest array ({Array.MaxLength}); use at most {Array.MaxLength / widest} rows per step.");
        var standardizer = Standardizer.Fit(data, dimension, isotropic: true);
        var z = new float[data.Length];
        standardizer.Transform(data, z);
        int rows = data.Length / dimension, d = dimension, batch = o.BatchSize;
        double scale = standardizer.Scale[0];

        var random = new Random(o.Seed);
        var network = new TimeConditionedMlp(d, o.Network, random);
        var loss = new DiffusionLoss(o.Parametrisation, o.SigmaData);
        var adam = new AdamW(network.Parameters.Length, weightDecay: o.WeightDecay) { Threads = o.Network.Threads };
        var schedule = new LearningRateSchedule(o.LearningRate, o.Steps, o.EffectiveWarmupSteps, o.FinalLearningRateFraction);
        var ema = new ExponentialMovingAverage(network.Parameters, o.EmaDecay);
        var clean = new float[batch * d];
        var noise = new float[batch * d];
        var noiseDouble = new double[batch * d];
        var sigma = new float[batch];
        double lossSum = 0;
        int lossCount = 0;
        ValidationMonitor? monitor = null;
        if (!validation.IsEmpty)
        {
            var heldOut = new float[validation.Length];
            standardizer.Transform(validation, heldOut);
            monitor = new ValidationMonitor(heldOut, d, o, scale, patience, validationSeed);
        }
        int stepsTaken = o.Steps;
        bool stoppedEarly = false;
        for (int step = 0; step < o.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (int r = 0; r < batch; r++)
            {
                int row = random.Next(rows);
                z.AsSpan(row * d, d).CopyTo(clean.AsSpan(r * d, d));
                sigma[r] = (float)Math.Max(o.NoiseLevels.Sample(random) / scale, 1e-12);
            }
            StandardNormal.Fill(random, noiseDouble);
            for (int i = 0; i < noise.Length; i++) noise[i] = (float)noiseDouble[i];

            network.ZeroGradients();
            double value = loss.Step(network, clean, noise, sigma);
            double norm = GradientClipping.ClipGlobalNorm(network.Gradients, o.GradientClipNorm);
            double lr = schedule.At(step);
            if (!double.IsFinite(value) || !double.IsFinite(norm)) throw Diverged(step + 1, value, norm, lr, "the loss or gradient norm is not finite");
            adam.Step(network.Parameters, network.Gradients, lr);
            if (!TensorPrimitives.IsFiniteAll(network.Parameters)) throw Diverged(step + 1, value, norm, lr, "a weight became NaN or infinite");
            ema.Update(network.Parameters);
            lossSum += value;
            lossCount++;
            double validationLoss = double.NaN;
            if (monitor is not null && ((step + 1) % o.ReportInterval == 0 || step + 1 == o.Steps))
            {
                stoppedEarly = monitor.Evaluate(network, ema.Average, step + 1);
                validationLoss = monitor.LastLoss;
            }
            if (progress is not null && ((step + 1) % o.ReportInterval == 0 || step + 1 == o.Steps))
            {
                progress.Report(new TrainingProgress(step + 1, o.Steps, lossSum / lossCount, lr, norm) { ValidationLoss = validationLoss });
                lossSum = 0;
                lossCount = 0;
            }
            if (stoppedEarly)
            {
                stepsTaken = step + 1;
                break;
            }
        }
        ema.Average.CopyTo(network.Parameters);
        if (monitor?.BestWeights is { } best) best.CopyTo(network.Parameters, 0);
        validationSummary = monitor is null ? null
            : new ValidationSummary(monitor.Rows, monitor.BestStep, monitor.BestLoss, monitor.LastLoss, stepsTaken, stoppedEarly);
        return new NeuralDenoiser(network, standardizer, o.Parametrisation, o.SigmaData);
    }

    private TrainingDivergedException Diverged(int step, double loss, double norm, double learningRate, string what)
    {
        var o = Options;
        return new TrainingDivergedException(step, o.Steps, loss, norm, string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Training diverged at step {step} of {o.Steps}: {what} (loss {loss:G4}, gradient norm {norm:G4}, learning rate {learningRate:G3}). " +
            $"Lower LearningRate (now {o.LearningRate:G3}; the default is 2e-3), lengthen WarmupSteps (now {o.EffectiveWarmupSteps}) or lower " +
            $"GradientClipNorm (now {o.GradientClipNorm:G3}), and check the data for extreme values; no model was returned."));
    }
}
