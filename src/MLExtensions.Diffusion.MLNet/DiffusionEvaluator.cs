using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>The computations behind <see cref="EvaluationCatalogExtensions.Evaluate"/>, on rows in standardised units.</summary>
internal static class DiffusionEvaluator
{
    /// <summary>The thermodynamic part: c2 and S_tot by Monte Carlo over held-out rows, the Gelbrich endpoint W2 and the efficiency.</summary>
    public static (EntropyProductionIntegral Integral, double EndpointW2, double Efficiency) Thermodynamics(
        IDenoiser denoiser, NoiseSchedule schedule, double[] heldOut, int samples, Random random)
    {
        int d = denoiser.Dimension;
        var integral = EntropyProduction.MonteCarloIntegrate(schedule, denoiser, heldOut, samples, random);
        double endpoint = EndpointW2(schedule, heldOut, d);
        double efficiency = integral.KineticCost > 0 && double.IsFinite(integral.KineticCost)
            ? WassersteinSpeed.Efficiency(endpoint, schedule.MaxTime, integral.KineticCost)
            : double.NaN;
        return (integral, endpoint, efficiency);
    }

    /// <summary>Bures W2 between N(mu, C) of the rows and N(m_T mu, m_T^2 C + sigma_T^2 I), T = MaxTime: the exact marginal
    /// moments of x_T = m_T y + sigma_T eps for y with those moments.</summary>
    public static double EndpointW2(NoiseSchedule schedule, ReadOnlySpan<double> rows, int d)
    {
        int n = rows.Length / d;
        var mean = new double[d];
        for (int r = 0; r < n; r++)
            for (int j = 0; j < d; j++) mean[j] += rows[r * d + j];
        for (int j = 0; j < d; j++) mean[j] /= n;
        var cov = new double[d * d];
        for (int r = 0; r < n; r++)
            for (int i = 0; i < d; i++)
                for (int j = 0; j < d; j++) cov[i * d + j] += (rows[r * d + i] - mean[i]) * (rows[r * d + j] - mean[j]);
        for (int k = 0; k < cov.Length; k++) cov[k] /= Math.Max(1, n - 1);
        double mT = schedule.M(schedule.MaxTime), sT = schedule.Sigma(schedule.MaxTime);
        var meanT = new double[d];
        var covT = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            meanT[i] = mT * mean[i];
            for (int j = 0; j < d; j++) covT[i * d + j] = mT * mT * cov[i * d + j] + (i == j ? sT * sT : 0);
        }
        return GaussianWasserstein.W2(mean, cov, meanT, covT, d);
    }

    /// <summary>Denoiser evaluations per row of <paramref name="sampler"/> on <paramref name="times"/>, from a one-row run.</summary>
    public static int Nfe(IDenoiser denoiser, NoiseSchedule schedule, double[] times, ISampler sampler)
    {
        var row = new double[denoiser.Dimension];
        return sampler.Sample(denoiser, schedule, times, row, new Random(0)).Nfe;
    }

    /// <summary>Maps data-unit floats to standardised doubles z = (y - mean) / scale.</summary>
    public static double[] Standardise(ReadOnlySpan<float> rows, ReadOnlySpan<double> mean, ReadOnlySpan<double> scale)
    {
        int d = mean.Length;
        var z = new double[rows.Length];
        for (int i = 0; i < z.Length; i++) z[i] = (rows[i] - mean[i % d]) / scale[i % d];
        return z;
    }
}
