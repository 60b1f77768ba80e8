using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// Entropy production of the forward process of a (schedule, data) pair (SPEC section 2): the rate
/// Sdot(t) = (1 / T_t) integral |nu_t|^2 P_t dx with its system part Sdot_sys = -integral nu . grad ln P  P dx and bath
/// part Sdot_bath = integral f . nu P dx / T_t, the kinetic energy T_t Sdot, and their time integrals: the kinetic cost
/// c2 = integral T Sdot dt and the total entropy production S_tot = integral Sdot dt.
/// </summary>
/// <remarks>
/// <para>Velocity: Monte Carlo uses nu_t = mdot E[y | x] + sigmadot E[eps | x] (the conversion
/// <see cref="PredictionConversions.VelocityFromX0"/> behind <see cref="ScheduleVelocityField"/>) and the score by Tweedie
/// (<see cref="PredictionConversions.ScoreFromX0"/>), so it works with any denoiser; the one-dimensional quadrature uses
/// the equal form nu_t = f_t - T_t grad ln P_t with the analytic score, which keeps full relative accuracy as t -&gt; 0. The
/// drift f_t(x) = (mdot / m) x and T_t come from the schedule.
/// Ikeda, Uda, Okanohara, Ito, arXiv:2407.04495, sections II-III.</para>
/// <para>Exact (one dimension): at each t the three x-integrals are computed by the trapezoid rule on a uniform grid over
/// the range of <see cref="MarginalGrid"/>, doubling the points (1025 up to 131073) until they change by less than
/// 1e-10 relative; for smooth, rapidly decaying integrands the rule converges geometrically.</para>
/// <para>Monte Carlo (any dimension): x_t = m y + sigma eps with n pairs (y, eps) drawn once and reused at every time
/// (common random numbers). Each pair has its own time integral, so the standard error of c2 and S_tot is the sample
/// standard deviation of those per-pair integrals over sqrt(n): exact, not a sum over times.</para>
/// <para>Time integrals use a graded composite Gauss-Legendre rule (<see cref="GradedTimeQuadrature"/>) that refines
/// geometrically toward both ends and leaves out end slivers of relative width <c>endCutoff</c>; the result states the
/// interval actually integrated. Where Sdot is singular: with T_t -&gt; 0 at t = 0 (cosine, VE, cond-OT) Sdot = kinetic / T is
/// 0/0; it stays finite when mdot_0 = 0 (cosine, VE: the kinetic energy vanishes like t^2) but diverges like 1/t when
/// mdot_0 != 0 (cond-OT), where S_tot from t = 0 is infinite and only c2 is meaningful
/// (<see cref="EntropyProductionIntegral.DivergesAtStart"/>). At the singular end of cosine and cond-OT (m -&gt; 0) T_t
/// grows like 1/(tau - t) while the kinetic energy stays finite, so Sdot -&gt; 0; integrate up to MaxTime.</para>
/// </remarks>
public static class EntropyProduction
{
    /// <summary>Default relative width of the two end slivers left out of time integrals.</summary>
    public const double DefaultEndCutoff = 1e-9;

    private const double RelativeTolerance = 1e-10;

