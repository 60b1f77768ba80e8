using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The optimal-transport path estimated from data rows (SPEC section 4): an exact assignment between the n data rows
/// y_i and n seeded draws z_j ~ N(0, I), straight lines x_t^i = (1 - u) y_i + u z_pi(i), and the Eulerian velocity by
/// Nadaraya-Watson kernel regression nu_t(x) = sum_i k_h(x_t^i - x) (z_pi(i) - y_i) / tau / sum_i k_h(x_t^i - x) with
/// a normalised Gaussian kernel of bandwidth h.
/// </summary>
/// <remarks>
/// <para>Ikeda, Uda, Okanohara, Ito, arXiv:2407.04495 (optimal protocol computed from samples). The assignment is
/// <see cref="AssignmentSolver.SolveSquaredEuclidean"/> (O(n^3) time, n^2 memory). The default bandwidth is Scott's
/// rule h = s n^(-1/(d + 4)), s the mean per-coordinate standard deviation of the pooled data and noise rows. The
/// kernel weights are computed by log-sum-exp, so a query far from every line still gets the velocity of the nearest
/// lines. Cost per query row O(n d), no allocation. As n grows and h shrinks the field tends to the exact OT velocity
/// (<see cref="OptimalTransportPath1D"/>, <see cref="GaussianOptimalTransportPath"/>).</para>
/// <para>Immutable after construction and thread-safe.</para>
/// </remarks>
public sealed class SampleOptimalTransportPath : IVelocityField
{
    private readonly double[] _start, _end;

    /// <summary>Builds the path from data rows and n standard normal draws from <paramref name="random"/>.</summary>
    /// <param name="dataRows">Data rows, row-major, n &gt;= 2 rows of <paramref name="dimension"/> finite values.</param>
    /// <param name="dimension">The dimension d &gt;= 1.</param>
    /// <param name="random">The random source of the Gaussian draws; seeded, the path is reproducible.</param>
    /// <param name="tau">The final time, finite and positive.</param>
    /// <param name="bandwidth">The kernel bandwidth h &gt; 0; null for Scott's rule.</param>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="dataRows"/> is mis-sized, has fewer than two rows or holds a non-finite value.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/>, <paramref name="tau"/> or <paramref name="bandwidth"/> is out of range.</exception>
    public SampleOptimalTransportPath(ReadOnlySpan<double> dataRows, int dimension, Random random, double tau = 1.0, double? bandwidth = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentNullException.ThrowIfNull(random);
        if (!double.IsFinite(tau) || tau <= 0)
            throw new ArgumentOutOfRangeException(nameof(tau), tau, "The final time tau must be finite and positive.");
        if (bandwidth is { } hb && (!double.IsFinite(hb) || hb <= 0))
            throw new ArgumentOutOfRangeException(nameof(bandwidth), hb, "The bandwidth must be finite and positive.");
        if (dataRows.Length % dimension != 0 || dataRows.Length / dimension < 2)
            throw new ArgumentException($"The data must hold at least two rows of {dimension} values (got length {dataRows.Length}).", nameof(dataRows));
        foreach (double v in dataRows)
            if (!double.IsFinite(v)) throw new ArgumentException("The data hold a non-finite value.", nameof(dataRows));
        int n = dataRows.Length / dimension;
        var noise = new double[dataRows.Length];
        StandardNormal.Fill(random, noise);
        AssignmentResult assignment = AssignmentSolver.SolveSquaredEuclidean(dataRows, noise, dimension);
        _start = dataRows.ToArray();
        _end = new double[dataRows.Length];
        for (int i = 0; i < n; i++)
            noise.AsSpan(assignment.Assignment[i] * dimension, dimension).CopyTo(_end.AsSpan(i * dimension, dimension));
        Dimension = dimension;
        Count = n;
        Tau = tau;
        MeanSquaredDisplacement = assignment.MeanCost;
        Bandwidth = bandwidth ?? ScottBandwidth(_start, _end, dimension);
    }

    /// <summary>The number n of lines.</summary>
    public int Count { get; }

    /// <inheritdoc />
    public int Dimension { get; }

    /// <summary>The final time tau.</summary>
    public double Tau { get; }

