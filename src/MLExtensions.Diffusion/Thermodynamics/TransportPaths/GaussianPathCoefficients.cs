namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The kinetic-energy coefficients of Gaussian paths at one noise angle phi = atan2(sigma, m): for a path
/// x = m y + sigma eps moving with velocities (mdot, sigmadot), the probability-flow kinetic energy is
/// integral |nu|^2 P dx = mdot^2 A + 2 mdot sigmadot B + sigmadot^2 C (SPEC sections 1-2).
/// </summary>
/// <remarks>
/// With D = E[y | x] and epshat = (x - m D) / sigma the velocity is nu = mdot D + sigmadot epshat, so A = E|D|^2,
/// B = E&lt;D, epshat&gt; and C = E|epshat|^2. They depend on (m, sigma) only through sigma / m = tan(phi), because the
/// posterior of y given x depends only on x / m = y + (sigma / m) eps. (A, B; B, C) is a Gram matrix, hence positive
/// semi-definite.
/// </remarks>
/// <param name="A">E|D|^2, the coefficient of mdot^2.</param>
/// <param name="B">E&lt;D, epshat&gt;, the coefficient of 2 mdot sigmadot.</param>
/// <param name="C">E|epshat|^2, the coefficient of sigmadot^2.</param>
public readonly record struct GaussianPathCoefficients(double A, double B, double C)
{
    /// <summary>The kinetic energy mdot^2 A + 2 mdot sigmadot B + sigmadot^2 C of a path moving with these velocities.</summary>
    /// <param name="mDot">dm/dt.</param>
    /// <param name="sigmaDot">dsigma/dt.</param>
    /// <returns>The kinetic energy integral |nu|^2 P dx (non-negative up to rounding for a valid metric).</returns>
    public double KineticEnergy(double mDot, double sigmaDot) => mDot * mDot * A + 2 * mDot * sigmaDot * B + sigmaDot * sigmaDot * C;

    /// <summary>True when all three coefficients are finite, A &gt;= 0 and C &gt;= 0.</summary>
    internal bool IsValid => double.IsFinite(A) && double.IsFinite(B) && double.IsFinite(C) && A >= 0 && C >= 0;
}
