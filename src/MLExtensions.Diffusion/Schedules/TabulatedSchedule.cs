namespace MLExtensions.Diffusion.Schedules;

/// <summary>
/// A schedule given by samples (t_k, m_k, sigma_k) on a grid, interpolated by shape-preserving piecewise cubic Hermite
/// polynomials so that m, sigma and their derivatives are continuous (SPEC section 1, "tabulated / fitted").
/// </summary>
/// <remarks>
/// <para>Interpolation. m and sigma are interpolated separately, each by a C1 piecewise cubic Hermite interpolant with
/// knot slopes from the three-point (Bessel) formula, one-sided three-point formulas at the two ends, and Hyman's
/// monotonicity filter: the slope is set to 0 at a local extremum of the data and limited to 3 times the smaller
/// adjacent secant slope otherwise (Fritsch, Carlson, SIAM J. Numer. Anal. 17 (1980) 238; Hyman, SIAM J. Sci. Stat.
/// Comput. 4 (1983) 645). Each interpolant is therefore monotone wherever its data are, never overshoots, and is
/// third-order accurate for smooth strictly monotone data (derivatives second-order). Two knots give straight lines.</para>
/// <para>Validity. The knots must have sigma/m non-decreasing (T_t &gt;= 0). Between knots where m does not increase
/// and sigma does not decrease (all standard families) this carries over exactly to the interpolant. On any other
/// interval (e.g. sigma falling while m falls faster) the construction checks m sigmadot - sigma mdot &gt;= 0 at 32
/// interior points and rejects the table if it fails there; refine the grid in that case.</para>
/// <para>A last knot with m = 0 (cosine- or cond-OT-like data) is allowed; the schedule is then singular at tau and
/// <see cref="NoiseSchedule.MaxTime"/> = tau (1 - endCutoff). Evaluating outside [0, tau] throws.</para>
/// </remarks>
public sealed class TabulatedSchedule : NoiseSchedule
{
    private const int IntervalChecks = 32;

    private readonly double[] _t;
    private readonly double[] _m;
    private readonly double[] _s;
    private readonly double[] _dm;
    private readonly double[] _ds;
    private readonly double _maxTime;

    /// <summary>Creates a schedule from tabulated values.</summary>
    /// <param name="times">Knot times t_k: at least two, finite, strictly increasing, starting at exactly 0. The last is tau.</param>
    /// <param name="m">Signal scales m_k: finite, m_0 = 1 exactly, positive except possibly the last, which may be 0.</param>
    /// <param name="sigma">Noise scales sigma_k: finite, non-negative, sigma_0 = 0 exactly, with sigma_k / m_k non-decreasing
    /// (and sigma positive where m = 0).</param>
    /// <param name="endCutoff">Relative cut-off eps used only when the last m is 0: then MaxTime = tau (1 - eps), which must
    /// exceed the second-to-last knot. In (0, 0.5).</param>
    /// <exception cref="ArgumentException">The arrays have different lengths, fewer than two entries, a non-finite entry,
    /// times not strictly increasing or not starting at 0, m_0 != 1, sigma_0 != 0, m &lt;= 0 before the last knot, a negative
    /// sigma, or sigma/m decreasing (the message names the index); or the interpolated sigma/m decreases inside an interval.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="endCutoff"/> is out of range.</exception>
    public TabulatedSchedule(ReadOnlySpan<double> times, ReadOnlySpan<double> m, ReadOnlySpan<double> sigma, double endCutoff = 1e-3)
        : base(ValidTau(times, m, sigma))
    {
        int n = times.Length;
        ScheduleValidation.RequireOpenInterval(endCutoff, 0, 0.5, nameof(endCutoff));
        ScheduleValidation.RequireAllFinite(m, nameof(m));
        ScheduleValidation.RequireAllFinite(sigma, nameof(sigma));
        if (m[0] != 1.0)
            throw new ArgumentException($"m must start at exactly 1 (m_0 = 1), but m[0] = {m[0]}.", nameof(m));
        if (sigma[0] != 0.0)
            throw new ArgumentException($"sigma must start at exactly 0 (sigma_0 = 0), but sigma[0] = {sigma[0]}.", nameof(sigma));
        for (int i = 0; i < n; i++)
        {
            if (i < n - 1 ? !(m[i] > 0) : !(m[i] >= 0))
                throw new ArgumentException(
                    $"m must be positive before the last knot and non-negative at it, but m[{i}] = {m[i]}.", nameof(m));
            if (sigma[i] < 0)
                throw new ArgumentException($"sigma must be non-negative, but sigma[{i}] = {sigma[i]}.", nameof(sigma));
        }
        if (m[n - 1] == 0 && !(sigma[n - 1] > 0))
            throw new ArgumentException($"sigma must be positive where m = 0, but sigma[{n - 1}] = {sigma[n - 1]}.", nameof(sigma));
        ScheduleValidation.RequireNonDecreasingNoiseLevel(m, sigma, nameof(sigma));

        _t = times.ToArray();
        _m = m.ToArray();
        _s = sigma.ToArray();
        _dm = HermiteSlopes(_t, _m);
        _ds = HermiteSlopes(_t, _s);

        if (_m[n - 1] == 0)
        {
            _maxTime = Tau * (1 - endCutoff);
            if (!(_maxTime > _t[n - 2]))
                throw new ArgumentOutOfRangeException(nameof(endCutoff), endCutoff,
                    $"With m = 0 at the last knot, tau (1 - endCutoff) = {_maxTime} must exceed the second-to-last knot time {_t[n - 2]}.");
        }
        else
        {
            _maxTime = Tau;
        }
        EndCutoff = _m[n - 1] == 0 ? endCutoff : 0;
        RequestedEndCutoff = endCutoff;
        CheckInteriorTemperature();
    }

