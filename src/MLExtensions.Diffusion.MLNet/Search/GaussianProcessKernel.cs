namespace MLExtensions.Diffusion.Search;

/// <summary>The stationary, isotropic covariance of a <see cref="GaussianProcessTuner"/>'s surrogate on the unit cube (r = |x - x'| / length scale).</summary>
public enum GaussianProcessKernel
{
    /// <summary>Matérn 5/2: (1 + √5 r + 5 r² / 3) exp(-√5 r); twice differentiable samples, the usual choice for tuning.</summary>
    Matern52,

    /// <summary>Squared exponential: exp(-r² / 2); infinitely smooth samples.</summary>
    SquaredExponential,
}
