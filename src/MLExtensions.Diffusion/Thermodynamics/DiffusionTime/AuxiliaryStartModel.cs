using MLExtensions.Diffusion.Numerics;
using MathNet.Numerics.LinearAlgebra;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// An auxiliary density model fitted by maximum likelihood to samples of the forward marginal P_T, used instead of the
/// prior N(0, I) as the start law of the reverse process when the forward process is truncated at T (Franzese et al.,
/// Entropy 25:633, 2023; SPEC section 6): a full-covariance Gaussian or a full-covariance Gaussian mixture.
/// </summary>
/// <remarks>
/// <para>Samples of P_T are drawn in closed form from data rows, x_T = m_T y + sigma_T eps
/// (<see cref="SampleForwardMarginal"/>). A single Gaussian is fitted exactly (sample mean and the 1/n covariance).
/// A mixture is fitted by EM: k-means++ seeding of the means from the injected random source (so a seed fixes the
/// fit), the pooled covariance and equal weights as the start, then EM steps until the mean log-likelihood improves
/// by less than the tolerance or the iteration cap is reached. Each component covariance gets a ridge
/// <c>regularization</c> * I to keep EM away from singular components.</para>
/// <para>The fitted law is a <see cref="GaussianMixtureDenoiser"/> (<see cref="ToMarginalDensity"/>); <see cref="LogDensity"/>
/// and <see cref="Sample"/> delegate to it, so the mixture density has one home. EM's E-step keeps its own Cholesky-based
/// component log-densities because it needs the per-component responsibilities, which the shared mixture does not expose,
/// and rebuilds the model every iteration, where one Cholesky per component is cheaper than the shared type's eigendecomposition.</para>
/// <para>Immutable after fitting and thread-safe.</para>
/// </remarks>
public sealed class AuxiliaryStartModel
{
    private readonly double[] _weights, _means, _covariances, _cholesky, _logNormalizers;
    private GaussianMixtureDenoiser? _density;

    private AuxiliaryStartModel(int dimension, double[] weights, double[] means, double[] covariances, double meanLogLikelihood,
        int iterations, bool converged)
    {
        Dimension = dimension;
        _weights = weights;
        _means = means;
        _covariances = covariances;
        int k = weights.Length, dd = dimension * dimension;
        _cholesky = new double[k * dd];
        _logNormalizers = new double[k];
        for (int c = 0; c < k; c++)
        {
            double logDet = Factor(covariances.AsSpan(c * dd, dd), dimension, _cholesky.AsSpan(c * dd, dd));
            _logNormalizers[c] = Math.Log(weights[c]) - 0.5 * dimension * Math.Log(2 * Math.PI) - 0.5 * logDet;
        }
        MeanLogLikelihood = double.IsNaN(meanLogLikelihood) ? 0 : meanLogLikelihood;
        Iterations = iterations;
        Converged = converged;
    }

    /// <summary>The dimension d.</summary>
    public int Dimension { get; }

    /// <summary>The number of components k (1 for a Gaussian).</summary>
    public int Components => _weights.Length;

    /// <summary>The mixture weights, summing to 1.</summary>
    public ReadOnlySpan<double> Weights => _weights;

    /// <summary>The component means, k rows of d.</summary>
    public ReadOnlySpan<double> Means => _means;

    /// <summary>The component covariances, k row-major d x d blocks.</summary>
    public ReadOnlySpan<double> Covariances => _covariances;

    /// <summary>The mean log-likelihood of the fitting samples under the fitted model.</summary>
    public double MeanLogLikelihood { get; }

    /// <summary>EM iterations run (0 for a single Gaussian).</summary>
    public int Iterations { get; }

    /// <summary>Whether EM met the tolerance before the iteration cap (always true for a single Gaussian).</summary>
    public bool Converged { get; }

