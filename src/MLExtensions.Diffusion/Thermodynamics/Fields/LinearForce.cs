namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// A time-dependent linear force f_t(x) = A_t x: writes the d x d matrix A_t, row-major, into <paramref name="matrix"/>.
/// </summary>
/// <param name="t">The time.</param>
/// <param name="matrix">Destination of length d * d.</param>
public delegate void LinearForce(double t, Span<double> matrix);