    /// <summary>The end of the path, tau.</summary>
    public double EndTime => Tau;

    /// <summary>The kernel bandwidth h.</summary>
    public double Bandwidth { get; }

    /// <summary>(1/n) sum_i |z_pi(i) - y_i|^2: W2^2 between the empirical data and noise laws.</summary>
    public double MeanSquaredDisplacement { get; }

    /// <summary>The data rows y_i (the lines' starts), row-major.</summary>
    public ReadOnlySpan<double> DataPoints => _start;

    /// <summary>The Gaussian draws matched to the data rows, z_pi(i) in row i (the lines' ends), row-major.</summary>
    public ReadOnlySpan<double> NoisePoints => _end;

    /// <summary>Writes the positions x_t^i = (1 - u) y_i + u z_pi(i) of the n particles.</summary>
    /// <param name="t">The time, in [0, tau].</param>
    /// <param name="destination">n rows of d.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> does not hold n rows of d.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is outside [0, tau].</exception>
    public void Positions(double t, Span<double> destination)
    {
        double u = FractionOf(t);
        if (destination.Length != _start.Length)
            throw new ArgumentException($"The destination length {destination.Length} should be {_start.Length}.", nameof(destination));
        for (int i = 0; i < _start.Length; i++) destination[i] = (1 - u) * _start[i] + u * _end[i];
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The input is empty, mis-sized or non-finite, or the lengths differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is outside [0, tau].</exception>
    public void Velocity(ReadOnlySpan<double> x, double t, Span<double> velocity)
    {
        int d = Dimension;
        if (x.Length == 0 || x.Length % d != 0)
            throw new ArgumentException($"The input length {x.Length} is not a positive multiple of the dimension {d}.", nameof(x));
        if (velocity.Length != x.Length)
            throw new ArgumentException($"The destination length {velocity.Length} differs from the input length {x.Length}.", nameof(velocity));
        double u = FractionOf(t), inv2h2 = 0.5 / (Bandwidth * Bandwidth);
        for (int r = 0; r < x.Length / d; r++)
        {
            ReadOnlySpan<double> q = x.Slice(r * d, d);
            foreach (double v in q)
                if (!double.IsFinite(v)) throw new ArgumentException($"Row {r} holds a non-finite value.", nameof(x));
            double minD2 = double.PositiveInfinity;
            for (int i = 0; i < Count; i++) minD2 = Math.Min(minD2, SquaredDistance(i, u, q));
            Span<double> acc = velocity.Slice(r * d, d);
            acc.Clear();
            double total = 0;
            for (int i = 0; i < Count; i++)
            {
                double w = Math.Exp(-(SquaredDistance(i, u, q) - minD2) * inv2h2);
                total += w;
                int o = i * d;
                for (int j = 0; j < d; j++) acc[j] += w * (_end[o + j] - _start[o + j]);
            }
            for (int j = 0; j < d; j++) acc[j] /= total * Tau;
        }
    }

    private double SquaredDistance(int i, double u, ReadOnlySpan<double> q)
    {
        int o = i * Dimension;
        double s = 0;
        for (int j = 0; j < q.Length; j++)
        {
            double diff = (1 - u) * _start[o + j] + u * _end[o + j] - q[j];
            s += diff * diff;
        }
        return s;
    }

    private double FractionOf(double t)
    {
        if (!(t >= 0 && t <= Tau)) throw new ArgumentOutOfRangeException(nameof(t), t, $"The time must lie in [0, {Tau}].");
        return t / Tau;
    }

    private static double ScottBandwidth(double[] start, double[] end, int d)
    {
        int n = start.Length / d;
        double spread = 0;
        for (int j = 0; j < d; j++)
        {
            double mean = 0, m2 = 0;
            for (int i = 0; i < n; i++) mean += start[i * d + j] + end[i * d + j];
            mean /= 2 * n;
            for (int i = 0; i < n; i++)
            {
                double a = start[i * d + j] - mean, b = end[i * d + j] - mean;
                m2 += a * a + b * b;
            }
            spread += Math.Sqrt(m2 / (2 * n - 1));
        }
        spread /= d;
        return (spread > 0 ? spread : 1) * Math.Pow(n, -1.0 / (d + 4));
    }
}
