using MLExtensions.Diffusion.Training;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Models;

/// <summary>What a <c>ScoreMatchingEstimator.Fit</c> run saw and did.</summary>
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
    /// <summary>The held-out loss record of a run with a validation split (<see cref="ScoreMatchingOptions.ValidationFraction"/>):
    /// held-out rows, best step and loss (the weights the model keeps), steps taken, whether training stopped early; null
    /// without a split.</summary>
    public ValidationSummary? Validation { get; init; }

    /// <summary>The warnings training logged to <c>MLContext.Log</c> (dropped rows, extreme feature
    /// scales: see <c>TrainingDataLimits</c>); empty when there were none, and for models saved before it existed.
    /// Compared by content in the record's equality.</summary>
    public IReadOnlyList<string> Warnings
    {
        get => _warnings;
        init => _warnings = new WarningList([.. value ?? []]);
    }

    private readonly IReadOnlyList<string> _warnings = new WarningList([]);

    /// <summary>A read-only list equal to another with the same strings in the same order.</summary>
    private sealed class WarningList(string[] items) : System.Collections.ObjectModel.ReadOnlyCollection<string>(items)
    {
        public override bool Equals(object? obj) => obj is WarningList other && this.SequenceEqual(other, StringComparer.Ordinal);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            foreach (string item in this) hash.Add(item, StringComparer.Ordinal);
            return hash.ToHashCode();
        }

        public override string ToString() => $"[{string.Join("; ", this)}]";
    }
}