    /// <summary>
    /// Draws samples of P_t in closed form: each data row y gives <paramref name="samplesPerRow"/> rows m y + sigma eps.
    /// </summary>
    /// <param name="dataRows">Data rows, row-major, finite, at least one row.</param>
    /// <param name="dimension">d &gt;= 1.</param>
    /// <param name="m">The signal scale m_t, finite and non-negative.</param>
    /// <param name="sigma">The noise scale sigma_t, finite and non-negative.</param>
    /// <param name="samplesPerRow">Draws per data row, at least 1.</param>
    /// <param name="random">The random source.</param>
    /// <returns>n * samplesPerRow rows of d.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="dataRows"/> is empty, mis-sized or non-finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An argument out of range.</exception>
    public static double[] SampleForwardMarginal(ReadOnlySpan<double> dataRows, int dimension, double m, double sigma,
        int samplesPerRow, Random random)
    {
        int n = CheckRows(dataRows, dimension, 1, nameof(dataRows));
        if (!double.IsFinite(m) || m < 0) throw new ArgumentOutOfRangeException(nameof(m), m, "The signal scale m must be finite and non-negative.");
        if (!double.IsFinite(sigma) || sigma < 0) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "The noise scale sigma must be finite and non-negative.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samplesPerRow);
        ArgumentNullException.ThrowIfNull(random);
        var x = new double[n * samplesPerRow * dimension];
        StandardNormal.Fill(random, x);
        for (int r = 0; r < n; r++)
            for (int s = 0; s < samplesPerRow; s++)
            {
                int o = (r * samplesPerRow + s) * dimension;
                for (int j = 0; j < dimension; j++) x[o + j] = m * dataRows[r * dimension + j] + sigma * x[o + j];
            }
        return x;
    }