    /// <summary>The number of knots.</summary>
    public int Count => _t.Length;

    /// <summary>The knot times t_k, as given to the constructor.</summary>
    public ReadOnlySpan<double> KnotTimes => _t;

    /// <summary>The knot signal scales m_k, as given to the constructor.</summary>
    public ReadOnlySpan<double> KnotM => _m;

    /// <summary>The knot noise scales sigma_k, as given to the constructor.</summary>
    public ReadOnlySpan<double> KnotSigma => _s;

    /// <summary>The end cut-off passed to the constructor (kept so that the schedule can be rebuilt from its knots);
    /// <see cref="EndCutoff"/> is the one applied.</summary>
    public double RequestedEndCutoff { get; }

    /// <summary>The relative end cut-off applied (0 unless the last m is 0).</summary>
    public double EndCutoff { get; }

    /// <inheritdoc />
    public override string Name => "tabulated";

    /// <inheritdoc />
    public override double MaxTime => _maxTime;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is outside [0, tau] or NaN.</exception>
    protected override double MCore(double t) => Value(_m, _dm, t);

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is outside [0, tau] or NaN.</exception>
    protected override double SigmaCore(double t) => Value(_s, _ds, t);

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is outside [0, tau] or NaN.</exception>
    protected override double MDotCore(double t) => Derivative(_m, _dm, t);

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is outside [0, tau] or NaN.</exception>
    protected override double SigmaDotCore(double t) => Derivative(_s, _ds, t);

    private static double ValidTau(ReadOnlySpan<double> times, ReadOnlySpan<double> m, ReadOnlySpan<double> sigma)
    {
        if (times.Length < 2)
            throw new ArgumentException($"At least two knots are needed, but 'times' has {times.Length}.", nameof(times));
        if (m.Length != times.Length)
            throw new ArgumentException($"'m' has {m.Length} entries but 'times' has {times.Length}.", nameof(m));
        if (sigma.Length != times.Length)
            throw new ArgumentException($"'sigma' has {sigma.Length} entries but 'times' has {times.Length}.", nameof(sigma));
        ScheduleValidation.RequireAllFinite(times, nameof(times));
        if (times[0] != 0.0)
            throw new ArgumentException($"'times' must start at exactly 0, but times[0] = {times[0]}.", nameof(times));
        ScheduleValidation.RequireStrictlyIncreasing(times, nameof(times));
        return times[^1];
    }

