using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Tests.Samplers;

/// <summary>
/// Closed forms of SPEC section 8 for data N(mu, diag(v)) and the measurement of convergence orders used by the
/// sampler tests.
/// </summary>
internal static class GaussianFlowReference
{
    public static readonly double[] Mean = { 0.5, -1.0 };
    public static readonly double[] Variance = { 0.3, 2.0 };

    public static GaussianDenoiser Denoiser() => GaussianDenoiser.Diagonal(Mean, Variance);

    /// <summary>S_t^2 = m^2 v + sigma^2.</summary>
    public static double S(NoiseSchedule schedule, double t, double v)
    {
        double m = schedule.M(t), s = schedule.Sigma(t);
        return Math.Sqrt(m * m * v + s * s);
    }

    /// <summary>Fixed start rows at time t: x = m mu + S z for a small set of z values, d = 2.</summary>
    public static double[] StartRows(NoiseSchedule schedule, double t)
    {
        double[] z = { -2.0, 1.0, -0.5, 0.3, 1.5, -1.2, 0.0, 2.1 };
        var x = new double[z.Length];
        for (int i = 0; i < z.Length; i++)
        {
            int j = i % 2;
            x[i] = schedule.M(t) * Mean[j] + S(schedule, t, Variance[j]) * z[i];
        }
        return x;
    }

    /// <summary>The exact probability-flow map x_s = m_s mu + (S_s / S_t)(x_t - m_t mu), per coordinate.</summary>
    public static double[] ExactFlow(NoiseSchedule schedule, double t, double s, double[] xt)
    {
        var xs = new double[xt.Length];
        for (int i = 0; i < xt.Length; i++)
        {
            int j = i % 2;
            double ratio = S(schedule, s, Variance[j]) / S(schedule, t, Variance[j]);
            xs[i] = schedule.M(s) * Mean[j] + ratio * (xt[i] - schedule.M(t) * Mean[j]);
        }
        return xs;
    }

    public static double[] UniformGrid(double start, double end, int steps)
    {
        var times = new double[steps + 1];
        for (int i = 0; i <= steps; i++) times[i] = start + (end - start) * i / steps;
        times[steps] = end;
        return times;
    }

    /// <summary>Times with log-SNR uniform between those of start and end (end &gt; 0).</summary>
    public static double[] LogSnrGrid(NoiseSchedule schedule, double start, double end, int steps)
    {
        double l0 = schedule.LogSnr(start), l1 = schedule.LogSnr(end);
        var times = new double[steps + 1];
        for (int i = 0; i <= steps; i++) times[i] = schedule.TimeAtLogSnr(l0 + (l1 - l0) * i / steps);
        times[0] = start;
        times[steps] = end;
        return times;
    }

    /// <summary>Runs the sampler on uniform grids and returns (NFE, max abs error vs the exact map) pairs.</summary>
    public static (double Nfe, double Error)[] Errors(ISampler sampler, NoiseSchedule schedule, double tEnd, int[] stepCounts, bool logSnrGrid = false)
    {
        var denoiser = Denoiser();
        double t0 = schedule.MaxTime;
        var start = StartRows(schedule, t0);
        var exact = ExactFlow(schedule, t0, tEnd, start);
        var result = new (double, double)[stepCounts.Length];
        for (int k = 0; k < stepCounts.Length; k++)
        {
            var x = (double[])start.Clone();
            var times = logSnrGrid ? LogSnrGrid(schedule, t0, tEnd, stepCounts[k]) : UniformGrid(t0, tEnd, stepCounts[k]);
            var r = sampler.Sample(denoiser, schedule, times, x);
            double err = 0;
            for (int i = 0; i < x.Length; i++) err = Math.Max(err, Math.Abs(x[i] - exact[i]));
            result[k] = (r.Nfe, err);
        }
        return result;
    }

    /// <summary>Least-squares slope of log(error) against log(NFE).</summary>
    public static double Slope((double Nfe, double Error)[] points)
    {
        double n = points.Length, sx = 0, sy = 0, sxx = 0, sxy = 0;
        foreach (var (nfe, err) in points)
        {
            double lx = Math.Log(nfe), ly = Math.Log(err);
            sx += lx; sy += ly; sxx += lx * lx; sxy += lx * ly;
        }
        return (n * sxy - sx * sy) / (n * sxx - sx * sx);
    }

    /// <summary>Sample mean and variance of coordinate j of rows with d features.</summary>
    public static (double Mean, double Variance) Moments(double[] x, int d, int j)
    {
        int rows = x.Length / d;
        double sum = 0;
        for (int r = 0; r < rows; r++) sum += x[r * d + j];
        double mean = sum / rows, ss = 0;
        for (int r = 0; r < rows; r++) { double e = x[r * d + j] - mean; ss += e * e; }
        return (mean, ss / (rows - 1));
    }

    /// <summary>Rows drawn from the exact marginal P_t = N(m mu, S^2) of the Gaussian data.</summary>
    public static double[] MarginalRows(NoiseSchedule schedule, double t, int rows, Random random)
    {
        var x = Randomness.StandardNormal.Sample(random, rows * 2);
        for (int i = 0; i < x.Length; i++)
        {
            int j = i % 2;
            x[i] = schedule.M(t) * Mean[j] + S(schedule, t, Variance[j]) * x[i];
        }
        return x;
    }
}

/// <summary>A denoiser wrapper that counts calls, to check the NFE a sampler reports.</summary>
internal sealed class CountingDenoiser(IDenoiser inner) : IDenoiser
{
    public int Calls { get; private set; }

    public int Dimension => inner.Dimension;

    public void Denoise(ReadOnlySpan<double> x, double m, double sigma, Span<double> x0)
    {
        Calls++;
        inner.Denoise(x, m, sigma, x0);
    }
}
