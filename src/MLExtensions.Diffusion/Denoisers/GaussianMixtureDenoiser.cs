using System.Buffers;
using System.Numerics.Tensors;

namespace MLExtensions.Diffusion.Denoisers;

/// <summary>
/// The exact denoiser, marginal density and score of Gaussian-mixture data q = sum_k w_k N(mu_k, C_k) under
/// x = m y + sigma eps (SPEC section 8): P = sum_k w_k N(m mu_k, m^2 C_k + sigma^2 I),
/// E[y | x] = sum_k r_k(x) [mu_k + m C_k (m^2 C_k + sigma^2 I)^-1 (x - m mu_k)] and
/// grad ln P(x) = -sum_k r_k(x) (m^2 C_k + sigma^2 I)^-1 (x - m mu_k), with the responsibilities
/// r_k proportional to w_k N(x; m mu_k, m^2 C_k + sigma^2 I).
/// </summary>
/// <remarks>
/// <para>Weights may be any positive finite numbers; they are normalised to sum to 1 (see <see cref="Weights"/>).</para>
/// <para>Numerics: each covariance is diagonalised once at construction (MathNet symmetric eigendecomposition), so a call
/// only forms s_i = m^2 lambda_i + sigma^2 per principal axis and never inverts a matrix; the responsibilities are
/// computed by a log-sum-exp of ln w_k + ln N. Results stay finite for sigma -&gt; 0, m -&gt; 0 and far-out rows
/// as long as s_i neither underflows to 0 nor overflows (roughly m^2 lambda_i + sigma^2 in [1e-300, 1e300]) and the
/// Mahalanobis forms |x - m mu_k|^2 / s stay below double.MaxValue (e.g. |x| = 1e3 with s = 1e-16 is fine).
/// At sigma = 0, <see cref="Denoise"/> returns x / m exactly (IDenoiser contract).</para>
/// <para>Cost per row: O(K d) for diagonal covariances, O(K d^2) for full ones; no allocation per row. Per call one
/// scratch block of 3 K d + 2 K + d doubles is rented from <see cref="ArrayPool{T}.Shared"/>.</para>
/// <para>Immutable and thread-safe: scratch is per call, never shared.</para>
/// </remarks>
public sealed class GaussianMixtureDenoiser : IMarginalDensity, IDenoiserJacobian
{
    private readonly GaussianComponent[] _components;
    private readonly double[] _weights;
    private readonly double[] _logWeights;
    private readonly double[] _means;

    private GaussianMixtureDenoiser(ReadOnlySpan<double> weights, GaussianComponent[] components)
    {
        _components = components;
        double total = 0;
        foreach (double w in weights) total += w;
        _weights = new double[weights.Length];
        _logWeights = new double[weights.Length];
        for (int k = 0; k < weights.Length; k++)
        {
            _weights[k] = weights[k] / total;
            _logWeights[k] = Math.Log(weights[k]) - Math.Log(total);
        }
        int d = components[0].Dimension;
        _means = new double[components.Length * d];
        for (int k = 0; k < components.Length; k++) components[k].Mean.CopyTo(_means.AsSpan(k * d, d));
    }

    /// <summary>A mixture of diagonal Gaussians N(mu_k, diag(v_k)).</summary>
    /// <param name="weights">K positive finite weights (normalised internally).</param>
    /// <param name="means">The K means, row-major: mean k is means[k d .. (k + 1) d); the length fixes d = means.Length / K.</param>
    /// <param name="variances">The K variance vectors, laid out like <paramref name="means"/>; all entries finite and positive.</param>
    /// <returns>The mixture.</returns>
    /// <exception cref="ArgumentException">A weight is not finite and positive or there are none; the means are empty, non-finite or
    /// not K rows; the variances are mis-sized, non-finite or not positive. ParamName names the offending argument.</exception>
    public static GaussianMixtureDenoiser Diagonal(ReadOnlySpan<double> weights, ReadOnlySpan<double> means, ReadOnlySpan<double> variances)
    {
        int d = CheckWeightsAndMeans(weights, means);
        if (variances.Length != means.Length)
            throw new ArgumentException($"The variances have {variances.Length} entries but the means have {means.Length}.", nameof(variances));
        var components = new GaussianComponent[weights.Length];
        for (int k = 0; k < components.Length; k++)
            components[k] = GaussianComponent.Diagonal(means.Slice(k * d, d), variances.Slice(k * d, d), nameof(means), nameof(variances), $"Component {k}");
        return new GaussianMixtureDenoiser(weights, components);
    }

