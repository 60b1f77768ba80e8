namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// A time-dependent velocity field nu_t(x) whose flow transports the marginals P_t of a forward process:
/// dP_t/dt = -div(nu_t P_t) (SPEC section 1). Running dx/dt = nu_t(x) backwards from t = <see cref="EndTime"/> carries
/// P_end to the data law q.
/// </summary>
/// <remarks>
/// Gaussian conditional paths give <see cref="ScheduleVelocityField"/>; the optimal-transport path and forward
/// processes with non-conservative forces implement this interface directly. Rows are row-major.
/// </remarks>
public interface IVelocityField
{
    /// <summary>The number of features per row, d.</summary>
    int Dimension { get; }

    /// <summary>The largest time at which the field may be evaluated (the regular end of the path).</summary>
    double EndTime { get; }

    /// <summary>Writes nu_t(x) for every row of <paramref name="x"/>.</summary>
    /// <param name="x">Rows, row-major; length a positive multiple of <see cref="Dimension"/>.</param>
    /// <param name="t">Time in [0, <see cref="EndTime"/>]; an implementation may exclude t = 0 where the field is singular.</param>
    /// <param name="velocity">Destination, same length as <paramref name="x"/>; must not overlap it.</param>
    /// <exception cref="ArgumentException">A length is wrong.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is outside [0, <see cref="EndTime"/>].</exception>
    void Velocity(ReadOnlySpan<double> x, double t, Span<double> velocity);
}
