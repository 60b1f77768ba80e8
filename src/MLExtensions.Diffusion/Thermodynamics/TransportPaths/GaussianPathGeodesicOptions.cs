namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>Settings of <see cref="GaussianPathGeodesic.Fit"/>; the defaults suit smooth metrics.</summary>
public sealed class GaussianPathGeodesicOptions
{
    /// <summary>The number K of basis functions of ln a(phi) (see <see cref="GaussianPathGeodesic"/>); at least 1.
    /// Default 12.</summary>
    public int BasisFunctions { get; init; } = 12;

    /// <summary>The number of equal panels of [0, pi/2] in the angle quadrature (8 Gauss-Legendre points each, so the
    /// metric is evaluated 8 times this number); at least 2. Default 48.</summary>
    public int Panels { get; init; } = 48;

    /// <summary>Schedule knots per panel (evenly spaced in phi; the last knot is at phi = pi/2); at least 1. Default 4.</summary>
    public int KnotsPerPanel { get; init; } = 4;

    /// <summary>The duration tau of the fitted schedule; finite and positive. Default 1.</summary>
    public double Tau { get; init; } = 1.0;

    /// <summary>The relative end cut-off of the fitted <see cref="Schedules.TabulatedSchedule"/> (m = 0 at its last knot);
    /// in (0, 0.5). Reduced to half the last knot interval when larger. Default 1e-6.</summary>
    public double EndCutoff { get; init; } = 1e-6;

    /// <summary>The most quasi-Newton iterations; at least 1. Default 500.</summary>
    public int MaxIterations { get; init; } = 500;

    /// <summary>Convergence: the largest gradient component, relative to the path length, below which the minimiser
    /// stops; finite and positive. Default 1e-8.</summary>
    public double GradientTolerance { get; init; } = 1e-8;
}
