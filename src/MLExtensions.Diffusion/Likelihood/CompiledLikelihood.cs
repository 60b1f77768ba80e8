using System.Collections.Concurrent;
using System.Numerics.Tensors;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Training;

namespace MLExtensions.Diffusion.Likelihood;

/// <summary>
/// The probability-flow likelihood of <see cref="ProbabilityFlowLikelihood"/> compiled for one network: the same
/// quantity (ln p of the data law smoothed at t_min, up to the ODE error) at a fraction of the cost, thread-safe without
/// a lock.
/// </summary>
/// <remarks>
/// <para>Network. The MLP's weights are copied once. The denoiser of a <see cref="NeuralDenoiser"/> depends on x and
/// (m, sigma) only through y = x / m and sigma / m; per evaluation (one noise level for a whole chunk of rows) the
/// Fourier embedding of c_noise is folded into the first layer's bias (and, with every-layer conditioning, into a
/// per-level shift of each hidden layer's input), so a row costs one forward pass without the embedding columns. The
/// exact divergence is d forward-mode tangents per row batched as rows x d GEMM rows, sharing the row's forward pass
/// (today's engine repeats the forward pass for each of the d copies): the first layer's tangents are the weight
/// columns scaled by the SiLU slope (no product), and of the output layer only the diagonal of the Jacobian is formed
/// (d dot products per row). Hutchinson's estimate runs the same with the probes as tangents (seeded per chunk, kept
/// along the trajectory; the spread over probes gives a standard error).</para>
/// <para>Grid integrator (default): today's discretisation, Euler, Heun or RK4 in t on the grid uniform in log-SNR
/// (<see cref="CompiledLikelihoodOptions.Steps"/>, <see cref="CompiledLikelihoodOptions.Integrator"/>), so the result
/// agrees with <see cref="ProbabilityFlowLikelihood"/> at the same settings up to float rounding. Heun reports the
/// Euler-Heun differences of the log-density increment and of the state (weighed by its effect on a Gaussian
/// log-density at that level), summed in absolute value, as its error estimate (Euler and RK4 report NaN).</para>
/// <para>Adaptive integrator (<see cref="CompiledLikelihoodOptions.AdaptiveTolerance"/>): Dormand-Prince 5(4) with
/// first-same-as-last (six evaluations per step) in the scaled state y = x / m against s = ln(sigma / m) (minus half the
/// log-SNR), where the PF-ODE reads dy/ds = y - x0hat(y, e^s) and d/ds ln p_s(y) = -(d - tr J), J = d x0hat / dy;
/// ln p_{t_min}(m y) + d ln m_min = ln p_y(y) at s_min, what <see cref="ProbabilityFlowLikelihood"/> returns, and the prior
/// term is ln p_T(m_T y_T) + d ln m_T. Steps are chosen per chunk of rows so that every row's embedded error estimate is
/// within the tolerance; the fifth-order solution is kept and the embedded differences of the accepted steps, summed in
/// absolute value per row, are the reported error estimate. It converges to the ODE's solution, not to a grid's.</para>
/// <para>Memory and threads. Rows are integrated in chunks of <see cref="CompiledLikelihoodOptions.ChunkRows"/>, up to
/// <see cref="CompiledLikelihoodOptions.Threads"/> chunks at once, each on a workspace taken from a pool (so memory
/// does not grow with the row count and calls from several threads run in parallel). GEMMs run single-threaded within a
/// chunk, so a chunk's result does not depend on the thread count or on other calls.</para>
/// </remarks>
public sealed class CompiledLikelihood
{
    // Dormand-Prince 5(4) tableau (Dormand and Prince, J. Comput. Appl. Math. 6, 1980).
    private static readonly double[] C = [0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1];
    private static readonly double[][] A =
    [
        [],
        [1.0 / 5],
        [3.0 / 40, 9.0 / 40],
        [44.0 / 45, -56.0 / 15, 32.0 / 9],
        [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729],
        [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656],
        [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84],
    ];
    // Fifth-order weights are A[6]; E = fifth minus fourth order weights.
    private static readonly double[] E = [71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40];

    private readonly NoiseSchedule _schedule;
    private readonly CompiledLikelihoodOptions _options;
    private readonly IMarginalDensity _prior;
    private readonly Parametrisation _parametrisation;
    private readonly double _sigmaData, _scale;
    private readonly double[] _mean;
    private readonly float[] _frequencies;
    private readonly int _d, _width, _probes;
    private readonly bool _exact;
    // First layer: x-columns (w x d), embedding columns (w x e), bias.
    private readonly float[] _inputWeights, _embeddingWeights, _inputBias;
    private readonly Block[] _blocks;
    private readonly float[] _outputWeights, _outputBias;
    private readonly double _tMin, _sMin, _sMax, _mEnd, _sigmaEnd;
    private readonly double[] _times;
    private readonly ConcurrentBag<Workspace> _pool = new();

