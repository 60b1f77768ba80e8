using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Likelihood;

/// <summary>
/// Per-row log-likelihood under a diffusion model by the probability-flow ODE (Song et al., ICLR 2021, appendix D.2;
/// Chen et al., Neural ODEs, NeurIPS 2018, instantaneous change of variables): the rows are carried from t_min to
/// T = MaxTime by dx/dt = nu_t(x) = mdot x0hat + sigmadot (x - m x0hat) / sigma while
/// d/dt ln p_t(x(t)) = -div nu_t(x(t)), so ln p_{t_min}(x(t_min)) = ln p_T(x(T)) + integral div nu_t(x(t)) dt.
/// The negative log-likelihood (an anomaly score) is -ln p; bits per dimension -ln p / (d ln 2).
/// </summary>
/// <remarks>
/// <para>Divergence: div nu_t = (mdot - sigmadot m / sigma) tr(J) + d sigmadot / sigma with J = d x0hat / dx the denoiser
/// Jacobian (<see cref="Divergence"/> is the one home of this formula). tr(J) is exact (d Jacobian-vector products with basis
/// vectors per row, batched as rows x d expanded rows) or Hutchinson's estimate with a fixed number of Rademacher probes per
/// row, seeded and kept for the whole trajectory, so each probe gives an unbiased estimate of ln p and their spread gives a
/// standard error.</para>
/// <para>Time grid: uniform in log-SNR (<see cref="TimeGrid.UniformLogSnr"/>) from t_min up to MaxTime; Euler, Heun or
/// classical RK4 on the joint (x, ln p) system.</para>
/// <para>The t_min bias: the PF-ODE is singular at t = 0 (sigmadot / sigma blows up), so integration starts at t_min &gt; 0.
/// A data row y is placed at x(t_min) = m y and ln m^d is added, so the result is exactly (up to the ODE error) the
/// log-density at y of the data law smoothed by N(0, s^2 I), s = sigma(t_min) / m(t_min): the density of
/// (m y + sigma eps) / m. For Gaussian data N(mu, C) that is ln N(y; mu, C + s^2 I). With the default t_min = 1e-3 tau
/// the smoothing is s^2 ~ 1e-4 on the VP linear schedule; pass a smaller <see cref="LikelihoodOptions.TMin"/> for less.</para>
/// <para>Prior: ln p_T is the marginal at T of <see cref="LikelihoodOptions.Prior"/> when given (for a known reference law)
/// or N(0, (m_T^2 s_data^2 + sigma_T^2) I); on schedules with m_T ~ 0 (VP, cosine) this is N(0, sigma_T^2 I) up to a
/// negligible error, on VE (m = 1) the data variance matters.</para>
/// <para>Cost: (steps x evaluations per step) denoiser Jacobian-vector-product calls on rows x d (exact) or rows x probes
/// (Hutchinson) expanded rows, in chunks of at most <see cref="LikelihoodOptions.MaxBatchRows"/> expanded rows. Buffers are
/// allocated once per call; nothing is allocated per step or per row.</para>
/// </remarks>
public static class ProbabilityFlowLikelihood
{
    private static readonly double Ln2 = Math.Log(2);

    /// <summary>Computes ln p(x) for every row.</summary>
    /// <param name="denoiser">The model: x0hat and its Jacobian-vector products.</param>
    /// <param name="schedule">The (m, sigma) path the PF-ODE follows.</param>
    /// <param name="x">Data rows, row-major; finite; length a positive multiple of the dimension.</param>
    /// <param name="logDensity">Destination, one ln p per row.</param>
    /// <param name="options">Settings; <see langword="null"/> for the defaults.</param>
    /// <returns>What the run did.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="denoiser"/> or <paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="x"/> is empty, mis-sized or holds a non-finite value (the message names the row);
    /// <paramref name="logDensity"/> has the wrong length; or the prior's dimension differs.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (see <see cref="LikelihoodOptions.Validate"/>).</exception>
    public static LikelihoodResult Compute(IDenoiserJacobian denoiser, NoiseSchedule schedule, ReadOnlySpan<double> x, Span<double> logDensity, LikelihoodOptions? options = null)
        => Compute(denoiser, schedule, x, logDensity, Span<double>.Empty, options);

