using MathNet.Numerics.LinearAlgebra;

namespace MLExtensions.Diffusion.Search;

/// <summary>
/// A zero-mean Gaussian-process regression on standardised targets, k(x, x') = σ² (ρ(|x - x'| / ℓ) + g δ), with ℓ and g
/// chosen from grids by the log marginal likelihood and σ² at its closed-form maximum yᵀ(R + g I)⁻¹y / n.
/// </summary>
internal sealed class GaussianProcess
{
    private readonly GaussianProcessKernel _kernel;
    private readonly double[][] _x;
    private readonly double[,] _lower;
    private readonly double[] _alpha;

    private GaussianProcess(GaussianProcessKernel kernel, double[][] x, double[,] lower, double[] alpha, double lengthScale, double noise, double signalVariance, double logLikelihood)
    {
        _kernel = kernel;
        _x = x;
        _lower = lower;
        _alpha = alpha;
        LengthScale = lengthScale;
        Noise = noise;
        SignalVariance = signalVariance;
        LogMarginalLikelihood = logLikelihood;
    }

    public double LengthScale { get; }

    public double Noise { get; }

    public double SignalVariance { get; }

    public double LogMarginalLikelihood { get; }

    /// <summary>Fits to standardised targets; null when no grid point gives a positive-definite matrix.</summary>
    public static GaussianProcess? Fit(GaussianProcessKernel kernel, double[][] x, double[] y, IReadOnlyList<double> lengthScales, IReadOnlyList<double> noises)
    {
        int n = x.Length;
        var distances = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++)
                distances[i, j] = distances[j, i] = Distance(x[i], x[j]);
        var yv = Vector<double>.Build.DenseOfArray(y);
        GaussianProcess? best = null;
        foreach (double ell in lengthScales)
        {
            foreach (double g in noises)
            {
                var r = Matrix<double>.Build.Dense(n, n, (i, j) => Correlation(kernel, distances[i, j] / ell) + (i == j ? g : 0));
                MathNet.Numerics.LinearAlgebra.Factorization.Cholesky<double> chol;
                try
                {
                    chol = r.Cholesky();
                }
                catch (ArgumentException)
                {
                    continue;
                }
                var alpha = chol.Solve(yv);
                double q = yv.DotProduct(alpha);
                double sigma2 = Math.Max(q / n, 1e-12);
                double lml = -0.5 * n * Math.Log(sigma2) - 0.5 * chol.DeterminantLn - 0.5 * n * (1 + Math.Log(2 * Math.PI));
                if (!double.IsFinite(lml) || (best is not null && lml <= best.LogMarginalLikelihood)) continue;
                best = new GaussianProcess(kernel, x, chol.Factor.ToArray(), alpha.ToArray(), ell, g, sigma2, lml);
            }
        }
        return best;
    }

    /// <summary>The posterior mean and standard deviation of the latent function at a point.</summary>
    public (double Mean, double StdDev) Predict(double[] point, double[] scratch)
    {
        int n = _x.Length;
        double mean = 0;
        for (int i = 0; i < n; i++)
        {
            scratch[i] = Correlation(_kernel, Distance(point, _x[i]) / LengthScale);
            mean += scratch[i] * _alpha[i];
        }
        // v = L⁻¹ r*, in place; var = σ² (1 - vᵀv).
        double vv = 0;
        for (int i = 0; i < n; i++)
        {
            double s = scratch[i];
            for (int k = 0; k < i; k++) s -= _lower[i, k] * scratch[k];
            s /= _lower[i, i];
            scratch[i] = s;
            vv += s * s;
        }
        return (mean, Math.Sqrt(SignalVariance * Math.Max(1 - vv, 1e-12)));
    }

    private static double Distance(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
        return Math.Sqrt(s);
    }

    private static double Correlation(GaussianProcessKernel kernel, double r) => kernel switch
    {
        GaussianProcessKernel.SquaredExponential => Math.Exp(-0.5 * r * r),
        _ => (1 + Math.Sqrt(5) * r + 5.0 / 3.0 * r * r) * Math.Exp(-Math.Sqrt(5) * r),
    };
}