    /// <summary>A mixture of isotropic Gaussians N(mu_k, s_k^2 I).</summary>
    /// <param name="weights">K positive finite weights (normalised internally).</param>
    /// <param name="means">The K means, row-major; d = means.Length / K.</param>
    /// <param name="standardDeviations">The K standard deviations s_k, finite and positive.</param>
    /// <returns>The mixture.</returns>
    /// <exception cref="ArgumentException">As for <see cref="Diagonal"/>; or <paramref name="standardDeviations"/> does not hold K finite positive values.</exception>
    public static GaussianMixtureDenoiser Isotropic(ReadOnlySpan<double> weights, ReadOnlySpan<double> means, ReadOnlySpan<double> standardDeviations)
    {
        int d = CheckWeightsAndMeans(weights, means);
        if (standardDeviations.Length != weights.Length)
            throw new ArgumentException($"There are {standardDeviations.Length} standard deviations for {weights.Length} components.", nameof(standardDeviations));
        var variances = new double[means.Length];
        for (int k = 0; k < weights.Length; k++)
        {
            double s = standardDeviations[k];
            if (!double.IsFinite(s) || s <= 0)
                throw new ArgumentException($"Component {k}: the standard deviation must be finite and positive (got {s}).", nameof(standardDeviations));
            variances.AsSpan(k * d, d).Fill(s * s);
        }
        return Diagonal(weights, means, variances);
    }

    /// <summary>A mixture of Gaussians N(mu_k, C_k) with full symmetric positive-definite covariances.</summary>
    /// <param name="weights">K positive finite weights (normalised internally).</param>
    /// <param name="means">The K means, row-major; d = means.Length / K.</param>
    /// <param name="covariances">K symmetric positive-definite d x d matrices (copied).</param>
    /// <returns>The mixture.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="covariances"/> or one of its matrices is null.</exception>
    /// <exception cref="ArgumentException">As for <see cref="Diagonal"/> for weights and means; or the covariances are not K matrices of
    /// size d x d, hold non-finite values, are not symmetric, or are not numerically positive definite (an eigenvalue at most
    /// d * machine epsilon * the largest).</exception>
    public static GaussianMixtureDenoiser Full(ReadOnlySpan<double> weights, ReadOnlySpan<double> means, IReadOnlyList<double[,]> covariances)
    {
        ArgumentNullException.ThrowIfNull(covariances);
        int d = CheckWeightsAndMeans(weights, means);
        if (covariances.Count != weights.Length)
            throw new ArgumentException($"There are {covariances.Count} covariances for {weights.Length} components.", nameof(covariances));
        var components = new GaussianComponent[weights.Length];
        for (int k = 0; k < components.Length; k++)
            components[k] = GaussianComponent.Full(means.Slice(k * d, d), covariances[k], nameof(means), nameof(covariances), $"Component {k}");
        return new GaussianMixtureDenoiser(weights, components);
    }

    /// <summary>Wraps already validated components (used by <see cref="GaussianDenoiser"/>).</summary>
    internal static GaussianMixtureDenoiser FromComponent(GaussianComponent component) => new([1.0], [component]);

    /// <inheritdoc />
    public int Dimension => _components[0].Dimension;

    /// <summary>The number of components K.</summary>
    public int ComponentCount => _components.Length;

    /// <summary>The mixture weights, normalised to sum to 1.</summary>
    public ReadOnlySpan<double> Weights => _weights;

    /// <summary>The component means, row-major: mean k is Means[k d .. (k + 1) d).</summary>
    public ReadOnlySpan<double> Means => _means;

    /// <summary>Whether every covariance is diagonal (built by <see cref="Diagonal"/> or <see cref="Isotropic"/>).</summary>
    public bool IsDiagonal => Array.TrueForAll(_components, c => c.IsDiagonal);