    /// <summary>The exact entropy production rate at time t of one-dimensional data, by quadrature over x.</summary>
    /// <param name="schedule">The schedule.</param>
    /// <param name="density">The one-dimensional data law with its noised marginals.</param>
    /// <param name="t">Time in (0, MaxTime].</param>
    /// <returns>The rate and its parts (standard errors 0).</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="density"/> is not one-dimensional.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is NaN or outside (0, MaxTime].</exception>
    public static EntropyProductionRate Rate(NoiseSchedule schedule, IMarginalDensity density, double t)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        var grid = MarginalGrid.For(density, nameof(density));
        CheckTime(schedule, t);
        return new QuadratureEngine(schedule, density, grid).Rate(t);
    }

    /// <summary>Exact time integrals (c2, S_tot and parts) for one-dimensional data, quadrature in x and in t.</summary>
    /// <param name="schedule">The schedule.</param>
    /// <param name="density">The one-dimensional data law with its noised marginals.</param>
    /// <param name="tStart">Start of the interval, in [0, MaxTime).</param>
    /// <param name="tEnd">End of the interval, in (tStart, MaxTime]; defaults to <see cref="NoiseSchedule.MaxTime"/>.</param>
    /// <param name="endCutoff">Relative width of the end slivers left out, in (0, 0.01].</param>
    /// <returns>The integrals, the integrated interval and the rates at the nodes.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="density"/> is not one-dimensional.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The interval or the cut-off is out of range or NaN.</exception>
    public static EntropyProductionIntegral Integrate(NoiseSchedule schedule, IMarginalDensity density, double tStart = 0, double? tEnd = null, double endCutoff = DefaultEndCutoff)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        var grid = MarginalGrid.For(density, nameof(density));
        double end = tEnd ?? schedule.MaxTime;
        GradedTimeQuadrature.Validate(tStart, end, schedule.MaxTime, endCutoff, schedule.Name);
        var rule = GradedTimeQuadrature.Create(tStart, end, endCutoff);
        var engine = new QuadratureEngine(schedule, density, grid);
        var rates = new EntropyProductionRate[rule.Nodes.Length];
        double c2 = 0, stot = 0, sys = 0, bath = 0;
        for (int k = 0; k < rates.Length; k++)
        {
            var r = engine.Rate(rule.Nodes[k]);
            rates[k] = r;
            double w = rule.Weights[k];
            c2 += w * r.KineticEnergy;
            stot += w * r.Rate;
            sys += w * r.SystemRate;
            bath += w * r.BathRate;
        }
        return new EntropyProductionIntegral(tStart, end, rule.Lower, rule.Upper, c2, 0, stot, 0, sys, bath,
            DivergesAt(schedule, tStart), rates, rule.Weights);
    }

    /// <summary>Monte Carlo entropy production rate at time t, with data drawn from the density's data law.</summary>
    /// <remarks>
    /// <para>At t = 0 (sigma = 0) the rate is the limit t -&gt; 0: nu_0(x) = (mdot_0 / m_0) x - T_0 grad ln q(x) with the
    /// data score from <see cref="IMarginalDensity.Score"/> at sigma = 0 (Tweedie's E[eps | x] = -sigma grad ln P_t tends
    /// to 0, while sigmadot E[eps | x] tends to -T_0 grad ln q, T_0 = lim sigma sigmadot). For Gaussian data
    /// N(mu0, s0^2 I) this gives the closed form mdot_0^2 |mu0|^2 + d ((mdot_0 s0^2 + T_0) / s0)^2 (SPEC section 8 at t = 0).
    /// Sdot = kinetic / T_0 is +infinity where T_0 = 0 and the kinetic energy is positive (cond-OT), 0 where both vanish.</para>
    /// <para>The draws come from <paramref name="random"/>; the overload with a seed, or the one with fixed pairs, makes
    /// repeated calls (e.g. a speed function evaluated at many t) use the same samples.</para>
    /// </remarks>
    /// <param name="schedule">The schedule.</param>
    /// <param name="density">The data law (any dimension); supplies y ~ q and E[y | x].</param>
    /// <param name="t">Time in [0, MaxTime].</param>
    /// <param name="samples">Number of pairs (y, eps); at least 2.</param>
    /// <param name="random">The random source.</param>
    /// <returns>Sample means and standard errors.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is out of range or <paramref name="samples"/> &lt; 2.</exception>
    public static EntropyProductionRate MonteCarloRate(NoiseSchedule schedule, IMarginalDensity density, double t, int samples, Random random)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        CheckTimeFromZero(schedule, t);
        return MonteCarloEngine.FromDensity(schedule, density, samples, random).Rate(t, null, 0);
    }

    /// <summary>
    /// Monte Carlo entropy production rate at time t with the pairs (y, eps) drawn from <c>new Random(seed)</c>: two calls
    /// with the same seed use the same samples and agree exactly. See
    /// <see cref="MonteCarloRate(NoiseSchedule, IMarginalDensity, double, int, Random)"/> (also for t = 0).
    /// </summary>
    /// <param name="schedule">The schedule.</param>
    /// <param name="density">The data law (any dimension); supplies y ~ q and E[y | x].</param>
    /// <param name="t">Time in [0, MaxTime].</param>
    /// <param name="samples">Number of pairs (y, eps); at least 2.</param>
    /// <param name="seed">Seed of the random source.</param>
    /// <returns>Sample means and standard errors.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is out of range or <paramref name="samples"/> &lt; 2.</exception>
    public static EntropyProductionRate MonteCarloRate(NoiseSchedule schedule, IMarginalDensity density, double t, int samples, int seed)
        => MonteCarloRate(schedule, density, t, samples, new Random(seed));

    /// <summary>Monte Carlo entropy production rate at time t, with y resampled from data rows and E[y | x] from any denoiser.</summary>
    /// <remarks>At t = 0 see <see cref="MonteCarloRate(NoiseSchedule, IDenoiser, ReadOnlySpan{double}, ReadOnlySpan{double}, double)"/>.</remarks>
    /// <param name="schedule">The schedule.</param>
    /// <param name="denoiser">The denoiser supplying E[y | x] (exact or learned).</param>
    /// <param name="data">Data rows, row-major, a positive whole number of rows of the denoiser's dimension; finite.</param>
    /// <param name="t">Time in [0, MaxTime].</param>
    /// <param name="samples">Number of pairs (y, eps); at least 2.</param>
    /// <param name="random">The random source.</param>
    /// <returns>Sample means and standard errors.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> is empty, mis-sized or not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is out of range (including t = 0 with T_0 &gt; 0 for a
    /// denoiser that is not an <see cref="IMarginalDensity"/>) or <paramref name="samples"/> &lt; 2.</exception>
    public static EntropyProductionRate MonteCarloRate(NoiseSchedule schedule, IDenoiser denoiser, ReadOnlySpan<double> data, double t, int samples, Random random)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        CheckTimeFromZero(schedule, t);
        return MonteCarloEngine.FromData(schedule, denoiser, data, samples, random).Rate(t, null, 0);
    }

    /// <summary>
    /// As <see cref="MonteCarloRate(NoiseSchedule, IDenoiser, ReadOnlySpan{double}, double, int, Random)"/> with the random
    /// source <c>new Random(seed)</c>: two calls with the same seed agree exactly.
    /// </summary>
    /// <param name="schedule">The schedule.</param>
    /// <param name="denoiser">The denoiser supplying E[y | x] (exact or learned).</param>
    /// <param name="data">Data rows, row-major, a positive whole number of rows of the denoiser's dimension; finite.</param>
    /// <param name="t">Time in [0, MaxTime].</param>
    /// <param name="samples">Number of pairs (y, eps); at least 2.</param>
    /// <param name="seed">Seed of the random source.</param>
    /// <returns>Sample means and standard errors.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> is empty, mis-sized or not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is out of range (including t = 0 with T_0 &gt; 0 for a
    /// denoiser that is not an <see cref="IMarginalDensity"/>) or <paramref name="samples"/> &lt; 2.</exception>
    public static EntropyProductionRate MonteCarloRate(NoiseSchedule schedule, IDenoiser denoiser, ReadOnlySpan<double> data, double t, int samples, int seed)
        => MonteCarloRate(schedule, denoiser, data, t, samples, new Random(seed));

    /// <summary>
    /// Monte Carlo entropy production rate at time t over caller-fixed pairs: x_i = m_t y_i + sigma_t eps_i with the i-th row
    /// of <paramref name="data"/> and of <paramref name="noise"/>. Nothing is random, so the same pairs at different t give
    /// common random numbers.
    /// </summary>
    /// <remarks>
    /// At t = 0 (sigma = 0) the velocity is the limit nu_0(x) = (mdot_0 / m_0) x - T_0 grad ln q(x). The score grad ln q
    /// is read from the denoiser when it is an <see cref="IMarginalDensity"/>. A plain denoiser gives no score at sigma = 0
    /// (Tweedie's formula is 0/0 there): it is accepted only where T_0 = 0 (cosine, cond-OT, VE), where nu_0 = (mdot_0 / m_0) x
    /// needs no score and the system part is its expectation -E[nu_0 . grad ln q] = d mdot_0 / m_0 (integration by parts),
    /// with standard error 0.
    /// </remarks>
    /// <param name="schedule">The schedule.</param>
    /// <param name="denoiser">The denoiser supplying E[y | x] (exact or learned).</param>
    /// <param name="data">The rows y_i, row-major, at least two rows of the denoiser's dimension; finite.</param>
    /// <param name="noise">The rows eps_i, same length as <paramref name="data"/>; finite.</param>
    /// <param name="t">Time in [0, MaxTime].</param>
    /// <returns>Sample means and standard errors over the pairs.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> or <paramref name="noise"/> is mis-sized (fewer than two
    /// rows, not whole rows, lengths differ) or not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is NaN or outside [0, MaxTime], or t = 0 with
    /// T_0 &gt; 0 for a denoiser that is not an <see cref="IMarginalDensity"/>.</exception>
    public static EntropyProductionRate MonteCarloRate(NoiseSchedule schedule, IDenoiser denoiser, ReadOnlySpan<double> data, ReadOnlySpan<double> noise, double t)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        CheckTimeFromZero(schedule, t);
        return MonteCarloEngine.FromPairs(schedule, denoiser, data, noise).Rate(t, null, 0);
    }

    /// <summary>Monte Carlo time integrals (c2, S_tot and parts, with standard errors), data drawn from the density's data law.</summary>
    /// <param name="schedule">The schedule.</param>
    /// <param name="density">The data law (any dimension).</param>
    /// <param name="samples">Number of pairs (y, eps), reused at every time; at least 2.</param>
    /// <param name="random">The random source.</param>
    /// <param name="tStart">Start of the interval, in [0, MaxTime).</param>
    /// <param name="tEnd">End of the interval, in (tStart, MaxTime]; defaults to MaxTime.</param>
    /// <param name="endCutoff">Relative width of the end slivers left out, in (0, 0.01].</param>
    /// <returns>The integrals with standard errors.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range or NaN.</exception>
    public static EntropyProductionIntegral MonteCarloIntegrate(NoiseSchedule schedule, IMarginalDensity density, int samples, Random random,
        double tStart = 0, double? tEnd = null, double endCutoff = DefaultEndCutoff)
        => MonteCarloEngine.FromDensity(schedule, density, samples, random).Integrate(tStart, tEnd, endCutoff);

    /// <summary>Monte Carlo time integrals with y resampled from data rows and E[y | x] from any denoiser.</summary>
    /// <param name="schedule">The schedule.</param>
    /// <param name="denoiser">The denoiser supplying E[y | x].</param>
    /// <param name="data">Data rows, row-major; finite, a positive whole number of rows.</param>
    /// <param name="samples">Number of pairs (y, eps), reused at every time; at least 2.</param>
    /// <param name="random">The random source.</param>
    /// <param name="tStart">Start of the interval, in [0, MaxTime).</param>
    /// <param name="tEnd">End of the interval, in (tStart, MaxTime]; defaults to MaxTime.</param>
    /// <param name="endCutoff">Relative width of the end slivers left out, in (0, 0.01].</param>
    /// <returns>The integrals with standard errors.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> is empty, mis-sized or not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range or NaN.</exception>
    public static EntropyProductionIntegral MonteCarloIntegrate(NoiseSchedule schedule, IDenoiser denoiser, ReadOnlySpan<double> data, int samples, Random random,
        double tStart = 0, double? tEnd = null, double endCutoff = DefaultEndCutoff)
        => MonteCarloEngine.FromData(schedule, denoiser, data, samples, random).Integrate(tStart, tEnd, endCutoff);

    private static void CheckTime(NoiseSchedule schedule, double t)
    {
        if (!(t > 0 && t <= schedule.MaxTime))
            throw new ArgumentOutOfRangeException(nameof(t), t, $"The time must lie in (0, {schedule.MaxTime}] (MaxTime of '{schedule.Name}'): nu is undefined at sigma = 0.");
    }

    private static void CheckTimeFromZero(NoiseSchedule schedule, double t)
    {
        if (!(t >= 0 && t <= schedule.MaxTime))
            throw new ArgumentOutOfRangeException(nameof(t), t, $"The time must lie in [0, {schedule.MaxTime}] (MaxTime of '{schedule.Name}').");
    }

    private static bool DivergesAt(NoiseSchedule schedule, double t) => schedule.Temperature(t) == 0 && schedule.DriftRate(t) != 0;

    /// <summary>Sdot = kinetic / T with the limits at T = 0 (+infinity, or 0 when the kinetic energy is 0 too).</summary>
    private static double Ratio(double kinetic, double temperature)
        => temperature != 0 ? kinetic / temperature : kinetic == 0 ? 0 : double.PositiveInfinity;

    private sealed class QuadratureEngine(NoiseSchedule schedule, IMarginalDensity density, MarginalGrid grid)
    {
        private double[] _x = [], _logP = [], _score = [], _nu = [];

        public EntropyProductionRate Rate(double t)
        {
            double m = schedule.M(t), sigma = schedule.Sigma(t), temperature = schedule.Temperature(t), a = schedule.DriftRate(t);
            var (lo, hi) = grid.Range(m, sigma);
            double kinetic = 0, sys = 0, force = 0;
            for (int n = MarginalGrid.MinPoints; n <= MarginalGrid.MaxPoints; n = 2 * n - 1)
            {
                if (_x.Length < n) { _x = new double[n]; _logP = new double[n]; _score = new double[n]; _nu = new double[n]; }
                Span<double> x = _x.AsSpan(0, n), logP = _logP.AsSpan(0, n), score = _score.AsSpan(0, n), nu = _nu.AsSpan(0, n);
                MarginalGrid.Fill(lo, hi, x);
                density.LogDensity(x, m, sigma, logP);
                density.Score(x, m, sigma, score);
                // nu = f - T s (SPEC section 1) from the analytic score: the same field as ScheduleVelocityField, but
                // without the cancellation x - m E[y | x] = O(sigma^2) that limits its relative accuracy as t -> 0.
                for (int i = 0; i < n; i++) nu[i] = a * x[i] - temperature * score[i];
                double mass = 0, k = 0, s = 0, f = 0;
                for (int i = 0; i < n; i++)
                {
                    double p = Math.Exp(logP[i]);
                    if (p == 0) continue;
                    mass += p;
                    k += nu[i] * nu[i] * p;
                    s -= nu[i] * score[i] * p;
                    f += a * x[i] * nu[i] * p;
                }
                k /= mass; s /= mass; f /= mass;
                double scale = Math.Abs(k) + Math.Abs(s) + Math.Abs(f) + 1e-300;
                bool converged = n > MarginalGrid.MinPoints
                    && Math.Abs(k - kinetic) <= RelativeTolerance * scale
                    && Math.Abs(s - sys) <= RelativeTolerance * scale
                    && Math.Abs(f - force) <= RelativeTolerance * scale;
                kinetic = k; sys = s; force = f;
                if (converged) break;
            }
            double rate = Ratio(kinetic, temperature);
            double bath = temperature != 0 ? force / temperature : rate - sys;
            return new EntropyProductionRate(t, temperature, kinetic, 0, rate, 0, sys, 0, bath, 0, 0);
        }
    }

    private sealed class MonteCarloEngine
    {
        private readonly NoiseSchedule _schedule;
        private readonly IDenoiser _denoiser;
        private readonly int _d, _n;
        private readonly double[] _y, _eps, _x, _x0, _nu, _score, _k, _sys, _bath;

        private MonteCarloEngine(NoiseSchedule schedule, IDenoiser denoiser, int samples)
        {
            _schedule = schedule;
            _denoiser = denoiser;
            _d = denoiser.Dimension;
            _n = samples;
            int len = samples * _d;
            _y = new double[len]; _eps = new double[len]; _x = new double[len]; _x0 = new double[len]; _nu = new double[len]; _score = new double[len];
            _k = new double[samples]; _sys = new double[samples]; _bath = new double[samples];
        }

        public static MonteCarloEngine FromDensity(NoiseSchedule schedule, IMarginalDensity density, int samples, Random random)
        {
            Check(schedule, density, samples, random);
            var e = new MonteCarloEngine(schedule, density, samples);
            density.SampleData(random, e._y);
            Randomness.StandardNormal.Fill(random, e._eps);
            return e;
        }

        public static MonteCarloEngine FromPairs(NoiseSchedule schedule, IDenoiser denoiser, ReadOnlySpan<double> data, ReadOnlySpan<double> noise)
        {
            ArgumentNullException.ThrowIfNull(schedule);
            ArgumentNullException.ThrowIfNull(denoiser);
            int d = denoiser.Dimension;
            if (data.Length < 2 * d || data.Length % d != 0)
                throw new ArgumentException($"'data' must hold at least two whole rows of dimension {d}, but has length {data.Length}.", nameof(data));
            if (noise.Length != data.Length)
                throw new ArgumentException($"'noise' must have the length of 'data' ({data.Length}), but has {noise.Length}.", nameof(noise));
            ScheduleValidation.RequireAllFinite(data, nameof(data));
            ScheduleValidation.RequireAllFinite(noise, nameof(noise));
            var e = new MonteCarloEngine(schedule, denoiser, data.Length / d);
            data.CopyTo(e._y);
            noise.CopyTo(e._eps);
            return e;
        }

        public static MonteCarloEngine FromData(NoiseSchedule schedule, IDenoiser denoiser, ReadOnlySpan<double> data, int samples, Random random)
        {
            Check(schedule, denoiser, samples, random);
            int d = denoiser.Dimension;
            if (data.Length == 0 || data.Length % d != 0)
                throw new ArgumentException($"The data length {data.Length} is not a positive multiple of the dimension {d}.", nameof(data));
            for (int i = 0; i < data.Length; i++)
                if (!double.IsFinite(data[i]))
                    throw new ArgumentException($"The data must be finite, but data[{i}] = {data[i]}.", nameof(data));
            var e = new MonteCarloEngine(schedule, denoiser, samples);
            int rows = data.Length / d;
            for (int i = 0; i < samples; i++)
                data.Slice(random.Next(rows) * d, d).CopyTo(e._y.AsSpan(i * d, d));
            Randomness.StandardNormal.Fill(random, e._eps);
            return e;
        }

        private static void Check(NoiseSchedule schedule, IDenoiser denoiser, int samples, Random random)
        {
            ArgumentNullException.ThrowIfNull(schedule);
            ArgumentNullException.ThrowIfNull(denoiser);
            ArgumentNullException.ThrowIfNull(random);
            if (samples < 2) throw new ArgumentOutOfRangeException(nameof(samples), samples, "'samples' must be at least 2.");
        }

        /// <summary>Per-sample kinetic energy, system and bath rates at t; accumulates weighted per-sample integrals if given.</summary>
        public EntropyProductionRate Rate(double t, double[][]? integrals, double weight)
        {
            double m = _schedule.M(t), sigma = _schedule.Sigma(t), temperature = _schedule.Temperature(t), a = _schedule.DriftRate(t);
            for (int i = 0; i < _x.Length; i++) _x[i] = m * _y[i] + sigma * _eps[i];
            // At sigma = 0 the limit nu_0 = a x - T_0 grad ln q; without a score it is usable only where T_0 = 0.
            bool noiseFree = sigma == 0, scoreless = false;
            if (!noiseFree)
            {
                _denoiser.Denoise(_x, m, sigma, _x0);
                PredictionConversions.VelocityFromX0(_x, _x0, m, sigma, _schedule.MDot(t), _schedule.SigmaDot(t), _nu);
                PredictionConversions.ScoreFromX0(_x, _x0, m, sigma, _score);
            }
            else if (_denoiser is IMarginalDensity density)
            {
                density.Score(_x, m, 0, _score);
                for (int i = 0; i < _x.Length; i++) _nu[i] = a * _x[i] - temperature * _score[i];
            }
            else if (temperature == 0)
            {
                scoreless = true;
                for (int i = 0; i < _x.Length; i++) _nu[i] = a * _x[i];
            }
            else
            {
                throw new ArgumentOutOfRangeException(nameof(t), t,
                    $"At t = {t} sigma = 0 and T = {temperature} > 0, so the velocity needs the data score grad ln q, which a denoiser "
                    + "does not give at sigma = 0; pass an IMarginalDensity or a time t > 0.");
            }
            for (int i = 0; i < _n; i++)
            {
                double k = 0, s = 0, f = 0;
                for (int j = i * _d, end = j + _d; j < end; j++)
                {
                    k += _nu[j] * _nu[j];
                    if (!scoreless) s -= _nu[j] * _score[j];
                    f += a * _x[j] * _nu[j];
                }
                if (scoreless) s = _d * a;
                _k[i] = k;
                _sys[i] = s;
                _bath[i] = temperature != 0 ? f / temperature : Ratio(k, 0) - s;
                if (integrals is not null)
                {
                    integrals[0][i] += weight * k;
                    integrals[1][i] += weight * Ratio(k, temperature);
                    integrals[2][i] += weight * s;
                    integrals[3][i] += weight * _bath[i];
                }
            }
            var (km, kse) = MeanAndError(_k);
            var (sm, sse) = MeanAndError(_sys);
            var (bm, bse) = MeanAndError(_bath);
            double rate = Ratio(km, temperature);
            double rateSe = temperature != 0 ? kse / temperature : 0;
            return new EntropyProductionRate(t, temperature, km, kse, rate, rateSe, sm, sse, bm, bse, _n);
        }

        public EntropyProductionIntegral Integrate(double tStart, double? tEnd, double endCutoff)
        {
            double end = tEnd ?? _schedule.MaxTime;
            GradedTimeQuadrature.Validate(tStart, end, _schedule.MaxTime, endCutoff, _schedule.Name);
            var rule = GradedTimeQuadrature.Create(tStart, end, endCutoff);
            var acc = new double[4][];
            for (int q = 0; q < 4; q++) acc[q] = new double[_n];
            var rates = new EntropyProductionRate[rule.Nodes.Length];
            for (int k = 0; k < rates.Length; k++) rates[k] = Rate(rule.Nodes[k], acc, rule.Weights[k]);
            var (c2, c2Se) = MeanAndError(acc[0]);
            var (st, stSe) = MeanAndError(acc[1]);
            var (sy, _) = MeanAndError(acc[2]);
            var (ba, _) = MeanAndError(acc[3]);
            return new EntropyProductionIntegral(tStart, end, rule.Lower, rule.Upper, c2, c2Se, st, stSe, sy, ba,
                DivergesAt(_schedule, tStart), rates, rule.Weights);
        }

        private static (double Mean, double StandardError) MeanAndError(ReadOnlySpan<double> v)
        {
            double mean = 0;
            foreach (double a in v) mean += a;
            mean /= v.Length;
            double ss = 0;
            foreach (double a in v) ss += (a - mean) * (a - mean);
            return (mean, Math.Sqrt(ss / (v.Length - 1) / v.Length));
        }
    }
}