    /// <summary>Computes ln p(x) for every row and, for Hutchinson's estimator, its standard error over the probes.</summary>
    /// <param name="denoiser">The model: x0hat and its Jacobian-vector products.</param>
    /// <param name="schedule">The (m, sigma) path the PF-ODE follows.</param>
    /// <param name="x">Data rows, row-major; finite; length a positive multiple of the dimension.</param>
    /// <param name="logDensity">Destination, one ln p per row.</param>
    /// <param name="standardError">Destination, one per row: the sample standard deviation of the per-probe estimates over
    /// sqrt(probes) (0 for the exact divergence or a single probe); empty to skip.</param>
    /// <param name="options">Settings; <see langword="null"/> for the defaults.</param>
    /// <returns>What the run did.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="denoiser"/> or <paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="x"/> is empty, mis-sized or holds a non-finite value (the message names the row);
    /// a destination has the wrong length; or the prior's dimension differs.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (see <see cref="LikelihoodOptions.Validate"/>).</exception>
    public static LikelihoodResult Compute(IDenoiserJacobian denoiser, NoiseSchedule schedule, ReadOnlySpan<double> x, Span<double> logDensity,
        Span<double> standardError, LikelihoodOptions? options)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        ArgumentNullException.ThrowIfNull(schedule);
        options ??= new LikelihoodOptions();
        int d = denoiser.Dimension;
        double tMin = options.Validate(schedule, d);
        int rows = LikelihoodInput.Check(x, d, logDensity, default, standardError);