    /// <summary>Compiles the likelihood of <paramref name="denoiser"/> on <paramref name="schedule"/>.</summary>
    /// <param name="denoiser">The trained network (its weights are copied).</param>
    /// <param name="schedule">The (m, sigma) path.</param>
    /// <param name="options">Settings; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="denoiser"/> or <paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (see <see cref="CompiledLikelihoodOptions.Validate"/>).</exception>
    /// <exception cref="NotSupportedException">The network is not supported (see <see cref="Supports"/>).</exception>
    public CompiledLikelihood(NeuralDenoiser denoiser, NoiseSchedule schedule, CompiledLikelihoodOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        ArgumentNullException.ThrowIfNull(schedule);
        _options = options ?? new CompiledLikelihoodOptions();
        _d = denoiser.Dimension;
        _tMin = _options.Validate(schedule, _d);
        if (!Supports(denoiser, schedule, out string reason)) throw new NotSupportedException(reason);
        _schedule = schedule;
        _prior = _options.Prior ?? GaussianDenoiser.Isotropic(new double[_d], Math.Sqrt(_options.DataVariance));
        _parametrisation = denoiser.Parametrisation;
        _sigmaData = denoiser.SigmaData;
        _scale = denoiser.Standardizer.Scale[0];
        _mean = denoiser.Standardizer.Mean.ToArray();
        _exact = _options.Divergence == DivergenceEstimator.Exact;
        _probes = _exact ? _d : _options.HutchinsonProbes;

        var network = denoiser.Network;
        _frequencies = network.Embedding.Frequencies.ToArray();
        int e = network.Embedding.OutputSize;
        var first = (Linear)network.Layers[0];
        _width = first.OutputSize;
        int w = _width, d = _d;
        _inputWeights = new float[w * d];
        _embeddingWeights = new float[w * e];
        ReadOnlySpan<float> w1 = first.Weights;
        for (int j = 0; j < w; j++)
        {
            w1.Slice(j * (d + e), d).CopyTo(_inputWeights.AsSpan(j * d, d));
            w1.Slice(j * (d + e) + d, e).CopyTo(_embeddingWeights.AsSpan(j * e, e));
        }
        _inputBias = first.Bias.ToArray();
        int count = network.Layers.Count;
        _blocks = new Block[count - 2];
        for (int i = 1; i < count - 1; i++)
        {
            Dense? projection = network.Projections[i] is { } p ? new Dense(p) : null;
            _blocks[i - 1] = network.Layers[i] switch
            {
                ResidualBlock r => new Block(new Dense(r.First), new Dense(r.Second), projection),
                Linear l => new Block(new Dense(l), null, projection),
                _ => throw new NotSupportedException("Unsupported layer."),
            };
        }
        var output = (Linear)network.Layers[count - 1];
        _outputWeights = output.Weights.ToArray();
        _outputBias = output.Bias.ToArray();

        double mMin = schedule.M(_tMin), mEnd = schedule.M(schedule.MaxTime);
        _sMin = Math.Log(schedule.Sigma(_tMin) / mMin);
        _mEnd = mEnd;
        _sigmaEnd = schedule.Sigma(schedule.MaxTime);
        _sMax = Math.Log(_sigmaEnd / mEnd);
        _times = TimeGrid.UniformLogSnr(schedule, _options.Steps, schedule.MaxTime, _tMin);
        Array.Reverse(_times);
    }

