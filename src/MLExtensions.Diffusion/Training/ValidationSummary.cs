namespace MLExtensions.Diffusion.Training;

/// <summary>What the held-out denoising loss did during a run with a validation split
/// (<see cref="MLExtensions.Diffusion.Models.ScoreMatchingOptions.ValidationFraction"/>).</summary>
/// <param name="Rows">Held-out rows.</param>
/// <param name="BestStep">The step whose EMA weights had the lowest held-out loss: the weights the model keeps.</param>
/// <param name="BestLoss">That loss.</param>
/// <param name="LastLoss">The held-out loss at the last evaluation.</param>
/// <param name="StepsTaken">Optimiser steps taken (fewer than planned when training stopped early).</param>
/// <param name="StoppedEarly">Whether the patience ran out before the planned steps.</param>
public sealed record ValidationSummary(int Rows, int BestStep, double BestLoss, double LastLoss, int StepsTaken, bool StoppedEarly);
