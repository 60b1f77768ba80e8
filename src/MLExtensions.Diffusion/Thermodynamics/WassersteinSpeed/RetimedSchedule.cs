using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// A schedule re-parametrised in time so that a given speed is constant: R(t') = B(s(t')) with
/// l(s(t')) = L t' / tau', where l(t) = integral_0^t v is the length along the base schedule B (SPEC section 4,
/// "time reparametrisation"). Built by <see cref="ScheduleRetiming.ConstantSpeed"/>.
/// </summary>
/// <remarks>
/// <para>The length l is tabulated at graded knots of [0, B.MaxTime] (the base schedule's regular range) and
/// interpolated by the cubic Hermite polynomial with the exact speeds as knot slopes (fourth-order accurate); s(t') is
/// the inverse of that interpolant (safeguarded Newton), and ds/dt' = (L / tau') / l'(s) its exact derivative, so the
/// chain rule mdot_R = mdot_B(s) s', sigmadot_R = sigmadot_B(s) s' is consistent with m_R and sigma_R.</para>
/// <para>Where the speed vanishes (e.g. v2 = 0 at t = 0 for cosine) ds/dt' is infinite and so are the derivatives
/// there (like sigmadot of the Gaussian OT schedule at t = 0); evaluate inside the interval. The retimed schedule runs
/// over [0, tau'] and ends at the base schedule's MaxTime, where m &gt; 0: its <see cref="NoiseSchedule.MaxTime"/> is tau'.</para>
/// <para>Immutable and thread-safe when the base schedule is.</para>
/// </remarks>
public sealed class RetimedSchedule : NoiseSchedule
{
    private readonly double[] _t;
    private readonly double[] _l;
    private readonly double[] _v;

    internal RetimedSchedule(NoiseSchedule baseSchedule, double tau, double[] knots, double[] length, double[] speed) : base(tau)
    {
        Base = baseSchedule;
        _t = knots;
        _l = length;
        _v = speed;
        PathLength = length[^1];
    }

    /// <summary>The base schedule B.</summary>
    public NoiseSchedule Base { get; }

    /// <summary>The length L of the base schedule over [0, B.MaxTime] in the speed used.</summary>
    public double PathLength { get; }

    /// <summary>The end of the tabulated base range (the base MaxTime when built).</summary>
    internal double BaseEnd => _t[^1];

    /// <summary>The constant speed L / tau' of the retimed schedule.</summary>
    public double Speed => PathLength / Tau;

    /// <inheritdoc />
    public override string Name => $"retimed-{Base.Name}";

    /// <summary>The base time s(t') for a retimed time t' in [0, tau'].</summary>
    /// <param name="t">Retimed time t'.</param>
    /// <returns>s(t') in [0, B.MaxTime].</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is NaN or outside [0, tau'].</exception>
    public double BaseTime(double t) => Invert(CheckTime(t)).S;

    /// <summary>The retimed time t' = tau' l(s) / L of a base time s in [0, B.MaxTime].</summary>
    /// <param name="baseTime">Base time s.</param>
    /// <returns>t' in [0, tau'].</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="baseTime"/> is NaN or outside [0, B.MaxTime].</exception>
    public double RetimedTime(double baseTime)
    {
        if (!(baseTime >= 0 && baseTime <= _t[^1]))
            throw new ArgumentOutOfRangeException(nameof(baseTime), baseTime, $"The base time must lie in [0, {_t[^1]}].");
        int k = Interval(baseTime);
        return Tau * Length(k, baseTime) / PathLength;
    }

    /// <inheritdoc />
    protected override double MCore(double t) => Base.M(Invert(t).S);

    /// <inheritdoc />
    protected override double SigmaCore(double t) => Base.Sigma(Invert(t).S);

    /// <inheritdoc />
    protected override double MDotCore(double t)
    {
        var (s, rate) = Invert(t);
        double mDot = Base.MDot(s);
        return mDot == 0 ? 0 : mDot * rate;
    }

    /// <inheritdoc />
    protected override double SigmaDotCore(double t)
    {
        var (s, rate) = Invert(t);
        double sDot = Base.SigmaDot(s);
        return sDot == 0 ? 0 : sDot * rate;
    }

    /// <inheritdoc />
    protected override double TemperatureCore(double t)
    {
        var (s, rate) = Invert(t);
        double temperature = Base.Temperature(s);
        return temperature == 0 ? 0 : temperature * rate;
    }

    /// <inheritdoc />
    protected override double DriftRateCore(double t)
    {
        var (s, rate) = Invert(t);
        double a = Base.DriftRate(s);
        return a == 0 ? 0 : a * rate;
    }

    /// <inheritdoc />
    protected override double LogSnrCore(double t) => Base.LogSnr(Invert(t).S);

    private int Interval(double s)
    {
        int k = Array.BinarySearch(_t, s);
        if (k < 0) k = ~k - 1;
        return Math.Clamp(k, 0, _t.Length - 2);
    }

    private double Length(int k, double s)
    {
        double h = _t[k + 1] - _t[k], u = (s - _t[k]) / h, u2 = u * u, u3 = u2 * u;
        return (2 * u3 - 3 * u2 + 1) * _l[k] + (u3 - 2 * u2 + u) * h * _v[k] + (3 * u2 - 2 * u3) * _l[k + 1] + (u3 - u2) * h * _v[k + 1];
    }

    private double LengthDerivative(int k, double s)
    {
        double h = _t[k + 1] - _t[k], u = (s - _t[k]) / h, u2 = u * u;
        return (6 * u2 - 6 * u) * (_l[k] - _l[k + 1]) / h + (3 * u2 - 4 * u + 1) * _v[k] + (3 * u2 - 2 * u) * _v[k + 1];
    }

    /// <summary>s(t') and ds/dt' = (L / tau') / l'(s) for a time already checked.</summary>
    private (double S, double Rate) Invert(double t)
    {
        double target = PathLength * t / Tau;
        int k = Array.BinarySearch(_l, target);
        double s;
        if (k >= 0)
        {
            // Exact knot hit; with repeated lengths (zero speed) take the first.
            while (k > 0 && _l[k - 1] == target) k--;
            s = _t[k];
            k = Math.Min(k, _t.Length - 2);
        }
        else
        {
            k = Math.Clamp(~k - 1, 0, _t.Length - 2);
            double lo = _t[k], hi = _t[k + 1];
            s = lo + (hi - lo) * (target - _l[k]) / (_l[k + 1] - _l[k]);
            for (int it = 0; it < 100; it++)
            {
                double f = Length(k, s) - target;
                if (f > 0) hi = s; else lo = s;
                double dl = LengthDerivative(k, s);
                double next = dl > 0 ? s - f / dl : double.NaN;
                if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
                if (Math.Abs(next - s) <= 1e-15 * Math.Max(1, Math.Abs(s)) || hi - lo <= 1e-15 * Math.Max(1, Math.Abs(s)))
                {
                    s = next;
                    break;
                }
                s = next;
            }
        }
        double derivative = LengthDerivative(k, s);
        double rate = derivative > 0 ? Speed / derivative : double.PositiveInfinity;
        return (s, rate);
    }
}
