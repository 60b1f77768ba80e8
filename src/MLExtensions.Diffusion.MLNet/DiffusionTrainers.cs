using Microsoft.ML;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>The trainers of <see cref="DiffusionCatalog"/> (<c>mlContext.Diffusion().Trainers</c>).</summary>
public sealed class DiffusionTrainers
{
    private readonly MLContext _context;

    internal DiffusionTrainers(MLContext context) => _context = context;

    /// <summary>A denoising score-matching trainer with the given options.</summary>
    /// <param name="options">The options; validated here.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">An option is invalid (its name is the <see cref="ArgumentException.ParamName"/>).</exception>
    public ScoreMatchingEstimator ScoreMatching(ScoreMatchingOptions options) => new(_context, options);

    /// <summary>A denoising score-matching trainer with the common options; the rest keep their defaults
    /// (warm-up is min(100, steps / 10)).</summary>
    /// <param name="featureColumnName">The training column, a known-size vector of Single.</param>
    /// <param name="steps">Optimiser steps.</param>
    /// <param name="seed">Seed; null draws one from the MLContext's seeded source.</param>
    /// <param name="width">Hidden width.</param>
    /// <param name="depth">Hidden layers.</param>
    /// <param name="batchSize">Rows per step.</param>
    /// <param name="learningRate">Peak learning rate.</param>
    /// <param name="schedule">The schedule family generation runs along.</param>
    /// <exception cref="ArgumentException">An argument is invalid (named in the message and ParamName).</exception>
    public ScoreMatchingEstimator ScoreMatching(string featureColumnName = ScoreMatchingOptions.DefaultFeatureColumnName, int steps = 2000,
        int? seed = null, int width = 256, int depth = 3, int batchSize = 256, double learningRate = 2e-3, ScheduleKind schedule = ScheduleKind.Cosine) =>
        new(_context, new ScoreMatchingOptions
        {
            FeatureColumnName = featureColumnName,
            Steps = steps,
            WarmupSteps = Math.Clamp(steps / 10, 0, 100),
            Seed = seed,
            Width = width,
            Depth = depth,
            BatchSize = batchSize,
            LearningRate = learningRate,
            Schedule = schedule,
        });
}
