namespace MLExtensions.Diffusion.MLNet;

/// <summary>What a <see cref="ScoreMatchingEstimator.Fit"/> run saw and did.</summary>
/// <param name="Rows">Rows trained on.</param>
/// <param name="DroppedRows">Rows skipped for missing or non-finite values (<see cref="MissingValueHandling.DropRows"/>).</param>
/// <param name="Dimension">Features per row, d.</param>
/// <param name="Steps">Optimiser steps taken.</param>
/// <param name="Seed">The seed actually used (the option, or one drawn from the MLContext's seeded source).</param>
/// <param name="FinalLoss">Mean loss over the last reporting interval (NaN when nothing was reported).</param>
/// <param name="ParameterCount">Trainable parameters of the network.</param>
/// <param name="TrainingSeconds">Wall-clock seconds of the training loop.</param>
public sealed record TrainingSummary(int Rows, int DroppedRows, int Dimension, int Steps, int Seed, double FinalLoss, int ParameterCount, double TrainingSeconds)
{
    /// <summary>The warnings training logged to <see cref="Microsoft.ML.MLContext.Log"/> (dropped rows, extreme feature
    /// scales: see <see cref="TrainingDataLimits"/>); empty when there were none, and for models saved before it existed.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