        double[] ascending = TimeGrid.UniformLogSnr(schedule, options.Steps, schedule.MaxTime, tMin);
        Array.Reverse(ascending);
        var run = new Run(denoiser, schedule, options, ascending, d);
        for (int start = 0; start < rows; start += run.ChunkRows)
        {
            int count = Math.Min(run.ChunkRows, rows - start);
            run.Integrate(x.Slice(start * d, count * d), logDensity.Slice(start, count),
                standardError.IsEmpty ? Span<double>.Empty : standardError.Slice(start, count), count);
        }
        return new LikelihoodResult(options.Steps, options.Steps * StagesOf(options.Integrator), run.Probes, tMin, schedule.MaxTime);
    }

    /// <summary>Bits per dimension of a log-density: -ln p / (d ln 2).</summary>
    /// <param name="logDensity">ln p of a row.</param>
    /// <param name="dimension">The dimension d.</param>
    /// <returns>-ln p / (d ln 2).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive.</exception>
    public static double BitsPerDimension(double logDensity, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        return -logDensity / (dimension * Ln2);
    }

    /// <summary>
    /// The divergence of the probability-flow velocity nu = mdot x0hat + sigmadot (x - m x0hat) / sigma given the trace of the
    /// denoiser Jacobian: div nu = (mdot - sigmadot m / sigma) tr(J) + d sigmadot / sigma.
    /// </summary>
    internal static double Divergence(double traceJacobian, int dimension, double m, double sigma, double mDot, double sigmaDot)
        => (mDot - sigmaDot * m / sigma) * traceJacobian + dimension * sigmaDot / sigma;

    private static int StagesOf(LikelihoodIntegrator integrator) => integrator switch
    {
        LikelihoodIntegrator.Euler => 1,
        LikelihoodIntegrator.Heun => 2,
        _ => 4,
    };

    /// <summary>The buffers and loop of one call, reused across row chunks.</summary>
    private sealed class Run
    {
        private readonly IDenoiserJacobian _denoiser;
        private readonly NoiseSchedule _schedule;
        private readonly LikelihoodOptions _options;
        private readonly double[] _times;
        private readonly int _d;
        private readonly bool _exact;
        private readonly Random _random;
        private readonly IMarginalDensity _prior;
        // Per chunk row: state, stage state, velocity stages, accumulated velocity; per expanded row: copies, probes, outputs.
        private readonly double[] _state, _stage, _velocity, _increment;
        private readonly double[] _expanded, _probes, _x0, _jv;
        private readonly double[] _divergence, _divergenceIncrement, _accumulated, _priorLog;

        public Run(IDenoiserJacobian denoiser, NoiseSchedule schedule, LikelihoodOptions options, double[] times, int d)
        {
            _denoiser = denoiser;
            _schedule = schedule;
            _options = options;
            _times = times;
            _d = d;
            _exact = options.Divergence == DivergenceEstimator.Exact;
            Probes = _exact ? d : options.HutchinsonProbes;
            ChunkRows = Math.Max(1, options.MaxBatchRows / Probes);
            _random = new Random(options.Seed);
            _prior = options.Prior ?? GaussianDenoiser.Isotropic(new double[d], Math.Sqrt(options.DataVariance));
            int n = ChunkRows * d, expanded = ChunkRows * Probes;
            _state = new double[n];
            _stage = new double[n];
            _velocity = new double[n];
            _increment = new double[n];
            _expanded = new double[expanded * d];
            _probes = new double[expanded * d];
            _x0 = new double[expanded * d];
            _jv = new double[expanded * d];
            _divergence = new double[expanded];
            _divergenceIncrement = new double[expanded];
            _accumulated = new double[expanded];
            _priorLog = new double[ChunkRows];
        }

        public int Probes { get; }

        public int ChunkRows { get; }

        public void Integrate(ReadOnlySpan<double> x, Span<double> logDensity, Span<double> standardError, int rows)
        {
            int d = _d, p = Probes, n = rows * d, e = rows * p;
            Span<double> state = _state.AsSpan(0, n), stage = _stage.AsSpan(0, n), increment = _increment.AsSpan(0, n);
            Span<double> accumulated = _accumulated.AsSpan(0, e), divergenceIncrement = _divergenceIncrement.AsSpan(0, e);
            FillProbes(rows);
            // x(t_min) = m y, and ln p_0-smoothed(y) = ln p_{t_min}(m y) + d ln m.
            double mMin = _schedule.M(_times[0]);
            for (int i = 0; i < n; i++) state[i] = mMin * x[i];
            accumulated.Fill(d * Math.Log(mMin));
            for (int step = 0; step + 1 < _times.Length; step++)
            {
                double t0 = _times[step], t1 = _times[step + 1], h = t1 - t0;
                switch (_options.Integrator)
                {
                    case LikelihoodIntegrator.Euler:
                        Evaluate(state, t0, rows);
                        AddScaled(state, _velocity, h, n);
                        AddScaled(accumulated, _divergence, h, e);
                        break;
                    case LikelihoodIntegrator.Heun:
                        Evaluate(state, t0, rows);
                        Copy(_velocity, increment, n);
                        Copy(_divergence, divergenceIncrement, e);
                        for (int i = 0; i < n; i++) stage[i] = state[i] + h * _velocity[i];
                        Evaluate(stage, t1, rows);
                        for (int i = 0; i < n; i++) state[i] += 0.5 * h * (increment[i] + _velocity[i]);
                        for (int i = 0; i < e; i++) accumulated[i] += 0.5 * h * (divergenceIncrement[i] + _divergence[i]);
                        break;
                    default:
                        RungeKutta4(state, stage, increment, accumulated, divergenceIncrement, t0, h, rows);
                        break;
                }
            }
            double tEnd = _times[^1];
            _prior.LogDensity(state, _schedule.M(tEnd), _schedule.Sigma(tEnd), _priorLog.AsSpan(0, rows));
            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<double> perProbe = accumulated.Slice(r * p, p);
                double mean = 0;
                foreach (double a in perProbe) mean += a;
                mean /= p;
                logDensity[r] = _priorLog[r] + mean;
                if (standardError.IsEmpty) continue;
                if (_exact || p == 1)
                {
                    standardError[r] = 0;
                    continue;
                }
                double squares = 0;
                foreach (double a in perProbe) squares += (a - mean) * (a - mean);
                standardError[r] = Math.Sqrt(squares / (p - 1) / p);
            }
        }

        private void RungeKutta4(Span<double> state, Span<double> stage, Span<double> increment, Span<double> accumulated, Span<double> divergenceIncrement,
            double t0, double h, int rows)
        {
            int n = rows * _d, e = rows * Probes;
            Span<double> times = [t0, t0 + 0.5 * h, t0 + 0.5 * h, t0 + h];
            ReadOnlySpan<double> weights = [1.0 / 6, 2.0 / 6, 2.0 / 6, 1.0 / 6];
            Span<double> next = [0.5 * h, 0.5 * h, h, 0];
            increment.Clear();
            divergenceIncrement.Clear();
            state.CopyTo(stage);
            for (int k = 0; k < 4; k++)
            {
                Evaluate(stage, Math.Min(times[k], _times[^1]), rows);
                AddScaled(increment, _velocity, weights[k] * h, n);
                AddScaled(divergenceIncrement, _divergence, weights[k] * h, e);
                if (k == 3) break;
                for (int i = 0; i < n; i++) stage[i] = state[i] + next[k] * _velocity[i];
            }
            AddScaled(state, increment, 1, n);
            AddScaled(accumulated, divergenceIncrement, 1, e);
        }

        /// <summary>Writes nu_t(x) into _velocity (per row) and the per-probe estimates of div nu_t into _divergence.</summary>
        private void Evaluate(ReadOnlySpan<double> state, double t, int rows)
        {
            int d = _d, p = Probes, e = rows * p;
            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<double> row = state.Slice(r * d, d);
                for (int k = 0; k < p; k++) row.CopyTo(_expanded.AsSpan((r * p + k) * d, d));
            }
            double m = _schedule.M(t), sigma = _schedule.Sigma(t), mDot = _schedule.MDot(t), sigmaDot = _schedule.SigmaDot(t);
            _denoiser.JacobianVectorProduct(_expanded.AsSpan(0, e * d), m, sigma, _probes.AsSpan(0, e * d), _x0.AsSpan(0, e * d), _jv.AsSpan(0, e * d));
            for (int r = 0; r < rows; r++)
            {
                // Every copy of a row has the same x0hat; take the first one.
                PredictionConversions.VelocityFromX0(state.Slice(r * d, d), _x0.AsSpan(r * p * d, d), m, sigma, mDot, sigmaDot, _velocity.AsSpan(r * d, d));
                for (int k = 0; k < p; k++)
                {
                    int o = (r * p + k) * d;
                    // Exact: probe k is the basis vector e_k, and d J_kk averages over k to tr(J). Hutchinson: v^T J v.
                    double trace = _exact
                        ? d * _jv[o + k]
                        : System.Numerics.Tensors.TensorPrimitives.Dot(_probes.AsSpan(o, d), _jv.AsSpan(o, d));
                    _divergence[r * p + k] = Divergence(trace, d, m, sigma, mDot, sigmaDot);
                }
            }
        }

        private void FillProbes(int rows)
        {
            int d = _d, p = Probes;
            Span<double> probes = _probes.AsSpan(0, rows * p * d);
            if (_exact)
            {
                probes.Clear();
                for (int r = 0; r < rows; r++)
                    for (int k = 0; k < p; k++) probes[(r * p + k) * d + k] = 1;
                return;
            }
            for (int i = 0; i < probes.Length; i++) probes[i] = _random.Next(2) == 0 ? -1.0 : 1.0;
        }

        private static void AddScaled(Span<double> target, ReadOnlySpan<double> source, double factor, int length)
        {
            for (int i = 0; i < length; i++) target[i] += factor * source[i];
        }

        private static void Copy(ReadOnlySpan<double> source, Span<double> target, int length) => source.Slice(0, length).CopyTo(target);
    }
}
