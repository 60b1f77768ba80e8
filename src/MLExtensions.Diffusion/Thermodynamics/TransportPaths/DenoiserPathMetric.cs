using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Randomness;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The Gaussian-path metric (<see cref="IGaussianPathMetric"/>) of any data, by Monte Carlo with a denoiser
/// D(x; m, sigma) ~ E[y | x]: A = E|D|^2, B = E&lt;D, epshat&gt;, C = E|epshat|^2 with epshat = (x - m D) / sigma,
/// evaluated at (m, sigma) = (cos phi, sin phi).
/// </summary>
/// <remarks>
/// <para>The pairs (y_k, eps_k), k &lt; n, are fixed at construction: y_k runs through the data rows in an order
/// shuffled by the seed (cycling through all rows when n exceeds their number) and eps_k ~ N(0, I) is drawn once from the
/// same seed (<see cref="StandardNormal"/>). Every call reuses them (common random numbers), so the metric is a
/// deterministic function of phi, as smooth as the denoiser, and differences between paths carry much less noise than
/// the coefficients themselves. With the exact denoiser the estimates are unbiased for the coefficients of the
/// empirical law of the rows used.</para>
/// <para>Each evaluation calls the denoiser on batches of at most <c>batchRows</c> rows (one call per batch, in order).
/// Instances are immutable; they are thread-safe when the denoiser is.</para>
/// </remarks>
public sealed class DenoiserPathMetric : IGaussianPathMetric
{
    /// <summary>Default number of (y, eps) pairs.</summary>
    public const int DefaultSamples = 4096;

    /// <summary>Default number of rows per denoiser call.</summary>
    public const int DefaultBatchRows = 1024;

    private readonly IDenoiser _denoiser;
    private readonly double[] _y;
    private readonly double[] _eps;
    private readonly int _batchRows;

    /// <summary>Creates the metric from data rows and a denoiser.</summary>
    /// <param name="denoiser">The denoiser supplying E[y | x] (exact or learned).</param>
    /// <param name="data">Data rows, row-major, a positive whole number of rows of the denoiser's dimension, finite.</param>
    /// <param name="samples">The number n of (y, eps) pairs; at least 2.</param>
    /// <param name="seed">Seed of the row shuffle and of the noise.</param>
    /// <param name="batchRows">The most rows per denoiser call; positive.</param>
    /// <exception cref="ArgumentNullException"><paramref name="denoiser"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> is empty, not a whole number of rows of the denoiser's
    /// dimension, or holds a non-finite value.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samples"/> &lt; 2 or <paramref name="batchRows"/>
    /// &lt; 1.</exception>
    public DenoiserPathMetric(IDenoiser denoiser, ReadOnlySpan<double> data, int samples = DefaultSamples, int seed = 0, int batchRows = DefaultBatchRows)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        int d = denoiser.Dimension;
        if (data.IsEmpty || data.Length % d != 0)
            throw new ArgumentException($"The data length {data.Length} is not a positive multiple of the denoiser's dimension {d}.", nameof(data));
        for (int i = 0; i < data.Length; i++)
            if (!double.IsFinite(data[i]))
                throw new ArgumentException($"The data must be finite, but row {i / d} holds {data[i]}.", nameof(data));
        if (samples < 2) throw new ArgumentOutOfRangeException(nameof(samples), samples, "'samples' must be at least 2.");
        if (batchRows < 1) throw new ArgumentOutOfRangeException(nameof(batchRows), batchRows, "'batchRows' must be positive.");
        int rows = data.Length / d;
        var random = new Random(seed);
        var order = new int[rows];
        for (int i = 0; i < rows; i++) order[i] = i;
        random.Shuffle(order);
        _y = new double[samples * d];
        for (int k = 0; k < samples; k++) data.Slice(order[k % rows] * d, d).CopyTo(_y.AsSpan(k * d, d));
        _eps = StandardNormal.Sample(random, samples * d);
        _denoiser = denoiser;
        _batchRows = batchRows;
        Dimension = d;
        Samples = samples;
    }

    /// <summary>The dimension d.</summary>
    public int Dimension { get; }

    /// <summary>The number n of (y, eps) pairs.</summary>
    public int Samples { get; }

    /// <inheritdoc />
    /// <param name="phi">The angle atan2(sigma, m), in the open interval (0, pi/2) (the denoiser needs m &gt; 0 and
    /// epshat needs sigma &gt; 0).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="phi"/> is NaN or outside (0, pi/2).</exception>
    /// <exception cref="ArgumentException">The denoiser returned a non-finite value.</exception>
    public GaussianPathCoefficients Coefficients(double phi) => Coefficients(phi, out _);

    /// <summary>The coefficients at <paramref name="phi"/> with their Monte Carlo standard errors (the sample standard
    /// deviations of the per-pair terms over sqrt(n)).</summary>
    /// <param name="phi">The angle atan2(sigma, m), in the open interval (0, pi/2).</param>
    /// <param name="standardError">The standard errors of A, B and C.</param>
    /// <returns>The sample means of |D|^2, &lt;D, epshat&gt; and |epshat|^2.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="phi"/> is NaN or outside (0, pi/2).</exception>
    /// <exception cref="ArgumentException">The denoiser returned a non-finite value.</exception>
    public GaussianPathCoefficients Coefficients(double phi, out GaussianPathCoefficients standardError)
    {
        if (!(phi > 0 && phi < GaussianPathGeodesic.HalfPi))
            throw new ArgumentOutOfRangeException(nameof(phi), phi, "The angle phi must lie in the open interval (0, pi/2).");
        double m = Math.Cos(phi), sigma = Math.Sin(phi);
        int d = Dimension, n = Samples;
        int batch = Math.Min(_batchRows, n);
        var x = new double[batch * d];
        var x0 = new double[batch * d];
        double sa = 0, sb = 0, sc = 0, saa = 0, sbb = 0, scc = 0;
        for (int start = 0; start < n; start += batch)
        {
            int count = Math.Min(batch, n - start);
            Span<double> xs = x.AsSpan(0, count * d), ds = x0.AsSpan(0, count * d);
            ReadOnlySpan<double> ys = _y.AsSpan(start * d, count * d), es = _eps.AsSpan(start * d, count * d);
            for (int i = 0; i < xs.Length; i++) xs[i] = m * ys[i] + sigma * es[i];
            _denoiser.Denoise(xs, m, sigma, ds);
            for (int r = 0; r < count; r++)
            {
                double a = 0, b = 0, c = 0;
                for (int j = r * d; j < (r + 1) * d; j++)
                {
                    double dj = ds[j];
                    if (!double.IsFinite(dj))
                        throw new ArgumentException($"The denoiser returned a non-finite value at phi = {phi}.", "denoiser");
                    double e = (xs[j] - m * dj) / sigma;
                    a += dj * dj;
                    b += dj * e;
                    c += e * e;
                }
                sa += a; sb += b; sc += c;
                saa += a * a; sbb += b * b; scc += c * c;
            }
        }
        double ma = sa / n, mb = sb / n, mc = sc / n;
        standardError = new GaussianPathCoefficients(Error(saa, ma, n), Error(sbb, mb, n), Error(scc, mc, n));
        return new GaussianPathCoefficients(ma, mb, mc);
    }

    private static double Error(double sumSquares, double mean, int n)
    {
        double variance = Math.Max(sumSquares - n * mean * mean, 0) / (n - 1);
        return Math.Sqrt(variance / n);
    }
}