    /// <summary>Knot slopes of the shape-preserving cubic Hermite interpolant (Bessel slopes, Hyman filter).</summary>
    private static double[] HermiteSlopes(double[] t, double[] y)
    {
        int n = t.Length;
        var d = new double[n];
        var delta = new double[n - 1];
        for (int k = 0; k < n - 1; k++) delta[k] = (y[k + 1] - y[k]) / (t[k + 1] - t[k]);
        if (n == 2)
        {
            d[0] = d[1] = delta[0];
            return d;
        }
        for (int k = 1; k < n - 1; k++)
        {
            double h0 = t[k] - t[k - 1], h1 = t[k + 1] - t[k];
            double a = delta[k - 1], b = delta[k];
            if (a * b <= 0) { d[k] = 0; continue; }
            double bessel = (h1 * a + h0 * b) / (h0 + h1);
            double limit = 3 * Math.Min(Math.Abs(a), Math.Abs(b));
            d[k] = Math.Sign(b) * Math.Min(Math.Abs(bessel), limit);
        }
        d[0] = EndSlope(t[1] - t[0], t[2] - t[1], delta[0], delta[1]);
        d[n - 1] = EndSlope(t[n - 1] - t[n - 2], t[n - 2] - t[n - 3], delta[n - 2], delta[n - 3]);
        return d;
    }

    /// <summary>One-sided three-point slope at an end knot, limited to keep the end interval monotone.</summary>
    private static double EndSlope(double hNear, double hFar, double deltaNear, double deltaFar)
    {
        double d = ((2 * hNear + hFar) * deltaNear - hNear * deltaFar) / (hNear + hFar);
        if (deltaNear == 0 || Math.Sign(d) != Math.Sign(deltaNear)) return 0;
        return Math.Abs(d) > 3 * Math.Abs(deltaNear) ? 3 * deltaNear : d;
    }

    private int Interval(double t)
    {
        if (!(t >= 0 && t <= Tau))
            throw new ArgumentOutOfRangeException(nameof(t), t, $"The time must lie in [0, {Tau}] for this tabulated schedule.");
        int k = Array.BinarySearch(_t, t);
        if (k < 0) k = ~k - 1;
        return Math.Min(k, _t.Length - 2);
    }

    private double Value(double[] y, double[] d, double t)
    {
        int k = Interval(t);
        double h = _t[k + 1] - _t[k];
        double s = (t - _t[k]) / h;
        double s2 = s * s, s3 = s2 * s;
        return (2 * s3 - 3 * s2 + 1) * y[k] + (s3 - 2 * s2 + s) * h * d[k] + (3 * s2 - 2 * s3) * y[k + 1] + (s3 - s2) * h * d[k + 1];
    }

    private double Derivative(double[] y, double[] d, double t)
    {
        int k = Interval(t);
        double h = _t[k + 1] - _t[k];
        double s = (t - _t[k]) / h;
        double s2 = s * s;
        return ((6 * s2 - 6 * s) * (y[k] - y[k + 1])) / h + (3 * s2 - 4 * s + 1) * d[k] + (3 * s2 - 2 * s) * d[k + 1];
    }

    /// <summary>
    /// On intervals where m increases or sigma decreases, checks m sigmadot - sigma mdot &gt;= 0 (d/dt(sigma/m) &gt;= 0)
    /// at interior points; elsewhere it holds by monotonicity of the two interpolants.
    /// </summary>
    private void CheckInteriorTemperature()
    {
        for (int k = 0; k < _t.Length - 1; k++)
        {
            if (_m[k + 1] <= _m[k] && _s[k + 1] >= _s[k]) continue;
            for (int j = 1; j < IntervalChecks; j++)
            {
                double t = _t[k] + (_t[k + 1] - _t[k]) * j / IntervalChecks;
                double a = M(t) * SigmaDot(t), b = Sigma(t) * MDot(t);
                if (a - b < -1e-12 * (Math.Abs(a) + Math.Abs(b)))
                    throw new ArgumentException(
                        $"The interpolated noise level sigma/m decreases inside the interval between knots {k} and {k + 1} "
                        + $"(at t = {t}), so T_t < 0 there; refine the grid.", "sigma");
            }
        }
    }
}
