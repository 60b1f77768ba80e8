namespace MLExtensions.Diffusion.MLNet;

/// <summary>Where <see cref="ScheduleOptimizationEstimator"/> takes the Gaussian-path metric (kinetic costs, equal-length
/// grids, the fitted path) from.</summary>
public enum PathMetricSource
{
    /// <summary>Monte Carlo with the model's own denoiser on data rows (<see cref="Thermodynamics.DenoiserPathMetric"/>):
    /// the metric of the law the network learned.</summary>
    Denoiser,

    /// <summary>The closed form for a Gaussian with the data's mean and covariance
    /// (<see cref="Thermodynamics.GaussianDataPathMetric"/>): exact for Gaussian data, where the fitted path is the Gaussian
    /// optimal-transport path; no network evaluations.</summary>
    GaussianMoments,
}