    /// <summary>
    /// Samples P_T of the data rows under <paramref name="schedule"/> at <paramref name="horizon"/> and fits a Gaussian
    /// (<paramref name="components"/> = 1) or a k-component mixture to them.
    /// </summary>
    /// <param name="dataRows">Data rows, row-major.</param>
    /// <param name="dimension">d &gt;= 1.</param>
    /// <param name="schedule">The forward schedule.</param>
    /// <param name="horizon">T in (0, <see cref="NoiseSchedule.MaxTime"/>].</param>
    /// <param name="components">k &gt;= 1.</param>
    /// <param name="random">The random source (sampling and EM seeding).</param>
    /// <param name="samplesPerRow">Draws of x_T per data row.</param>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> or <paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentException">See <see cref="FitGaussian"/> and <see cref="FitMixture"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="horizon"/> or a count is out of range.</exception>
    public static AuxiliaryStartModel FitToForwardMarginal(ReadOnlySpan<double> dataRows, int dimension, NoiseSchedule schedule,
        double horizon, int components, Random random, int samplesPerRow = 1)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (!double.IsFinite(horizon) || horizon <= 0 || horizon > schedule.MaxTime)
            throw new ArgumentOutOfRangeException(nameof(horizon), horizon, $"The horizon must lie in (0, {schedule.MaxTime}].");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(components);
        var x = SampleForwardMarginal(dataRows, dimension, schedule.M(horizon), schedule.Sigma(horizon), samplesPerRow, random);
        return components == 1 ? FitGaussian(x, dimension) : FitMixture(x, dimension, components, random);
    }

    /// <summary>Fits N(mean, covariance) by maximum likelihood: the sample mean and the 1/n sample covariance.</summary>
    /// <param name="samples">Rows, row-major; more rows than the dimension, all finite.</param>
    /// <param name="dimension">d &gt;= 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="samples"/> is mis-sized, has at most d rows, holds a
    /// non-finite value, or its covariance is singular.</exception>
    public static AuxiliaryStartModel FitGaussian(ReadOnlySpan<double> samples, int dimension)
    {
        int n = CheckRows(samples, dimension, dimension + 1, nameof(samples));
        var mean = new double[dimension];
        var cov = new double[dimension * dimension];
        var ones = new double[n];
        Array.Fill(ones, 1.0);
        WeightedMoments(samples, dimension, ones, mean, cov, 0);
        try
        {
            var model = new AuxiliaryStartModel(dimension, [1.0], mean, cov, double.NaN, 0, true);
            return WithLikelihood(model, samples, 0, true);
        }
        catch (ArgumentException e) when (e.ParamName is null or "covariance")
        {
            throw new ArgumentException("The sample covariance is singular; the samples are degenerate.", nameof(samples), e);
        }
    }

    /// <summary>Fits a k-component full-covariance Gaussian mixture by EM (see remarks).</summary>
    /// <param name="samples">Rows, row-major; at least k rows and more than d rows, all finite.</param>
    /// <param name="dimension">d &gt;= 1.</param>
    /// <param name="components">k &gt;= 1.</param>
    /// <param name="random">Seeds the k-means++ initialisation.</param>
    /// <param name="maxIterations">EM iteration cap, at least 1.</param>
    /// <param name="tolerance">Stop when the mean log-likelihood improves by less than this; finite and non-negative.</param>
    /// <param name="regularization">Ridge added to every component covariance; finite and non-negative.</param>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A count or tolerance is out of range.</exception>
    /// <exception cref="ArgumentException"><paramref name="samples"/> is mis-sized, too short or non-finite, or a
    /// component covariance became singular (raise <paramref name="regularization"/>).</exception>
    public static AuxiliaryStartModel FitMixture(ReadOnlySpan<double> samples, int dimension, int components, Random random,
        int maxIterations = 200, double tolerance = 1e-8, double regularization = 1e-6)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(components);
        int n = CheckRows(samples, dimension, Math.Max(components, dimension + 1), nameof(samples));
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxIterations);
        if (!double.IsFinite(tolerance) || tolerance < 0)
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "The tolerance must be finite and non-negative.");
        if (!double.IsFinite(regularization) || regularization < 0)
            throw new ArgumentOutOfRangeException(nameof(regularization), regularization, "The regularization must be finite and non-negative.");
        int d = dimension, k = components, dd = d * d;

        // Start: k-means++ means, pooled covariance, equal weights.
        var weights = new double[k];
        Array.Fill(weights, 1.0 / k);
        var means = new double[k * d];
        var covs = new double[k * dd];
        var ones = new double[n];
        Array.Fill(ones, 1.0);
        var pooledMean = new double[d];
        var pooled = new double[dd];
        WeightedMoments(samples, d, ones, pooledMean, pooled, regularization);
        for (int c = 0; c < k; c++) pooled.CopyTo(covs, c * dd);
        SeedMeans(samples, d, k, random, means);

        var resp = new double[n * k];
        var column = new double[n];
        double previous = double.NegativeInfinity, logLikelihood = double.NegativeInfinity;
        int iteration = 0;
        bool converged = false;
        AuxiliaryStartModel model;
        while (true)
        {
            model = Build(d, weights, means, covs, samples);
            logLikelihood = model.Responsibilities(samples, resp);
            if (logLikelihood - previous < tolerance) { converged = true; break; }
            if (iteration == maxIterations) break;
            previous = logLikelihood;
            iteration++;
            weights = new double[k];
            means = new double[k * d];
            covs = new double[k * dd];
            for (int c = 0; c < k; c++)
            {
                double nk = 0;
                for (int r = 0; r < n; r++) nk += column[r] = resp[r * k + c];
                weights[c] = Math.Max(nk, 1e-300) / n;
                WeightedMoments(samples, d, column, means.AsSpan(c * d, d), covs.AsSpan(c * dd, dd), regularization);
            }
        }
        return new AuxiliaryStartModel(d, model._weights, model._means, model._covariances, logLikelihood, iteration, converged);
    }

    /// <summary>Fills <paramref name="destination"/> with independent rows drawn from the fitted model.</summary>
    /// <param name="random">The random source.</param>
    /// <param name="destination">Rows to fill; a positive multiple of <see cref="Dimension"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is mis-sized.</exception>
    public void Sample(Random random, Span<double> destination)
    {
        ArgumentNullException.ThrowIfNull(random);
        int d = Dimension;
        if (destination.Length == 0 || destination.Length % d != 0)
            throw new ArgumentException($"The destination length {destination.Length} is not a positive multiple of the dimension {d}.", nameof(destination));
        ToMarginalDensity().SampleData(random, destination);
    }

    /// <summary>Writes the fitted log-density for every row of <paramref name="x"/>.</summary>
    /// <param name="x">Rows, row-major; a positive multiple of <see cref="Dimension"/>.</param>
    /// <param name="destination">One entry per row.</param>
    /// <exception cref="ArgumentException">Mis-sized spans.</exception>
    public void LogDensity(ReadOnlySpan<double> x, Span<double> destination)
    {
        int d = Dimension;
        if (x.Length == 0 || x.Length % d != 0)
            throw new ArgumentException($"The input length {x.Length} is not a positive multiple of the dimension {d}.", nameof(x));
        if (destination.Length != x.Length / d)
            throw new ArgumentException($"The destination length {destination.Length} should be {x.Length / d}.", nameof(destination));
        ToMarginalDensity().LogDensity(x, 1, 0, destination);
    }

    /// <summary>
    /// The fitted law as a <see cref="GaussianMixtureDenoiser"/>, sum_k w_k N(mu_k, C_k): its log-density at m = 1,
    /// sigma = 0 is the fitted density, and it also gives the noised marginals, scores and the exact denoiser of the
    /// fitted law (built once on first use, then cached).
    /// </summary>
    /// <returns>The mixture (one component for a fitted Gaussian).</returns>
    /// <exception cref="ArgumentException">A fitted covariance is too ill-conditioned for the shared mixture (an eigenvalue at
    /// most d * machine epsilon * the largest); raise the regularization.</exception>
    public GaussianMixtureDenoiser ToMarginalDensity()
    {
        if (_density is { } cached) return cached;
        int d = Dimension;
        var covariances = new double[Components][,];
        for (int c = 0; c < Components; c++)
        {
            var block = new double[d, d];
            for (int i = 0; i < d; i++)
                for (int j = 0; j < d; j++) block[i, j] = _covariances[(c * d + i) * d + j];
            covariances[c] = block;
        }
        // A race only builds the same immutable object twice.
        return _density = GaussianMixtureDenoiser.Full(_weights, _means, covariances);
    }

    private static AuxiliaryStartModel Build(int d, double[] weights, double[] means, double[] covs, ReadOnlySpan<double> samples)
    {
        try
        {
            return new AuxiliaryStartModel(d, weights, means, covs, double.NaN, 0, false);
        }
        catch (ArgumentException e) when (e.ParamName is null or "covariance")
        {
            throw new ArgumentException("A mixture component covariance became singular; raise the regularization.", nameof(samples), e);
        }
    }

    private static AuxiliaryStartModel WithLikelihood(AuxiliaryStartModel model, ReadOnlySpan<double> samples, int iterations, bool converged)
    {
        var resp = new double[samples.Length / model.Dimension * model.Components];
        double ll = model.Responsibilities(samples, resp);
        return new AuxiliaryStartModel(model.Dimension, model._weights, model._means, model._covariances, ll, iterations, converged);
    }

    /// <summary>E-step: writes posterior responsibilities (rows of k) and returns the mean log-likelihood.</summary>
    private double Responsibilities(ReadOnlySpan<double> samples, Span<double> resp)
    {
        int d = Dimension, k = Components, n = samples.Length / d;
        Span<double> logs = k <= 64 ? stackalloc double[k] : new double[k];
        Span<double> z = d <= 128 ? stackalloc double[d] : new double[d];
        double total = 0;
        for (int r = 0; r < n; r++)
        {
            ComponentLogs(samples.Slice(r * d, d), logs, z);
            double lse = ElementaryFunctions.LogSumExp(logs);
            total += lse;
            for (int c = 0; c < k; c++) resp[r * k + c] = Math.Exp(logs[c] - lse);
        }
        return total / n;
    }

    /// <summary>ln w_c + ln N(x; mu_c, Sigma_c) for every component, by forward substitution with the Cholesky factor.</summary>
    private void ComponentLogs(ReadOnlySpan<double> row, Span<double> logs, Span<double> z)
    {
        int d = Dimension, dd = d * d;
        for (int c = 0; c < logs.Length; c++)
        {
            ReadOnlySpan<double> l = _cholesky.AsSpan(c * dd, dd);
            double q = 0;
            for (int i = 0; i < d; i++)
            {
                double v = row[i] - _means[c * d + i];
                for (int j = 0; j < i; j++) v -= l[i * d + j] * z[j];
                z[i] = v / l[i * d + i];
                q += z[i] * z[i];
            }
            logs[c] = _logNormalizers[c] - 0.5 * q;
        }
    }

    /// <summary>Weighted mean and (1/sum w) covariance plus ridge * I.</summary>
    private static void WeightedMoments(ReadOnlySpan<double> samples, int d, ReadOnlySpan<double> w, Span<double> mean, Span<double> cov, double ridge)
    {
        double total = Math.Max(SampleMoments.WeightedScatter(samples, d, w, mean, cov), 1e-300);
        for (int i = 0; i < d * d; i++) cov[i] /= total;
        for (int a = 0; a < d; a++) cov[a * d + a] += ridge;
    }

    /// <summary>k-means++ seeding: the first mean uniform, each next one drawn with probability proportional to the
    /// squared distance to the nearest mean chosen so far.</summary>
    private static void SeedMeans(ReadOnlySpan<double> samples, int d, int k, Random random, Span<double> means)
    {
        int n = samples.Length / d;
        var nearest = new double[n];
        Array.Fill(nearest, double.PositiveInfinity);
        int pick = random.Next(n);
        for (int c = 0; c < k; c++)
        {
            samples.Slice(pick * d, d).CopyTo(means.Slice(c * d, d));
            if (c == k - 1) break;
            double total = 0;
            for (int r = 0; r < n; r++)
            {
                double dist = 0;
                for (int j = 0; j < d; j++)
                {
                    double z = samples[r * d + j] - means[c * d + j];
                    dist += z * z;
                }
                nearest[r] = Math.Min(nearest[r], dist);
                total += nearest[r];
            }
            if (total == 0) { pick = random.Next(n); continue; }
            double u = random.NextDouble() * total;
            pick = n - 1;
            for (int r = 0; r < n; r++)
            {
                u -= nearest[r];
                if (u < 0) { pick = r; break; }
            }
        }
    }

    /// <summary>Cholesky factor (lower, row-major) of a covariance via MathNet; returns ln det.</summary>
    private static double Factor(ReadOnlySpan<double> covariance, int d, Span<double> lower)
    {
        var matrix = Matrix<double>.Build.Dense(d, d);
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) matrix[i, j] = covariance[i * d + j];
        Matrix<double> l;
        try
        {
            l = matrix.Cholesky().Factor;
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException("The covariance is not positive definite.", nameof(covariance), e);
        }
        double logDet = 0;
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++) lower[i * d + j] = j <= i ? l[i, j] : 0;
            double diag = l[i, i];
            if (!(diag > 0) || !double.IsFinite(diag))
                throw new ArgumentException("The covariance is not positive definite.", nameof(covariance));
            logDet += 2 * Math.Log(diag);
        }
        return logDet;
    }

    private static int CheckRows(ReadOnlySpan<double> rows, int dimension, int minRows, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (rows.Length == 0 || rows.Length % dimension != 0 || rows.Length / dimension < minRows)
            throw new ArgumentException($"Expected at least {minRows} rows of {dimension} features (got length {rows.Length}).", name);
        foreach (double v in rows)
            if (!double.IsFinite(v)) throw new ArgumentException("The rows hold a non-finite value.", name);
        return rows.Length / dimension;
    }
}
