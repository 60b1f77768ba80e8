using MathNet.Numerics.LinearAlgebra;
using MLExtensions.Diffusion.Randomness;

namespace MLExtensions.Diffusion.Cli.Demo;

/// <summary>The baseline every generative model of a table must beat: a multivariate Gaussian with the training rows'
/// mean and full sample covariance, sampled through its Cholesky factor.</summary>
internal sealed class GaussianBaseline
{
    private readonly double[] _mean;
    private readonly Matrix<double> _lower;

    private GaussianBaseline(double[] mean, Matrix<double> lower)
    {
        _mean = mean;
        _lower = lower;
    }

    public static GaussianBaseline Fit(ReadOnlySpan<float> rows, int d)
    {
        int n = rows.Length / d;
        var mean = new double[d];
        for (int r = 0; r < n; r++)
            for (int j = 0; j < d; j++) mean[j] += rows[r * d + j] / (double)n;
        var covariance = Matrix<double>.Build.Dense(d, d);
        for (int r = 0; r < n; r++)
            for (int i = 0; i < d; i++)
                for (int j = 0; j < d; j++)
                    covariance[i, j] += (rows[r * d + i] - mean[i]) * (rows[r * d + j] - mean[j]) / (n - 1);
        return new GaussianBaseline(mean, covariance.Cholesky().Factor);
    }

    public float[] Sample(int count, int seed)
    {
        int d = _mean.Length;
        var z = StandardNormal.Sample(new Random(seed), count * d);
        var result = new float[count * d];
        for (int r = 0; r < count; r++)
            for (int j = 0; j < d; j++)
            {
                double v = _mean[j];
                for (int k = 0; k <= j; k++) v += _lower[j, k] * z[r * d + k];
                result[r * d + j] = (float)v;
            }
        return result;
    }
}
