namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// A 1-D law with log-density, tail-accurate CDF and survival function, and quantiles at lower- or upper-tail levels:
/// what the exact 1-D speed-accuracy computation reads from a marginal P_t or a start law.
/// </summary>
internal interface ILaw1D
{
    /// <summary>ln of the density at x (negative infinity outside the support).</summary>
    double LogDensity(double x);

    /// <summary>The CDF F(x).</summary>
    double Cdf(double x);

    /// <summary>The survival function 1 - F(x), computed without cancellation where possible.</summary>
    double Survival(double x);

    /// <summary>The x with F(x) = level, or with 1 - F(x) = level when <paramref name="upper"/>.</summary>
    double Quantile(double level, bool upper);
}