    /// <summary>Whether <see cref="CompiledLikelihood"/> can compile a network: an MLP of SiLU layers or residual blocks
    /// without layer norm (every hidden layer of one width), on a schedule with m &gt; 0 and sigma &gt; 0 at both ends.</summary>
    /// <param name="denoiser">The network.</param>
    /// <param name="schedule">The schedule.</param>
    /// <param name="reason">Why not, or empty.</param>
    /// <returns>True when supported.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static bool Supports(NeuralDenoiser denoiser, NoiseSchedule schedule, out string reason)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        ArgumentNullException.ThrowIfNull(schedule);
        var layers = denoiser.Network.Layers;
        reason = "";
        if (layers.Count < 2 || layers[0] is not Linear { Activation: Activation.SiLU } first || layers[^1] is not Linear { Activation: Activation.None })
        {
            reason = "The compiled likelihood needs a SiLU input layer and a linear output layer.";
            return false;
        }
        for (int i = 1; i < layers.Count - 1; i++)
        {
            bool ok = layers[i] switch
            {
                Linear l => l.Activation == Activation.SiLU && l.InputSize == first.OutputSize && l.OutputSize == first.OutputSize,
                ResidualBlock r => r.Norm is null && r.First.Activation == Activation.SiLU && r.Second.Activation == Activation.None
                    && r.InputSize == first.OutputSize && r.First.OutputSize == first.OutputSize,
                _ => false,
            };
            if (!ok)
            {
                reason = $"Layer {i} ({layers[i].GetType().Name}) is not supported by the compiled likelihood (SiLU layers or residual blocks without layer norm, all of one width).";
                return false;
            }
        }
        double mEnd = schedule.M(schedule.MaxTime), sEnd = schedule.Sigma(schedule.MaxTime);
        if (!(mEnd > 0) || !(sEnd > 0) || !double.IsFinite(Math.Log(sEnd / mEnd)))
        {
            reason = $"The schedule '{schedule.Name}' has m = {mEnd}, sigma = {sEnd} at MaxTime; the compiled likelihood needs both positive.";
            return false;
        }
        return true;
    }

    /// <summary>The data dimension d.</summary>
    public int Dimension => _d;

    /// <summary>The settings.</summary>
    public CompiledLikelihoodOptions Options => _options;

    /// <summary>Computes ln p(x) for every row (see <see cref="ProbabilityFlowLikelihood"/> for the quantity).</summary>
    /// <param name="x">Data rows in the denoiser's units, row-major; finite; length a positive multiple of d.</param>
    /// <param name="logDensity">Destination, one ln p per row.</param>
    /// <param name="errorEstimate">Destination, one per row: the integrator's error estimate in nats (NaN for the grid's Euler
    /// and RK4; empty to skip). Heun's over-estimated the error on every row in the benchmark; the adaptive integrator's
    /// is of the error's size but not a bound (docs/benchmarks.md, issue #12).</param>
    /// <param name="standardError">Destination, one per row: Hutchinson's standard error over the probes (0 for the exact
    /// divergence or a single probe; empty to skip).</param>
    /// <param name="seed">Seed of the Hutchinson probes: chunk c draws from <c>seed + 7919 c</c> (ignored by the exact divergence).</param>
    /// <returns>What the call did.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> is empty, mis-sized or holds a non-finite value (the message
    /// names the row and feature), or a destination has the wrong length.</exception>
    /// <exception cref="InvalidOperationException">An adaptive integration needed more than
    /// <see cref="CompiledLikelihoodOptions.MaxSteps"/> steps.</exception>
    public CompiledLikelihoodResult Compute(ReadOnlySpan<double> x, Span<double> logDensity, Span<double> errorEstimate, Span<double> standardError, int seed = 0)
    {
        int d = _d;
        int rows = LikelihoodInput.Check(x, d, logDensity, errorEstimate, standardError);

        int chunkRows = _options.ChunkRows, chunks = (rows + chunkRows - 1) / chunkRows;
        int threads = Math.Min(chunks, _options.Threads == 0 ? Environment.ProcessorCount : _options.Threads);
        var stats = new ChunkStats[chunks];
        if (threads <= 1)
        {
            var ws = Rent();
            try
            {
                for (int c = 0; c < chunks; c++)
                {
                    int start = c * chunkRows, count = Math.Min(chunkRows, rows - start);
                    stats[c] = Integrate(ws, x.Slice(start * d, count * d), logDensity.Slice(start, count),
                        errorEstimate.IsEmpty ? default : errorEstimate.Slice(start, count),
                        standardError.IsEmpty ? default : standardError.Slice(start, count), count, unchecked(seed + 7919 * c));
                }
            }
            finally { _pool.Add(ws); }
        }
        else
        {
            // Spans cannot enter the lambdas: copy in and out (cost O(rows), small against the integration).
            double[] input = x.ToArray(), output = new double[rows], error = new double[rows], spread = new double[rows];
            Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, () => Rent(), (c, _, ws) =>
            {
                int start = c * chunkRows, count = Math.Min(chunkRows, rows - start);
                stats[c] = Integrate(ws, input.AsSpan(start * d, count * d), output.AsSpan(start, count), error.AsSpan(start, count),
                    spread.AsSpan(start, count), count, unchecked(seed + 7919 * c));
                return ws;
            }, ws => _pool.Add(ws));
            output.CopyTo(logDensity);
            if (!errorEstimate.IsEmpty) error.CopyTo(errorEstimate);
            if (!standardError.IsEmpty) spread.CopyTo(standardError);
        }
        int maxSteps = 0, rejected = 0;
        long evaluations = 0;
        double maxError = 0;
        foreach (var s in stats)
        {
            maxSteps = Math.Max(maxSteps, s.Steps);
            rejected += s.Rejected;
            evaluations += s.Evaluations;
            maxError = Math.Max(maxError, s.MaxError);
        }
        return new CompiledLikelihoodResult(chunks, maxSteps, rejected, evaluations, _probes, maxError, _tMin, _schedule.MaxTime);
    }

    private Workspace Rent() => _pool.TryTake(out var ws) ? ws : new Workspace(_options.ChunkRows, _d, _width, _probes, _frequencies.Length * 2, _blocks.Length + 1);

    private readonly record struct ChunkStats(int Steps, int Rejected, long Evaluations, double MaxError);

    private ChunkStats Integrate(Workspace ws, ReadOnlySpan<double> x, Span<double> logDensity, Span<double> errorEstimate, Span<double> standardError,
        int rows, int seed)
    {
        int d = _d, p = _probes, n = rows * d, e = rows * p;
        if (!_exact)
        {
            var random = new Random(seed);
            var probes = ws.Probes.AsSpan(0, e * d);
            for (int i = 0; i < probes.Length; i++) probes[i] = random.Next(2) == 0 ? -1f : 1f;
        }
        Span<double> acc = ws.Accumulated.AsSpan(0, e), errAcc = ws.ErrorAccumulated.AsSpan(0, rows);
        acc.Clear();
        errAcc.Clear();
        // Both integrators leave y = x_T / m_T in ws.Y and ln p_y(y_min) - ln p_y,T(y_T) per tangent in acc.
        var stats = _options.AdaptiveTolerance is { } tol ? IntegrateAdaptive(ws, x, rows, tol) : IntegrateGrid(ws, x, rows);

        // ln p_y(y_min) = ln p_T(m_T y_T) + d ln m_T + the accumulated divergence integral.
        Span<double> y = ws.Y.AsSpan(0, n), xEnd = ws.Stage.AsSpan(0, n);
        for (int i = 0; i < n; i++) xEnd[i] = _mEnd * y[i];
        Span<double> priorLog = ws.PriorLog.AsSpan(0, rows);
        _prior.LogDensity(xEnd, _mEnd, _sigmaEnd, priorLog);
        double logM = d * Math.Log(_mEnd), maxError = 0;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<double> perProbe = acc.Slice(r * p, p);
            double mean = 0;
            foreach (double v in perProbe) mean += v;
            mean /= p;
            logDensity[r] = priorLog[r] + logM + mean;
            if (!errorEstimate.IsEmpty) errorEstimate[r] = errAcc[r];
            maxError = Math.Max(maxError, errAcc[r]);
            if (standardError.IsEmpty) continue;
            if (_exact || p == 1)
            {
                standardError[r] = 0;
                continue;
            }
            double squares = 0;
            foreach (double v in perProbe) squares += (v - mean) * (v - mean);
            standardError[r] = Math.Sqrt(squares / (p - 1) / p);
        }
        return stats with { MaxError = maxError };
    }

    /// <summary>Today's discretisation (<see cref="ProbabilityFlowLikelihood"/>): Euler, Heun or RK4 in t on the grid
    /// uniform in log-SNR, on x = m y; the levels are the grid's. Heun's error estimate is the Euler-Heun difference of the
    /// log-density increment plus that of the state weighed by (|x| + S) / S^2, S^2 = m^2 s_data^2 + sigma^2 (the slope of
    /// the level's marginal log-density), summed in absolute value (an over-estimate of Heun's local error); Euler and
    /// RK4 report NaN.</summary>
    private ChunkStats IntegrateGrid(Workspace ws, ReadOnlySpan<double> data, int rows)
    {
        int d = _d, p = _probes, n = rows * d, e = rows * p;
        double[] times = _times;
        Span<double> x = ws.Y.AsSpan(0, n), stage = ws.Stage.AsSpan(0, n), acc = ws.Accumulated.AsSpan(0, e), errAcc = ws.ErrorAccumulated.AsSpan(0, rows);
        double mMin = _schedule.M(times[0]);
        for (int i = 0; i < n; i++) x[i] = mMin * data[i];
        acc.Fill(d * Math.Log(mMin));
        var integrator = _options.Integrator;
        int stages = integrator switch { LikelihoodIntegrator.Euler => 1, LikelihoodIntegrator.Heun => 2, _ => 4 };
        if (integrator != LikelihoodIntegrator.Heun) errAcc.Fill(double.NaN);
        Span<double> increment = ws.K[4].AsSpan(0, n), divIncrement = ws.G[4].AsSpan(0, e);
        for (int step = 0; step + 1 < times.Length; step++)
        {
            double t0 = times[step], h = times[step + 1] - t0;
            switch (integrator)
            {
                case LikelihoodIntegrator.Euler:
                    EvaluateTime(ws, x, rows, t0, ws.K[0], ws.G[0]);
                    TensorPrimitives.MultiplyAdd(ws.K[0].AsSpan(0, n), h, x, x);
                    TensorPrimitives.MultiplyAdd(ws.G[0].AsSpan(0, e), h, acc, acc);
                    break;
                case LikelihoodIntegrator.Heun:
                    EvaluateTime(ws, x, rows, t0, ws.K[0], ws.G[0]);
                    for (int i = 0; i < n; i++) stage[i] = x[i] + h * ws.K[0][i];
                    EvaluateTime(ws, stage, rows, times[step + 1], ws.K[1], ws.G[1]);
                    for (int i = 0; i < n; i++) x[i] += 0.5 * h * (ws.K[0][i] + ws.K[1][i]);
                    for (int i = 0; i < e; i++) acc[i] += 0.5 * h * (ws.G[0][i] + ws.G[1][i]);
                    double m1 = _schedule.M(times[step + 1]), sigma1 = _schedule.Sigma(times[step + 1]);
                    double variance = m1 * m1 * _options.DataVariance + sigma1 * sigma1;
                    for (int r = 0; r < rows; r++)
                    {
                        double diff = 0, state = 0;
                        for (int q = 0; q < p; q++) diff += ws.G[1][r * p + q] - ws.G[0][r * p + q];
                        for (int j = 0; j < d; j++)
                            state += Math.Abs(0.5 * h * (ws.K[1][r * d + j] - ws.K[0][r * d + j])) * (Math.Abs(x[r * d + j]) + Math.Sqrt(variance));
                        errAcc[r] += Math.Abs(0.5 * h * diff / p) + state / variance;
                    }
                    break;
                default:
                {
                    ReadOnlySpan<double> weights = [1.0 / 6, 2.0 / 6, 2.0 / 6, 1.0 / 6];
                    ReadOnlySpan<double> offsets = [0, 0.5, 0.5, 1];
                    increment.Clear();
                    divIncrement.Clear();
                    x.CopyTo(stage);
                    for (int k = 0; k < 4; k++)
                    {
                        EvaluateTime(ws, stage, rows, Math.Min(t0 + offsets[k] * h, times[^1]), ws.K[0], ws.G[0]);
                        TensorPrimitives.MultiplyAdd(ws.K[0].AsSpan(0, n), weights[k] * h, increment, increment);
                        TensorPrimitives.MultiplyAdd(ws.G[0].AsSpan(0, e), weights[k] * h, divIncrement, divIncrement);
                        if (k == 3) break;
                        for (int i = 0; i < n; i++) stage[i] = x[i] + offsets[k + 1] * h * ws.K[0][i];
                    }
                    TensorPrimitives.Add(x, increment, x);
                    TensorPrimitives.Add(acc, divIncrement, acc);
                    break;
                }
            }
        }
        // Back to y = x / m at T; acc holds ln p_{t_min} + d ln m_min - ln p_T(x_T); the caller adds ln p_T(m_T y_T) + d ln m_T,
        // so take d ln m_T off here.
        double mEnd = _schedule.M(times[^1]);
        for (int i = 0; i < n; i++) x[i] /= mEnd;
        for (int i = 0; i < e; i++) acc[i] -= d * Math.Log(mEnd);
        int steps = times.Length - 1;
        return new ChunkStats(steps, 0, (long)steps * stages, 0);
    }

    /// <summary>The t-form of the vector field at time t on x: nu = mdot x0hat + sigmadot (x - m x0hat) / sigma into
    /// <paramref name="velocity"/>, div nu per tangent into <paramref name="divergence"/> (tr J_x = tr J_y / m).</summary>
    private void EvaluateTime(Workspace ws, ReadOnlySpan<double> x, int rows, double t, double[] velocity, double[] divergence)
    {
        int d = _d, n = rows * d, e = rows * _probes;
        double m = _schedule.M(t), sigma = _schedule.Sigma(t), mDot = _schedule.MDot(t), sigmaDot = _schedule.SigmaDot(t);
        Span<double> y = ws.Scaled.AsSpan(0, n), x0 = ws.X0.AsSpan(0, n);
        for (int i = 0; i < n; i++) y[i] = x[i] / m;
        Evaluate(ws, y, rows, sigma / m, x0, divergence.AsSpan(0, e));
        PredictionConversions.VelocityFromX0(x, x0, m, sigma, mDot, sigmaDot, velocity.AsSpan(0, n));
        for (int i = 0; i < e; i++) divergence[i] = ProbabilityFlowLikelihood.Divergence(divergence[i] / m, d, m, sigma, mDot, sigmaDot);
    }

    /// <summary>The s-form at s = ln(sigma / m) on y: dy/ds = y - x0hat, divergence d - tr J.</summary>
    private void EvaluateLevel(Workspace ws, ReadOnlySpan<double> y, int rows, double s, double[] velocity, double[] divergence)
    {
        int d = _d, n = rows * d, e = rows * _probes;
        Span<double> x0 = ws.X0.AsSpan(0, n);
        Evaluate(ws, y, rows, Math.Exp(s), x0, divergence.AsSpan(0, e));
        for (int i = 0; i < n; i++) velocity[i] = y[i] - x0[i];
        for (int i = 0; i < e; i++) divergence[i] = d - divergence[i];
    }

    /// <summary>Dormand-Prince 5(4) in s = ln(sigma / m) on y, adaptive per chunk: a step is accepted when every row's
    /// embedded error (log-density increment plus the state's error weighed by |y| / (s_data^2 + e^{2s}), the slope of the
    /// log-density of the level's marginal scale) is within the tolerance.</summary>
    private ChunkStats IntegrateAdaptive(Workspace ws, ReadOnlySpan<double> data, int rows, double tol)
    {
        int d = _d, p = _probes, n = rows * d, e = rows * p;
        Span<double> y = ws.Y.AsSpan(0, n), stage = ws.Stage.AsSpan(0, n), acc = ws.Accumulated.AsSpan(0, e);
        Span<double> errLog = ws.ErrorLog.AsSpan(0, rows), errAcc = ws.ErrorAccumulated.AsSpan(0, rows);
        data.CopyTo(y);
        double s = _sMin, span = _sMax - _sMin, h = span / 16;
        int steps = 0, rejected = 0;
        long evaluations = 1;
        EvaluateLevel(ws, y, rows, s, ws.K[0], ws.G[0]);
        while (s < _sMax - 1e-12 * Math.Max(1, Math.Abs(_sMax)))
        {
            if (steps + rejected >= _options.MaxSteps)
                throw new InvalidOperationException($"The adaptive likelihood integration needed more than {_options.MaxSteps} steps (tolerance {tol}); raise MaxSteps or the tolerance.");
            if (s + h > _sMax) h = _sMax - s;
            for (int k = 1; k < 7; k++)
            {
                ReadOnlySpan<double> a = A[k];
                y.CopyTo(stage);
                for (int j = 0; j < k; j++)
                    if (a[j] != 0) TensorPrimitives.MultiplyAdd(ws.K[j].AsSpan(0, n), h * a[j], stage, stage);
                EvaluateLevel(ws, stage, rows, s + C[k] * h, ws.K[k], ws.G[k]);
                evaluations++;
            }
            double sigma = Math.Exp(s + h), variance = _options.DataVariance + sigma * sigma, worst = 0;
            for (int r = 0; r < rows; r++)
            {
                double logError = 0, stateError = 0;
                for (int q = 0; q < p; q++)
                {
                    double g = 0;
                    for (int k = 0; k < 7; k++) g += E[k] * ws.G[k][r * p + q];
                    logError += g;
                }
                logError = Math.Abs(h * logError / p);
                for (int j = 0; j < d; j++)
                {
                    double f = 0;
                    for (int k = 0; k < 7; k++) f += E[k] * ws.K[k][r * d + j];
                    stateError += Math.Abs(h * f) * (Math.Abs(stage[r * d + j]) + Math.Sqrt(variance));
                }
                double total = logError + stateError / variance;
                errLog[r] = total;
                worst = Math.Max(worst, total);
            }
            double ratio = worst / tol;
            if (ratio > 1)
            {
                rejected++;
                h *= Math.Max(0.2, 0.9 * Math.Pow(ratio, -0.2));
                continue;
            }
            // Accept: the fifth-order state (stage 6's input, A[6] being the fifth-order weights) and integral.
            stage.CopyTo(y);
            for (int i = 0; i < e; i++)
            {
                double g = 0;
                for (int k = 0; k < 6; k++) g += A[6][k] * ws.G[k][i];
                acc[i] += h * g;
            }
            for (int r = 0; r < rows; r++) errAcc[r] += errLog[r];
            s += h;
            steps++;
            // First same as last.
            (ws.K[0], ws.K[6]) = (ws.K[6], ws.K[0]);
            (ws.G[0], ws.G[6]) = (ws.G[6], ws.G[0]);
            h *= Math.Min(5, 0.9 * Math.Pow(Math.Max(ratio, 1e-10), -0.2));
        }
        return new ChunkStats(steps, rejected, evaluations, 0);
    }

    /// <summary>At VE level <paramref name="sigma"/> (= sigma_t / m_t) and y = x / m: x0hat into <paramref name="x0"/>
    /// (rows x d) and per tangent the estimate of tr J, J = d x0hat / dy, into <paramref name="trace"/> (rows x probes).</summary>
    private void Evaluate(Workspace ws, ReadOnlySpan<double> y, int rows, double sigma, Span<double> x0, Span<double> trace)
    {
        int d = _d, w = _width, p = _probes, n = rows * d, tr = rows * p;
        var pc = Preconditioning.For(_parametrisation, sigma / _scale, _sigmaData);
        double scale = _scale;
        Span<double> z = ws.Z.AsSpan(0, n);
        Span<float> u = ws.U.AsSpan(0, n);
        for (int i = 0; i < n; i++)
        {
            double zi = (y[i] - _mean[i % d]) / scale;
            z[i] = zi;
            u[i] = (float)(pc.Input * zi);
        }
        // Per-level constants: the embedding of c_noise folded into the first layer's bias.
        int f = _frequencies.Length;
        Span<float> emb = ws.Embedding;
        float c = (float)pc.Noise;
        for (int k = 0; k < f; k++)
        {
            (float sn, float cs) = MathF.SinCos(_frequencies[k] * c);
            emb[k] = sn;
            emb[f + k] = cs;
        }
        Span<float> bias = ws.Bias;
        int e = 2 * f;
        for (int j = 0; j < w; j++) bias[j] = _inputBias[j] + TensorPrimitives.Dot(_embeddingWeights.AsSpan(j * e, e), emb);

        // Forward: h0 = silu(u Wx^T + bias), slopes kept per SiLU layer for the tangents.
        Span<float> h = ws.H.AsSpan(0, rows * w);
        Gemm.Multiply(false, true, rows, w, d, 1f, u, _inputWeights, 0f, h, 1);
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(h.Slice(r * w, w), bias, h.Slice(r * w, w));
        SiLU(h, ws.Slopes[0].AsSpan(0, rows * w), ws.Scratch.AsSpan(0, rows * w));
        int slope = 1;
        foreach (var block in _blocks)
        {
            if (block.Projection is { } proj)
            {
                Span<float> shift = ws.Shift;
                for (int j = 0; j < w; j++) shift[j] = proj.B[j] + TensorPrimitives.Dot(proj.W.AsSpan(j * e, e), emb);
                for (int r = 0; r < rows; r++) TensorPrimitives.Add(h.Slice(r * w, w), shift, h.Slice(r * w, w));
            }
            Span<float> pre = ws.Pre.AsSpan(0, rows * w);
            Gemm.Multiply(false, true, rows, w, w, 1f, h, block.First.W, 0f, pre, 1);
            for (int r = 0; r < rows; r++) TensorPrimitives.Add(pre.Slice(r * w, w), block.First.B, pre.Slice(r * w, w));
            SiLU(pre, ws.Slopes[slope++].AsSpan(0, rows * w), ws.Scratch.AsSpan(0, rows * w));
            if (block.Second is { } second)
            {
                Span<float> branch = ws.Scratch.AsSpan(0, rows * w);
                Gemm.Multiply(false, true, rows, w, w, 1f, pre, second.W, 0f, branch, 1);
                for (int r = 0; r < rows; r++)
                {
                    TensorPrimitives.Add(branch.Slice(r * w, w), second.B, branch.Slice(r * w, w));
                    TensorPrimitives.Add(h.Slice(r * w, w), branch.Slice(r * w, w), h.Slice(r * w, w));
                }
            }
            else pre.CopyTo(h);
        }
        Span<float> output = ws.F.AsSpan(0, n);
        Gemm.Multiply(false, true, rows, d, w, 1f, h, _outputWeights, 0f, output, 1);
        for (int i = 0; i < n; i++)
        {
            x0[i] = _mean[i % d] + scale * (pc.Skip * z[i] + pc.Output * (output[i] + _outputBias[i % d]));
        }

        // Tangents: input tangent v (basis vector or probe) in y units is c_in v / scale in network-input units.
        float tangentScale = (float)(pc.Input / scale);
        Span<float> t = ws.T.AsSpan(0, tr * w);
        ReadOnlySpan<float> slope0 = ws.Slopes[0];
        if (_exact)
        {
            // First layer, basis vector e_k: slope (.) (scale Wx[:, k]), no product needed.
            Span<float> column = ws.Shift;
            for (int k = 0; k < d; k++)
            {
                for (int j = 0; j < w; j++) column[j] = tangentScale * _inputWeights[j * d + k];
                for (int r = 0; r < rows; r++)
                    TensorPrimitives.Multiply(slope0.Slice(r * w, w), column, t.Slice((r * p + k) * w, w));
            }
        }
        else
        {
            Span<float> projected = ws.Scratch.AsSpan(0, tr * w);
            Gemm.Multiply(false, true, tr, w, d, tangentScale, ws.Probes.AsSpan(0, tr * d), _inputWeights, 0f, projected, 1);
            for (int i = 0; i < tr; i++)
                TensorPrimitives.Multiply(slope0.Slice(i / p * w, w), projected.Slice(i * w, w), t.Slice(i * w, w));
        }
        slope = 1;
        foreach (var block in _blocks)
        {
            Span<float> next = ws.T2.AsSpan(0, tr * w);
            Gemm.Multiply(false, true, tr, w, w, 1f, t, block.First.W, 0f, next, 1);
            ReadOnlySpan<float> s = ws.Slopes[slope++];
            for (int i = 0; i < tr; i++)
                TensorPrimitives.Multiply(next.Slice(i * w, w), s.Slice(i / p * w, w), next.Slice(i * w, w));
            if (block.Second is { } second)
            {
                // t += (slope (.) t W1^T) W2^T.
                Gemm.Multiply(false, true, tr, w, w, 1f, next, second.W, 1f, t, 1);
            }
            else (ws.T, ws.T2) = (ws.T2, ws.T);
            t = ws.T.AsSpan(0, tr * w);
        }
        double jScale = scale * pc.Output;
        if (_exact)
        {
            // tr(J) = d c_skip + scale c_out sum_k (Wout[k, :] . t_k): only the diagonal of the output layer.
            for (int r = 0; r < rows; r++)
            {
                double diag = 0;
                for (int k = 0; k < d; k++)
                    diag += TensorPrimitives.Dot(_outputWeights.AsSpan(k * w, w), t.Slice((r * p + k) * w, w));
                trace.Slice(r * p, p).Fill(d * pc.Skip + jScale * diag);
            }
        }
        else
        {
            Span<float> jv = ws.TF.AsSpan(0, tr * d);
            Gemm.Multiply(false, true, tr, d, w, 1f, t, _outputWeights, 0f, jv, 1);
            ReadOnlySpan<float> probes = ws.Probes;
            for (int i = 0; i < tr; i++)
            {
                double vjv = TensorPrimitives.Dot(probes.Slice(i * d, d), jv.Slice(i * d, d));
                trace[i] = d * pc.Skip + jScale * vjv;
            }
        }
    }

    /// <summary>In place: values = silu(values); slopes = silu'(values) of the old values.</summary>
    private static void SiLU(Span<float> values, Span<float> slopes, Span<float> sigmoid)
    {
        TensorPrimitives.Sigmoid(values, sigmoid);
        for (int i = 0; i < values.Length; i++)
        {
            float zz = values[i], s = sigmoid[i];
            slopes[i] = s * (1f + zz * (1f - s));
            values[i] = zz * s;
        }
    }

    private sealed class Dense
    {
        public Dense(Linear layer)
        {
            W = layer.Weights.ToArray();
            B = layer.Bias.ToArray();
        }

        public float[] W { get; }

        public float[] B { get; }
    }

    private sealed record Block(Dense First, Dense? Second, Dense? Projection);

    /// <summary>Buffers of one running chunk.</summary>
    private sealed class Workspace
    {
        public Workspace(int rows, int d, int w, int probes, int embedding, int siluLayers)
        {
            int n = rows * d, e = rows * probes;
            Y = new double[n];
            Stage = new double[n];
            Scaled = new double[n];
            X0 = new double[n];
            Z = new double[n];
            U = new float[n];
            F = new float[n];
            K = new double[7][];
            G = new double[7][];
            for (int k = 0; k < 7; k++)
            {
                K[k] = new double[n];
                G[k] = new double[e];
            }
            Accumulated = new double[e];
            ErrorLog = new double[rows];
            ErrorAccumulated = new double[rows];
            PriorLog = new double[rows];
            Embedding = new float[embedding];
            Bias = new float[w];
            Shift = new float[w];
            H = new float[rows * w];
            Pre = new float[rows * w];
            Slopes = new float[siluLayers][];
            for (int i = 0; i < Slopes.Length; i++) Slopes[i] = new float[rows * w];
            Scratch = new float[Math.Max(rows, e) * w];
            T = new float[e * w];
            T2 = new float[e * w];
            TF = new float[e * d];
            Probes = new float[e * d];
        }

        public double[] Y, Stage, Scaled, X0, Z, Accumulated, ErrorLog, ErrorAccumulated, PriorLog;
        public double[][] K, G;
        public float[] U, F, Embedding, Bias, Shift, H, Pre, Scratch, T, T2, TF, Probes;
        public float[][] Slopes;
    }
}
