using MathNet.Numerics.LinearAlgebra;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The forward Langevin process dx = A_t x dt + sqrt(2 T_t) dB with a matrix-valued linear force A_t (possibly
/// non-conservative, e.g. rotating) and temperature T_t, started from a Gaussian N(mu0, S0) or from n data rows
/// (SPEC sections 2-3). Its marginal P_t is an equal-weight Gaussian mixture with means Phi_t y_i and shared covariance
/// Sigma_t, where Phi' = A Phi, Phi_0 = I and Sigma' = A Sigma + Sigma A^T + 2 T I with Sigma_0 = S0 (Gaussian start,
/// one component y = mu0) or 0 (data rows). It is an <see cref="IVelocityField"/> with the mean local velocity
/// nu_t = A_t x - T_t grad ln P_t.
/// </summary>
/// <remarks>
/// <para>Phi and Sigma are integrated once at construction with classical RK4 on a uniform grid of <c>steps</c> steps and
/// interpolated between grid points by cubic Hermite polynomials with the exact derivatives (A Phi, and the Lyapunov
/// right-hand side), so they are fourth-order accurate at every t. Storage is O(steps d^2): meant for small d.</para>
/// <para>For the Gaussian start the entropy production rate and the W2 speed are exact
/// (<see cref="GaussianEntropyProductionRate"/>, <see cref="GaussianWassersteinSpeed"/>): with z = x - mu and
/// B = A + T S^-1, nu = A mu + B z, so T Sdot = |A mu|^2 + tr(B S B^T), Sdot_sys = tr B and
/// T Sdot_bath = |A mu|^2 + tr(A^T B S). With A symmetric nu is a gradient field and T Sdot = v2^2; a rotating part of A
/// adds kinetic energy that moves no probability, so T Sdot &gt; v2^2 (Ikeda et al., arXiv:2407.04495, section IV).</para>
/// <para>Immutable after construction and thread-safe if the delegates are.</para>
/// </remarks>
public sealed class LinearForceProcess : IVelocityField
{
    /// <summary>Default number of RK4 steps for the moment equations.</summary>
    public const int DefaultSteps = 1000;

    private readonly LinearForce _force;
    private readonly Func<double, double> _temperature;
    private readonly int _d, _steps;
    private readonly double[] _centres;
    private readonly int _count;
    private readonly double[] _phi, _phiDot, _sigma, _sigmaDot; // (steps + 1) d^2 each
    private readonly bool _gaussian;

    private LinearForceProcess(LinearForce force, Func<double, double> temperature, double tau, int d, double[] centres, double[] start, bool gaussian, int steps)
    {
        _force = force;
        _temperature = temperature;
        Tau = tau;
        _d = d;
        _steps = steps;
        _centres = centres;
        _count = centres.Length / d;
        _gaussian = gaussian;
        int dd = d * d;
        _phi = new double[(steps + 1) * dd];
        _phiDot = new double[(steps + 1) * dd];
        _sigma = new double[(steps + 1) * dd];
        _sigmaDot = new double[(steps + 1) * dd];
        Integrate(start);
    }

    /// <summary>Creates the process started from N(<paramref name="mean"/>, <paramref name="covariance"/>).</summary>
    /// <param name="force">A_t.</param>
    /// <param name="temperature">T_t &gt;= 0.</param>
    /// <param name="tau">Final time, finite and positive.</param>
    /// <param name="mean">mu0, d finite values.</param>
    /// <param name="covariance">S0, row-major d x d, symmetric positive definite.</param>
    /// <param name="steps">RK4 steps; at least 16.</param>
    /// <returns>The process.</returns>
    /// <exception cref="ArgumentNullException">A delegate is null.</exception>
    /// <exception cref="ArgumentException">The mean is empty or not finite; the covariance is mis-sized, not finite, not symmetric
    /// or not positive definite; a delegate returns a non-finite value or a negative temperature.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tau"/> or <paramref name="steps"/> is out of range.</exception>
    public static LinearForceProcess FromGaussian(LinearForce force, Func<double, double> temperature, double tau, ReadOnlySpan<double> mean, ReadOnlySpan<double> covariance, int steps = DefaultSteps)
    {
        Check(force, temperature, tau, steps);
        int d = mean.Length;
        if (d == 0) throw new ArgumentException("'mean' must not be empty.", nameof(mean));
        RequireFinite(mean, nameof(mean));
        if (covariance.Length != d * d) throw new ArgumentException($"'covariance' has length {covariance.Length}; expected {d * d} (d x d).", nameof(covariance));
        RequireFinite(covariance, nameof(covariance));
        var c = Matrix<double>.Build.Dense(d, d);
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) c[i, j] = covariance[i * d + j];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < i; j++)
                if (Math.Abs(c[i, j] - c[j, i]) > 1e-12 * (Math.Abs(c[i, j]) + Math.Abs(c[j, i]) + 1e-300))
                    throw new ArgumentException($"'covariance' must be symmetric, but [{i},{j}] != [{j},{i}].", nameof(covariance));
        if (!(c.Evd(Symmetricity.Symmetric).EigenValues.Real().Minimum() > 0))
            throw new ArgumentException("'covariance' must be positive definite.", nameof(covariance));
        return new LinearForceProcess(force, temperature, tau, d, mean.ToArray(), covariance.ToArray(), gaussian: true, steps);
    }

    /// <summary>Creates the process started from the empirical law of data rows (Sigma_0 = 0).</summary>
    /// <param name="force">A_t.</param>
    /// <param name="temperature">T_t &gt;= 0.</param>
    /// <param name="tau">Final time, finite and positive.</param>
    /// <param name="data">n rows, row-major, finite.</param>
    /// <param name="dimension">d, positive.</param>
    /// <param name="steps">RK4 steps; at least 16.</param>
    /// <returns>The process.</returns>
    /// <exception cref="ArgumentNullException">A delegate is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> is empty, mis-sized or not finite; a delegate returns a
    /// non-finite value or a negative temperature.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tau"/>, <paramref name="dimension"/> or <paramref name="steps"/> is out of range.</exception>
    public static LinearForceProcess FromData(LinearForce force, Func<double, double> temperature, double tau, ReadOnlySpan<double> data, int dimension, int steps = DefaultSteps)
    {
        Check(force, temperature, tau, steps);
        if (dimension <= 0) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "'dimension' must be positive.");
        if (data.Length == 0 || data.Length % dimension != 0)
            throw new ArgumentException($"The length of 'data' ({data.Length}) is not a positive multiple of the dimension {dimension}.", nameof(data));
        RequireFinite(data, nameof(data));
        return new LinearForceProcess(force, temperature, tau, dimension, data.ToArray(), new double[dimension * dimension], gaussian: false, steps);
    }

    /// <summary>
    /// The rotating force of the paper's two-dimensional experiment (SPEC section 3): A_t = [[H, -G], [G, H]] with
    /// H = -h (1 - u) - T_t, G = g (1 - u), u = t / tau.
    /// </summary>
    /// <param name="g">Rotation strength g (the paper uses 0, 3, 5); finite.</param>
    /// <param name="h">Confinement h (paper: 1.1); finite.</param>
    /// <param name="finalTemperature">T_fin (paper: 0.5); finite and non-negative.</param>
    /// <param name="tau">Final time; finite and positive.</param>
    /// <returns>The force.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range or NaN.</exception>
    public static LinearForce RotatingForce(double g, double h = 1.1, double finalTemperature = 0.5, double tau = 1.0)
    {
        CheckRotating(g, h, finalTemperature, tau);
        var temperature = RotatingTemperature(finalTemperature, tau);
        return (t, a) =>
        {
            double u = t / tau, hh = -h * (1 - u) - temperature(t), gg = g * (1 - u);
            a[0] = hh; a[1] = -gg; a[2] = gg; a[3] = hh;
        };
    }

    /// <summary>The temperature of the paper's two-dimensional experiment: T_t = T_fin u^2, u = t / tau.</summary>
    /// <param name="finalTemperature">T_fin; finite and non-negative.</param>
    /// <param name="tau">Final time; finite and positive.</param>
    /// <returns>T_t.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range or NaN.</exception>
    public static Func<double, double> RotatingTemperature(double finalTemperature = 0.5, double tau = 1.0)
    {
        CheckRotating(0, 0, finalTemperature, tau);
        return t => finalTemperature * (t / tau) * (t / tau);
    }

    /// <summary>The paper's rotating-force process (<see cref="RotatingForce"/>) from a two-dimensional Gaussian start.</summary>
    /// <param name="g">Rotation strength.</param>
    /// <param name="mean">mu0, two values.</param>
    /// <param name="covariance">S0, 2 x 2 row-major, symmetric positive definite.</param>
    /// <param name="h">Confinement h.</param>
    /// <param name="finalTemperature">T_fin.</param>
    /// <param name="tau">Final time.</param>
    /// <param name="steps">RK4 steps.</param>
    /// <returns>The process.</returns>
    /// <exception cref="ArgumentException">The mean or covariance is not two-dimensional or invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A scalar argument is out of range or NaN.</exception>
    public static LinearForceProcess RotatingFromGaussian(double g, ReadOnlySpan<double> mean, ReadOnlySpan<double> covariance, double h = 1.1, double finalTemperature = 0.5, double tau = 1.0, int steps = DefaultSteps)
    {
        if (mean.Length != 2) throw new ArgumentException($"The rotating force is two-dimensional, but 'mean' has length {mean.Length}.", nameof(mean));
        return FromGaussian(RotatingForce(g, h, finalTemperature, tau), RotatingTemperature(finalTemperature, tau), tau, mean, covariance, steps);
    }

    /// <summary>The paper's rotating-force process (<see cref="RotatingForce"/>) from two-dimensional data rows (e.g. a Swiss roll).</summary>
    /// <param name="g">Rotation strength.</param>
    /// <param name="data">Rows of two values, row-major.</param>
    /// <param name="h">Confinement h.</param>
    /// <param name="finalTemperature">T_fin.</param>
    /// <param name="tau">Final time.</param>
    /// <param name="steps">RK4 steps.</param>
    /// <returns>The process.</returns>
    /// <exception cref="ArgumentException"><paramref name="data"/> is empty, of odd length or not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A scalar argument is out of range or NaN.</exception>
    public static LinearForceProcess RotatingFromData(double g, ReadOnlySpan<double> data, double h = 1.1, double finalTemperature = 0.5, double tau = 1.0, int steps = DefaultSteps)
        => FromData(RotatingForce(g, h, finalTemperature, tau), RotatingTemperature(finalTemperature, tau), tau, data, 2, steps);

    /// <inheritdoc />
    public int Dimension => _d;

    /// <summary>The final time tau.</summary>
    public double Tau { get; }

    /// <inheritdoc />
    public double EndTime => Tau;

    /// <summary>Whether the process starts from a Gaussian (one component with Sigma_0 = S0) rather than data rows.</summary>
    public bool IsGaussianStart => _gaussian;

    /// <summary>The number of mixture components of P_t (1 for a Gaussian start, n for n data rows).</summary>
    public int ComponentCount => _count;

    /// <summary>The temperature T_t.</summary>
    /// <param name="t">Time in [0, tau].</param>
    /// <returns>T_t.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is NaN or outside [0, tau].</exception>
    public double Temperature(double t)
    {
        CheckTime(t, allowZero: true);
        return _temperature(t);
    }

    /// <summary>Writes A_t, row-major d x d.</summary>
    /// <param name="t">Time in [0, tau].</param>
    /// <param name="matrix">Destination of length d * d.</param>
    /// <exception cref="ArgumentException"><paramref name="matrix"/> has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is NaN or outside [0, tau].</exception>
    public void Force(double t, Span<double> matrix)
    {
        CheckTime(t, allowZero: true);
        RequireLength(matrix, _d * _d, nameof(matrix));
        _force(t, matrix);
    }

    /// <summary>Writes the transfer matrix Phi_t (Phi' = A Phi, Phi_0 = I), row-major d x d.</summary>
    /// <param name="t">Time in [0, tau].</param>
    /// <param name="matrix">Destination of length d * d.</param>
    /// <exception cref="ArgumentException"><paramref name="matrix"/> has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is NaN or outside [0, tau].</exception>
    public void TransferMatrix(double t, Span<double> matrix)
    {
        CheckTime(t, allowZero: true);
        RequireLength(matrix, _d * _d, nameof(matrix));
        Interpolate(_phi, _phiDot, t, matrix);
    }

    /// <summary>Writes the shared component covariance Sigma_t, row-major d x d (the covariance of P_t for a Gaussian start).</summary>
    /// <param name="t">Time in [0, tau].</param>
    /// <param name="matrix">Destination of length d * d.</param>
    /// <exception cref="ArgumentException"><paramref name="matrix"/> has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is NaN or outside [0, tau].</exception>
    public void Covariance(double t, Span<double> matrix)
    {
        CheckTime(t, allowZero: true);
        RequireLength(matrix, _d * _d, nameof(matrix));
        Interpolate(_sigma, _sigmaDot, t, matrix);
    }

    /// <summary>Writes the mean of P_t: Phi_t times the mean of the start law.</summary>
    /// <param name="t">Time in [0, tau].</param>
    /// <param name="mean">Destination of length d.</param>
    /// <exception cref="ArgumentException"><paramref name="mean"/> has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is NaN or outside [0, tau].</exception>
    public void Mean(double t, Span<double> mean)
    {
        CheckTime(t, allowZero: true);
        RequireLength(mean, _d, nameof(mean));
        var phi = new double[_d * _d];
        Interpolate(_phi, _phiDot, t, phi);
        var start = new double[_d];
        for (int c = 0; c < _count; c++)
            for (int j = 0; j < _d; j++) start[j] += _centres[c * _d + j] / _count;
        MatVec(phi, start, mean);
    }

    /// <summary>ln P_t(x) for every row.</summary>
    /// <param name="x">Rows, row-major; finite length a positive multiple of d.</param>
    /// <param name="t">Time in [0, tau] (in (0, tau] for a data start, where Sigma_0 = 0).</param>
    /// <param name="logDensity">One entry per row.</param>
    /// <exception cref="ArgumentException">A length is wrong, or Sigma_t is not positive definite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is out of range.</exception>
    public void LogDensity(ReadOnlySpan<double> x, double t, Span<double> logDensity)
    {
        int rows = CheckRows(x, nameof(x));
        RequireLength(logDensity, rows, nameof(logDensity));
        new Marginal(this, t).Evaluate(x, logDensity, default);
    }

    /// <summary>The score grad ln P_t(x) for every row.</summary>
    /// <param name="x">Rows, row-major; length a positive multiple of d.</param>
    /// <param name="t">Time in [0, tau] (in (0, tau] for a data start).</param>
    /// <param name="score">Destination, same length as <paramref name="x"/>.</param>
    /// <exception cref="ArgumentException">A length is wrong, or Sigma_t is not positive definite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is out of range.</exception>
    public void Score(ReadOnlySpan<double> x, double t, Span<double> score)
    {
        CheckRows(x, nameof(x));
        RequireLength(score, x.Length, nameof(score));
        new Marginal(this, t).Evaluate(x, default, score);
    }

    /// <summary>Draws independent rows x ~ P_t.</summary>
    /// <param name="t">Time in [0, tau] (in (0, tau] for a data start).</param>
    /// <param name="random">The random source.</param>
    /// <param name="destination">Rows to fill; length a positive multiple of d.</param>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentException">The destination length is wrong, or Sigma_t is not positive definite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is out of range.</exception>
    public void Sample(double t, Random random, Span<double> destination)
    {
        ArgumentNullException.ThrowIfNull(random);
        int rows = CheckRows(destination, nameof(destination));
        var marginal = new Marginal(this, t);
        var z = new double[_d];
        for (int r = 0; r < rows; r++)
        {
            int c = _count == 1 ? 0 : random.Next(_count);
            Randomness.StandardNormal.Fill(random, z);
            var row = destination.Slice(r * _d, _d);
            for (int i = 0; i < _d; i++)
            {
                double v = marginal.Centres[c * _d + i];
                for (int j = 0; j <= i; j++) v += marginal.Cholesky[i * _d + j] * z[j];
                row[i] = v;
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>nu_t(x) = A_t x - T_t grad ln P_t(x). For a data start t must be positive.</remarks>
    public void Velocity(ReadOnlySpan<double> x, double t, Span<double> velocity)
    {
        CheckRows(x, nameof(x));
        RequireLength(velocity, x.Length, nameof(velocity));
        var marginal = new Marginal(this, t);
        marginal.Evaluate(x, default, velocity);
        double temperature = _temperature(t);
        var a = marginal.Force;
        int rows = x.Length / _d;
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * _d, _d);
            var vr = velocity.Slice(r * _d, _d);
            for (int i = 0; i < _d; i++)
            {
                double ax = 0;
                for (int j = 0; j < _d; j++) ax += a[i * _d + j] * xr[j];
                vr[i] = ax - temperature * vr[i];
            }
        }
    }

    /// <summary>
    /// The exact entropy production rate of a Gaussian-start process (see remarks of the type): kinetic energy
    /// |A mu|^2 + tr(B S B^T), Sdot_sys = tr B, Sdot_bath = (|A mu|^2 + tr(A^T B S)) / T, B = A + T S^-1.
    /// </summary>
    /// <param name="t">Time in [0, tau].</param>
    /// <returns>The rate (standard errors 0).</returns>
    /// <exception cref="InvalidOperationException">The process starts from data rows.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is out of range.</exception>
    public EntropyProductionRate GaussianEntropyProductionRate(double t)
    {
        RequireGaussian();
        CheckTime(t, allowZero: true);
        var (a, mu, s, temperature) = GaussianState(t);
        var sInv = s.Inverse();
        var b = a + temperature * sInv;
        var amu = a * mu;
        double kinetic = amu.DotProduct(amu) + (b * s * b.Transpose()).Trace();
        double sys = b.Trace();
        double force = amu.DotProduct(amu) + (a.Transpose() * b * s).Trace();
        double rate = temperature != 0 ? kinetic / temperature : kinetic == 0 ? 0 : double.PositiveInfinity;
        double bath = temperature != 0 ? force / temperature : rate - sys;
        return new EntropyProductionRate(t, temperature, kinetic, 0, rate, 0, sys, 0, bath, 0, 0);
    }

    /// <summary>The exact W2 speed of the Gaussian marginals: <see cref="WassersteinSpeed.GaussianPath"/> with mu' = A mu and
    /// S' = A S + S A^T + 2 T I.</summary>
    /// <param name="t">Time in [0, tau].</param>
    /// <returns>v2(t).</returns>
    /// <exception cref="InvalidOperationException">The process starts from data rows.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is out of range.</exception>
    public double GaussianWassersteinSpeed(double t)
    {
        RequireGaussian();
        CheckTime(t, allowZero: true);
        var (a, mu, s, temperature) = GaussianState(t);
        var sDot = a * s + s * a.Transpose() + 2 * temperature * Matrix<double>.Build.DenseIdentity(_d);
        return WassersteinSpeed.GaussianPath(mu.ToArray(), (a * mu).ToArray(), ToRowMajor(s), ToRowMajor(sDot), _d);
    }

    /// <summary>
    /// Monte Carlo entropy production rate for any start: x ~ P_t, nu and the score from the mixture, kinetic energy
    /// E|nu|^2, Sdot_sys = -E[nu . grad ln P], Sdot_bath = E[A x . nu] / T, with standard errors.
    /// </summary>
    /// <param name="t">Time in (0, tau] ([0, tau] for a Gaussian start).</param>
    /// <param name="samples">Number of draws; at least 2.</param>
    /// <param name="random">The random source.</param>
    /// <returns>Sample means and standard errors.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> or <paramref name="samples"/> is out of range.</exception>
    public EntropyProductionRate MonteCarloEntropyProductionRate(double t, int samples, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (samples < 2) throw new ArgumentOutOfRangeException(nameof(samples), samples, "'samples' must be at least 2.");
        int d = _d;
        var x = new double[samples * d];
        Sample(t, random, x);
        var score = new double[x.Length];
        var marginal = new Marginal(this, t);
        marginal.Evaluate(x, default, score);
        double temperature = _temperature(t);
        var a = marginal.Force;
        var k = new double[samples];
        var sys = new double[samples];
        var bath = new double[samples];
        for (int r = 0; r < samples; r++)
        {
            double kk = 0, ss = 0, ff = 0;
            for (int i = 0; i < d; i++)
            {
                double ax = 0;
                for (int j = 0; j < d; j++) ax += a[i * d + j] * x[r * d + j];
                double nu = ax - temperature * score[r * d + i];
                kk += nu * nu;
                ss -= nu * score[r * d + i];
                ff += ax * nu;
            }
            k[r] = kk; sys[r] = ss; bath[r] = ff / temperature;
        }
        var (km, kse) = MeanAndError(k);
        var (sm, sse) = MeanAndError(sys);
        var (bm, bse) = MeanAndError(bath);
        return new EntropyProductionRate(t, temperature, km, kse, km / temperature, kse / temperature, sm, sse, bm, bse, samples);
    }

    private static (double Mean, double StandardError) MeanAndError(double[] v)
    {
        double mean = v.Average(), ss = 0;
        foreach (double a in v) ss += (a - mean) * (a - mean);
        return (mean, Math.Sqrt(ss / (v.Length - 1) / v.Length));
    }

    private (Matrix<double> A, Vector<double> Mu, Matrix<double> S, double T) GaussianState(double t)
    {
        var aFlat = new double[_d * _d];
        _force(t, aFlat);
        var a = Matrix<double>.Build.Dense(_d, _d, (i, j) => aFlat[i * _d + j]);
        var mean = new double[_d];
        Mean(t, mean);
        var sFlat = new double[_d * _d];
        Interpolate(_sigma, _sigmaDot, t, sFlat);
        var s = Matrix<double>.Build.Dense(_d, _d, (i, j) => 0.5 * (sFlat[i * _d + j] + sFlat[j * _d + i]));
        return (a, Vector<double>.Build.DenseOfArray(mean), s, _temperature(t));
    }

    private static double[] ToRowMajor(Matrix<double> m)
    {
        int d = m.RowCount;
        var r = new double[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) r[i * d + j] = m[i, j];
        return r;
    }

    private void RequireGaussian()
    {
        if (!_gaussian) throw new InvalidOperationException("The exact Gaussian quantities need a Gaussian start; this process starts from data rows.");
    }

    /// <summary>RK4 for Phi and Sigma on the uniform grid, storing values and exact derivatives.</summary>
    private void Integrate(double[] sigma0)
    {
        int d = _d, dd = d * d;
        double h = Tau / _steps;
        var phi = new double[dd];
        for (int i = 0; i < d; i++) phi[i * d + i] = 1;
        var sig = (double[])sigma0.Clone();
        var a = new double[dd];
        var kp = new double[4][];
        var ks = new double[4][];
        for (int q = 0; q < 4; q++) { kp[q] = new double[dd]; ks[q] = new double[dd]; }
        var tp = new double[dd];
        var ts = new double[dd];
        for (int k = 0; k <= _steps; k++)
        {
            double t = k * h;
            Rhs(t, phi, sig, a, _phiDot.AsSpan(k * dd, dd), _sigmaDot.AsSpan(k * dd, dd));
            phi.CopyTo(_phi, k * dd);
            sig.CopyTo(_sigma, k * dd);
            if (k == _steps) break;
            _phiDot.AsSpan(k * dd, dd).CopyTo(kp[0]);
            _sigmaDot.AsSpan(k * dd, dd).CopyTo(ks[0]);
            for (int stage = 1; stage < 4; stage++)
            {
                double c = stage == 3 ? h : 0.5 * h;
                for (int i = 0; i < dd; i++) { tp[i] = phi[i] + c * kp[stage - 1][i]; ts[i] = sig[i] + c * ks[stage - 1][i]; }
                Rhs(t + c, tp, ts, a, kp[stage], ks[stage]);
            }
            for (int i = 0; i < dd; i++)
            {
                phi[i] += h / 6 * (kp[0][i] + 2 * kp[1][i] + 2 * kp[2][i] + kp[3][i]);
                sig[i] += h / 6 * (ks[0][i] + 2 * ks[1][i] + 2 * ks[2][i] + ks[3][i]);
            }
        }
    }

    private void Rhs(double t, ReadOnlySpan<double> phi, ReadOnlySpan<double> sig, double[] a, Span<double> phiDot, Span<double> sigDot)
    {
        int d = _d;
        _force(t, a);
        double temperature = _temperature(t);
        for (int i = 0; i < a.Length; i++)
            if (!double.IsFinite(a[i])) throw new ArgumentException($"The force returned a non-finite entry at t = {t}.", "force");
        if (!double.IsFinite(temperature) || temperature < 0)
            throw new ArgumentException($"The temperature must be finite and non-negative, but T({t}) = {temperature}.", "temperature");
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
            {
                double p = 0, s = 0;
                for (int k = 0; k < d; k++)
                {
                    p += a[i * d + k] * phi[k * d + j];
                    s += a[i * d + k] * sig[k * d + j] + sig[i * d + k] * a[j * d + k];
                }
                phiDot[i * d + j] = p;
                sigDot[i * d + j] = s + (i == j ? 2 * temperature : 0);
            }
    }

    private void Interpolate(double[] values, double[] derivatives, double t, Span<double> destination)
    {
        int dd = _d * _d;
        double h = Tau / _steps;
        int k = Math.Min((int)(t / h), _steps - 1);
        double u = (t - k * h) / h, u2 = u * u, u3 = u2 * u;
        double h00 = 2 * u3 - 3 * u2 + 1, h10 = (u3 - 2 * u2 + u) * h, h01 = 3 * u2 - 2 * u3, h11 = (u3 - u2) * h;
        for (int i = 0; i < dd; i++)
            destination[i] = h00 * values[k * dd + i] + h10 * derivatives[k * dd + i] + h01 * values[(k + 1) * dd + i] + h11 * derivatives[(k + 1) * dd + i];
    }

    private void MatVec(ReadOnlySpan<double> m, ReadOnlySpan<double> v, Span<double> result)
    {
        for (int i = 0; i < _d; i++)
        {
            double s = 0;
            for (int j = 0; j < _d; j++) s += m[i * _d + j] * v[j];
            result[i] = s;
        }
    }

    private void CheckTime(double t, bool allowZero)
    {
        bool ok = allowZero ? t >= 0 && t <= Tau : t > 0 && t <= Tau;
        if (!ok)
            throw new ArgumentOutOfRangeException(nameof(t), t, allowZero
                ? $"The time must lie in [0, {Tau}]."
                : $"The time must lie in (0, {Tau}]: a process started from data rows has Sigma_0 = 0.");
    }

    private int CheckRows(ReadOnlySpan<double> x, string paramName)
    {
        if (x.Length == 0 || x.Length % _d != 0)
            throw new ArgumentException($"The length of '{paramName}' ({x.Length}) is not a positive multiple of the dimension {_d}.", paramName);
        return x.Length / _d;
    }

    private static void RequireLength(ReadOnlySpan<double> span, int length, string paramName)
    {
        if (span.Length != length) throw new ArgumentException($"'{paramName}' has length {span.Length}; expected {length}.", paramName);
    }

    private static void RequireFinite(ReadOnlySpan<double> v, string paramName)
    {
        for (int i = 0; i < v.Length; i++)
            if (!double.IsFinite(v[i])) throw new ArgumentException($"'{paramName}' must be finite, but [{i}] = {v[i]}.", paramName);
    }

    private static void Check(LinearForce force, Func<double, double> temperature, double tau, int steps)
    {
        ArgumentNullException.ThrowIfNull(force);
        ArgumentNullException.ThrowIfNull(temperature);
        if (!double.IsFinite(tau) || tau <= 0) throw new ArgumentOutOfRangeException(nameof(tau), tau, "'tau' must be finite and positive.");
        if (steps < 16) throw new ArgumentOutOfRangeException(nameof(steps), steps, "'steps' must be at least 16.");
    }

    private static void CheckRotating(double g, double h, double finalTemperature, double tau)
    {
        if (!double.IsFinite(g)) throw new ArgumentOutOfRangeException(nameof(g), g, "'g' must be finite.");
        if (!double.IsFinite(h)) throw new ArgumentOutOfRangeException(nameof(h), h, "'h' must be finite.");
        if (!double.IsFinite(finalTemperature) || finalTemperature < 0)
            throw new ArgumentOutOfRangeException(nameof(finalTemperature), finalTemperature, "'finalTemperature' must be finite and non-negative.");
        if (!double.IsFinite(tau) || tau <= 0) throw new ArgumentOutOfRangeException(nameof(tau), tau, "'tau' must be finite and positive.");
    }

    /// <summary>The marginal at one time: component centres Phi y_i, Cholesky factor and inverse of Sigma_t, A_t.</summary>
    private sealed class Marginal
    {
        private readonly LinearForceProcess _p;
        private readonly double[] _inverse;
        private readonly double _logNorm;

        public Marginal(LinearForceProcess p, double t)
        {
            _p = p;
            p.CheckTime(t, allowZero: p._gaussian);
            int d = p._d, dd = d * d;
            var phi = new double[dd];
            p.Interpolate(p._phi, p._phiDot, t, phi);
            var sigma = new double[dd];
            p.Interpolate(p._sigma, p._sigmaDot, t, sigma);
            var s = Matrix<double>.Build.Dense(d, d, (i, j) => 0.5 * (sigma[i * d + j] + sigma[j * d + i]));
            MathNet.Numerics.LinearAlgebra.Factorization.Cholesky<double> chol;
            try { chol = s.Cholesky(); }
            catch (ArgumentException) { throw new ArgumentException($"The covariance Sigma_t is not positive definite at t = {t}.", nameof(t)); }
            Cholesky = ToRowMajor(chol.Factor);
            _inverse = ToRowMajor(chol.Solve(Matrix<double>.Build.DenseIdentity(d)));
            _logNorm = -0.5 * d * Math.Log(2 * Math.PI) - 0.5 * chol.DeterminantLn - Math.Log(p._count);
            Centres = new double[p._centres.Length];
            for (int c = 0; c < p._count; c++) p.MatVec(phi, p._centres.AsSpan(c * d, d), Centres.AsSpan(c * d, d));
            Force = new double[dd];
            p._force(t, Force);
        }

        public double[] Centres { get; }

        public double[] Cholesky { get; }

        public double[] Force { get; }

        /// <summary>Writes ln P and/or the score for each row (either destination may be empty).</summary>
        public void Evaluate(ReadOnlySpan<double> x, Span<double> logDensity, Span<double> score)
        {
            int d = _p._d, n = _p._count, rows = x.Length / d;
            var q = new double[n];
            var diff = new double[d];
            var mix = new double[d];
            for (int r = 0; r < rows; r++)
            {
                var xr = x.Slice(r * d, d);
                double max = double.NegativeInfinity;
                for (int c = 0; c < n; c++)
                {
                    for (int i = 0; i < d; i++) diff[i] = xr[i] - Centres[c * d + i];
                    double quad = 0;
                    for (int i = 0; i < d; i++)
                    {
                        double s = 0;
                        for (int j = 0; j < d; j++) s += _inverse[i * d + j] * diff[j];
                        quad += diff[i] * s;
                    }
                    q[c] = -0.5 * quad;
                    if (q[c] > max) max = q[c];
                }
                double total = 0;
                for (int c = 0; c < n; c++) { q[c] = Math.Exp(q[c] - max); total += q[c]; }
                if (!logDensity.IsEmpty) logDensity[r] = _logNorm + max + Math.Log(total);
                if (score.IsEmpty) continue;
                Array.Clear(mix);
                for (int c = 0; c < n; c++)
                {
                    double w = q[c] / total;
                    if (w == 0) continue;
                    for (int i = 0; i < d; i++) mix[i] += w * Centres[c * d + i];
                }
                var sr = score.Slice(r * d, d);
                for (int i = 0; i < d; i++)
                {
                    double s = 0;
                    for (int j = 0; j < d; j++) s += _inverse[i * d + j] * (xr[j] - mix[j]);
                    sr[i] = -s;
                }
            }
        }
    }
}