    /// <summary>The covariance of one component, as a new d x d array (reassembled from its eigendecomposition).</summary>
    /// <param name="component">The index k in [0, K).</param>
    /// <returns>C_k.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="component"/> is outside [0, K).</exception>
    public double[,] GetCovariance(int component)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(component);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(component, _components.Length);
        return _components[component].Covariance();
    }

    /// <inheritdoc />
    public void Denoise(ReadOnlySpan<double> x, double m, double sigma, Span<double> x0)
    {
        int rows = DenoiserArguments.Check(Dimension, x, m, sigma, x0);
        if (((ReadOnlySpan<double>)x0).Overlaps(x))
            throw new ArgumentException("The destination must not overlap the input.", nameof(x0));
        if (sigma == 0)
        {
            TensorPrimitives.Divide(x, m, x0);
            return;
        }
        Evaluate(x, m, sigma, rows, x0, Span<double>.Empty, Span<double>.Empty);
    }

    /// <summary>
    /// x0hat and the exact J v, J = d x0hat / dx = (m / sigma^2) Cov[y | x] (second-order Tweedie identity):
    /// J v = sum_k r_k [G_k v + (g_k . v) (mu_k(x) - x0hat)], with G_k = m C_k (m^2 C_k + sigma^2 I)^-1 the component's
    /// gain, g_k = -(m^2 C_k + sigma^2 I)^-1 (x - m mu_k) its score and mu_k(x) its posterior mean; the second term is
    /// the derivative of the responsibilities, sum_k (grad r_k . v) mu_k(x), written with the centred means (it is
    /// unchanged because sum_k r_k (mu_k(x) - x0hat) = 0, and cancels less).
    /// </summary>
    /// <remarks>Cost per row O(K d) (diagonal) or O(K d^2) (full); scratch rented per call, nothing allocated per row.
    /// At sigma = 0, x0hat = x / m and J v = v / m.</remarks>
    /// <inheritdoc />
    public void JacobianVectorProduct(ReadOnlySpan<double> x, double m, double sigma, ReadOnlySpan<double> v, Span<double> x0, Span<double> jv)
    {
        int rows = DenoiserArguments.CheckJacobian(Dimension, x, m, sigma, v, x0, jv);
        if (sigma == 0)
        {
            TensorPrimitives.Divide(x, m, x0);
            TensorPrimitives.Divide(v, m, jv);
            return;
        }
        int d = Dimension, k = _components.Length;
        double[] block = ArrayPool<double>.Shared.Rent(4 * k * d + 2 * k + 2 * d);
        try
        {
            Span<double> all = block;
            Span<double> inverseVariance = all.Slice(0, k * d);
            Span<double> gain = all.Slice(k * d, k * d);
            Span<double> projected = all.Slice(2 * k * d, k * d);
            Span<double> projectedTangent = all.Slice(3 * k * d, k * d);
            Span<double> logNorm = all.Slice(4 * k * d, k);
            Span<double> weights = all.Slice(4 * k * d + k, k);
            Span<double> delta = all.Slice(4 * k * d + 2 * k, d);
            Span<double> componentMean = all.Slice(4 * k * d + 2 * k + d, d);
            for (int c = 0; c < k; c++)
                logNorm[c] = _logWeights[c] + _components[c].Prepare(m, sigma, inverseVariance.Slice(c * d, d), gain.Slice(c * d, d));
            if (k == 1 && _components[0].IsDiagonal)
            {
                _components[0].DiagonalPosteriorMean(x, m, gain, x0);
                for (int o = 0; o < x.Length; o += d)
                    TensorPrimitives.Multiply(v.Slice(o, d), gain, jv.Slice(o, d));
                return;
            }
            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<double> row = x.Slice(r * d, d), tangent = v.Slice(r * d, d);
                Span<double> meanRow = x0.Slice(r * d, d), jvRow = jv.Slice(r * d, d);
                double max = double.NegativeInfinity;
                for (int c = 0; c < k; c++)
                {
                    Span<double> z = projected.Slice(c * d, d);
                    _components[c].Project(row, m, delta, z);
                    _components[c].Project(tangent, 0, delta, projectedTangent.Slice(c * d, d));
                    double logit = logNorm[c] - 0.5 * GaussianComponent.Quadratic(z, inverseVariance.Slice(c * d, d));
                    weights[c] = logit;
                    if (logit > max) max = logit;
                }
                double sum = 0;
                for (int c = 0; c < k; c++) sum += weights[c] = Math.Exp(weights[c] - max);
                for (int c = 0; c < k; c++) weights[c] /= sum;
                meanRow.Clear();
                for (int c = 0; c < k; c++)
                    if (weights[c] != 0) _components[c].AddPosteriorMean(projected.Slice(c * d, d), gain.Slice(c * d, d), weights[c], meanRow);
                jvRow.Clear();
                for (int c = 0; c < k; c++)
                {
                    double responsibility = weights[c];
                    if (responsibility == 0) continue;
                    ReadOnlySpan<double> z = projected.Slice(c * d, d), w = projectedTangent.Slice(c * d, d), inv = inverseVariance.Slice(c * d, d);
                    _components[c].AddScaled(w, gain.Slice(c * d, d), responsibility, jvRow);
                    if (k == 1) continue;
                    double scoreDotTangent = 0;
                    for (int i = 0; i < d; i++) scoreDotTangent -= z[i] * inv[i] * w[i];
                    componentMean.Clear();
                    _components[c].AddPosteriorMean(z, gain.Slice(c * d, d), 1.0, componentMean);
                    double coefficient = responsibility * scoreDotTangent;
                    for (int j = 0; j < d; j++) jvRow[j] += coefficient * (componentMean[j] - meanRow[j]);
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(block);
        }
    }

    /// <inheritdoc />
    public double LogDensity(ReadOnlySpan<double> row, double m, double sigma)
    {
        if (row.Length != Dimension)
            throw new ArgumentException($"The row has {row.Length} entries but the dimension is {Dimension}.", nameof(row));
        DenoiserArguments.CheckDensity(Dimension, row, m, sigma);
        Span<double> result = stackalloc double[1];
        Evaluate(row, m, sigma, 1, Span<double>.Empty, Span<double>.Empty, result);
        return result[0];
    }

    /// <inheritdoc />
    public void LogDensity(ReadOnlySpan<double> x, double m, double sigma, Span<double> logDensity)
    {
        int rows = DenoiserArguments.CheckDensity(Dimension, x, m, sigma);
        if (logDensity.Length != rows)
            throw new ArgumentException($"The destination has {logDensity.Length} entries for {rows} rows.", nameof(logDensity));
        if (((ReadOnlySpan<double>)logDensity).Overlaps(x))
            throw new ArgumentException("The destination must not overlap the input.", nameof(logDensity));
        Evaluate(x, m, sigma, rows, Span<double>.Empty, Span<double>.Empty, logDensity);
    }

    /// <inheritdoc />
    public void Score(ReadOnlySpan<double> x, double m, double sigma, Span<double> score)
    {
        int rows = DenoiserArguments.CheckDensity(Dimension, x, m, sigma);
        if (score.Length != x.Length)
            throw new ArgumentException($"The destination length {score.Length} differs from the input length {x.Length}.", nameof(score));
        if (((ReadOnlySpan<double>)score).Overlaps(x))
            throw new ArgumentException("The destination must not overlap the input.", nameof(score));
        Evaluate(x, m, sigma, rows, Span<double>.Empty, score, Span<double>.Empty);
    }

    /// <inheritdoc />
    public void SampleData(Random random, Span<double> destination)
    {
        ArgumentNullException.ThrowIfNull(random);
        int d = Dimension;
        if (destination.Length == 0 || destination.Length % d != 0)
            throw new ArgumentException($"The destination length {destination.Length} is not a positive multiple of the dimension {d}.", nameof(destination));
        double[] scratch = ArrayPool<double>.Shared.Rent(d);
        try
        {
            for (int r = 0; r < destination.Length / d; r++)
            {
                int k = 0;
                if (_components.Length > 1)
                {
                    double u = random.NextDouble(), cumulative = _weights[0];
                    while (k < _components.Length - 1 && u >= cumulative) cumulative += _weights[++k];
                }
                _components[k].Sample(random, destination.Slice(r * d, d), scratch.AsSpan(0, d));
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// The one routine behind every public call. Per row: project the row into every component's principal axes and form
    /// the logits ln w_k + ln N_k; then the responsibilities r_k = exp(logit_k - max) / sum (log-sum-exp), and accumulate
    /// whichever of posterior mean, score and log-density is requested (an empty span skips it). Components whose
    /// responsibility underflows to exactly 0 are skipped.
    /// </summary>
    private void Evaluate(ReadOnlySpan<double> x, double m, double sigma, int rows, Span<double> mean, Span<double> score, Span<double> logDensity)
    {
        int d = Dimension, k = _components.Length;
        double[] block = ArrayPool<double>.Shared.Rent(3 * k * d + 2 * k + d);
        try
        {
            Span<double> all = block;
            Span<double> inverseVariance = all.Slice(0, k * d);
            Span<double> gain = all.Slice(k * d, k * d);
            Span<double> projected = all.Slice(2 * k * d, k * d);
            Span<double> logNorm = all.Slice(3 * k * d, k);
            Span<double> logits = all.Slice(3 * k * d + k, k);
            Span<double> delta = all.Slice(3 * k * d + 2 * k, d);
            for (int c = 0; c < k; c++)
                logNorm[c] = _logWeights[c] + _components[c].Prepare(m, sigma, inverseVariance.Slice(c * d, d), gain.Slice(c * d, d));

            bool wantMean = !mean.IsEmpty, wantScore = !score.IsEmpty, wantLog = !logDensity.IsEmpty;
            bool needLogits = k > 1 || wantLog;
            if (k == 1 && wantMean && !wantScore && !wantLog && _components[0].IsDiagonal)
            {
                _components[0].DiagonalPosteriorMean(x.Slice(0, rows * d), m, gain, mean);
                return;
            }
            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<double> row = x.Slice(r * d, d);
                double max = double.NegativeInfinity;
                for (int c = 0; c < k; c++)
                {
                    Span<double> z = projected.Slice(c * d, d);
                    _components[c].Project(row, m, delta, z);
                    if (!needLogits) continue;
                    double logit = logNorm[c] - 0.5 * GaussianComponent.Quadratic(z, inverseVariance.Slice(c * d, d));
                    logits[c] = logit;
                    if (logit > max) max = logit;
                }

                // With one component and no log-density the responsibility is exactly 1.
                double sum = 1;
                if (needLogits)
                {
                    sum = 0;
                    for (int c = 0; c < k; c++) sum += logits[c] = Math.Exp(logits[c] - max);
                    if (wantLog) logDensity[r] = max + Math.Log(sum);
                }
                if (!wantMean && !wantScore) continue;

                Span<double> meanRow = wantMean ? mean.Slice(r * d, d) : Span<double>.Empty;
                Span<double> scoreRow = wantScore ? score.Slice(r * d, d) : Span<double>.Empty;
                meanRow.Clear();
                scoreRow.Clear();
                double inverseSum = 1.0 / sum;
                for (int c = 0; c < k; c++)
                {
                    double responsibility = needLogits ? logits[c] * inverseSum : 1.0;
                    if (responsibility == 0) continue;
                    ReadOnlySpan<double> z = projected.Slice(c * d, d);
                    if (wantMean) _components[c].AddPosteriorMean(z, gain.Slice(c * d, d), responsibility, meanRow);
                    if (wantScore) _components[c].AddScore(z, inverseVariance.Slice(c * d, d), responsibility, scoreRow);
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(block);
        }
    }

    private static int CheckWeightsAndMeans(ReadOnlySpan<double> weights, ReadOnlySpan<double> means)
    {
        if (weights.Length == 0) throw new ArgumentException("There must be at least one weight.", nameof(weights));
        double total = 0;
        foreach (double w in weights)
        {
            if (!double.IsFinite(w) || w <= 0)
                throw new ArgumentException($"Every weight must be finite and positive (got {w}).", nameof(weights));
            total += w;
        }
        if (!double.IsFinite(total)) throw new ArgumentException("The weights' sum overflows.", nameof(weights));
        if (means.Length == 0 || means.Length % weights.Length != 0)
            throw new ArgumentException($"The means have {means.Length} entries, not a positive multiple of the {weights.Length} components.", nameof(means));
        return means.Length / weights.Length;
    }
}
