using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>The Gaussian path of least kinetic cost found by <see cref="GaussianPathGeodesic.Fit"/>.</summary>
public sealed class GaussianPathGeodesicResult
{
    private readonly double[] _coefficients;

    internal GaussianPathGeodesicResult(TabulatedSchedule schedule, double pathLength, double tau, double variancePreservingLength,
        double condOtLength, double[] coefficients, int iterations, bool converged)
    {
        Schedule = schedule;
        PathLength = pathLength;
        Tau = tau;
        KineticCost = pathLength * pathLength / tau;
        VariancePreservingLength = variancePreservingLength;
        CondOtLength = condOtLength;
        _coefficients = coefficients;
        Iterations = iterations;
        Converged = converged;
    }

    /// <summary>The fitted path re-timed at constant speed on [0, tau]: dense knots, m = 0 at the last knot.</summary>
    public TabulatedSchedule Schedule { get; }

    /// <summary>The path length L = integral sqrt(mdot^2 A + 2 mdot sigmadot B + sigmadot^2 C) under the metric.</summary>
    public double PathLength { get; }

    /// <summary>The duration tau of <see cref="Schedule"/>.</summary>
    public double Tau { get; }

    /// <summary>The kinetic cost c2 = L^2 / tau of the constant-speed path (the least c2 of any timing of this path).</summary>
    public double KineticCost { get; }

    /// <summary>The length of the variance-preserving arc a = 1 (the path of cosine and of every VP schedule); its best
    /// timing costs c2 = this squared over tau.</summary>
    public double VariancePreservingLength { get; }

    /// <summary>The length of the straight line m + sigma = 1 (cond-OT); its best timing costs this squared over tau.</summary>
    public double CondOtLength { get; }

    /// <summary>The fitted coefficients c_k of ln a(phi) (see <see cref="GaussianPathGeodesic"/>).</summary>
    public IReadOnlyList<double> Coefficients => _coefficients;

    /// <summary>The quasi-Newton iterations used.</summary>
    public int Iterations { get; }

    /// <summary>Whether the minimiser converged: the gradient tolerance was met, or steps stopped lowering the length
    /// beyond rounding. False when it stopped at the iteration limit or no step along the search direction lowered the
    /// length; the path is then still the best found.</summary>
    public bool Converged { get; }

    /// <summary>The radius a(phi) = sqrt(m^2 + sigma^2) of the fitted path at the angle <paramref name="phi"/>.</summary>
    /// <param name="phi">The angle atan2(sigma, m), in [0, pi/2].</param>
    /// <returns>a(phi) &gt; 0; 1 at both ends.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="phi"/> is NaN or outside [0, pi/2].</exception>
    public double Radius(double phi)
    {
        if (!(phi >= 0 && phi <= GaussianPathGeodesic.HalfPi))
            throw new ArgumentOutOfRangeException(nameof(phi), phi, "The angle phi must lie in [0, pi/2].");
        return Math.Exp(GaussianPathGeodesic.LogRadius(_coefficients, phi, out _));
    }
}
