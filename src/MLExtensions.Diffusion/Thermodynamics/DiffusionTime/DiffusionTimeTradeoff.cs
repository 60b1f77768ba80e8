using MathNet.Numerics.Integration;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The diffusion-time trade-off of Franzese et al. (Entropy 25:633, 2023; SPEC section 6): truncating the forward
/// process at T leaves a prior mismatch KL(P_T || N(0, I)) that falls with T, while the score gap G(s, T) of an
/// imperfect score model grows with T, so a finite T* minimises their sum.
/// </summary>
/// <remarks>
/// <para>ELBO(T) = E ln q - G(s, T) - KL(P_T || prior) with G(s, T) = 1/2 integral_0^T g_t^2 E_{P_t}|s(x, t) -
/// grad ln P_t(x)|^2 dt. For a schedule (m, sigma) the diffusion coefficient is g_t^2 = 2 T_t with T_t the bath
/// temperature (<see cref="NoiseSchedule.Temperature"/>), so G = integral_0^T T_t E|s - grad ln P_t|^2 dt.</para>
/// <para>Data families: diagonal Gaussian N(mean, diag(v)) (KL in closed form: P_T = N(m mean, m^2 v + sigma^2)) and
/// diagonal Gaussian mixtures sum w_k N(mu_k, diag(v_k)) (P_t in closed form, SPEC section 8; KL by Monte Carlo over
/// P_T). The data laws, their noised marginals P_t and scores are those of <see cref="GaussianDenoiser"/> and
/// <see cref="GaussianMixtureDenoiser"/>; the Gaussian KL is <see cref="GaussianDivergence.KullbackLeibler(double, double, double, double)"/>.
/// The prior is N(0, I), the stationary law of VP schedules. The time integral in G uses Gauss-Legendre
/// quadrature on [0, T] (no end-point evaluations, so schedules singular at t = 0 are fine), and the expectation at
/// each node a Monte Carlo mean over fresh samples of P_t.</para>
/// </remarks>
public static class DiffusionTimeTradeoff
{
    /// <summary>
    /// KL(P_T || N(0, I)) for Gaussian data N(mean, diag(variance)) under the schedule: P_T = N(m_T mean,
    /// m_T^2 variance + sigma_T^2), KL = 1/2 sum_j (S_j + a_j^2 - 1 - ln S_j).
    /// </summary>
    /// <param name="schedule">The forward schedule.</param>
    /// <param name="mean">The data mean.</param>
    /// <param name="variance">The per-coordinate data variance, positive.</param>
    /// <param name="horizon">T in (0, <see cref="NoiseSchedule.MaxTime"/>].</param>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentException">Invalid mean or variance.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="horizon"/> out of range.</exception>
    public static double GaussianPriorKl(NoiseSchedule schedule, ReadOnlySpan<double> mean, ReadOnlySpan<double> variance, double horizon)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        var data = GaussianDenoiser.Diagonal(mean, variance);
        CheckHorizon(schedule, horizon, nameof(horizon));
        return GaussianPriorKl(data, schedule.M(horizon), schedule.Sigma(horizon));
    }

    /// <summary>
    /// The trade-off table for Gaussian data N(mean, diag(variance)): exact KL, Monte Carlo score gap.
    /// </summary>
    /// <param name="schedule">The forward schedule (a VP schedule, so that N(0, I) is the natural prior).</param>
    /// <param name="mean">The data mean (length d).</param>
    /// <param name="variance">The per-coordinate data variance, positive.</param>
    /// <param name="model">The model score s(x, t).</param>
    /// <param name="horizons">Strictly increasing horizons T in (0, <see cref="NoiseSchedule.MaxTime"/>].</param>
    /// <param name="random">The random source.</param>
    /// <param name="sampleCount">Monte Carlo samples per quadrature node (and for KL when not exact); at least 2.</param>
    /// <param name="quadratureOrder">Gauss-Legendre nodes per horizon; at least 1.</param>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/>, <paramref name="model"/> or <paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentException">Invalid mean, variance or horizons, or the model returned a non-finite score.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sampleCount"/> or <paramref name="quadratureOrder"/> too small.</exception>
    public static DiffusionTimeTradeoffResult EvaluateGaussian(NoiseSchedule schedule, ReadOnlySpan<double> mean,
        ReadOnlySpan<double> variance, ScoreFunction model, ReadOnlySpan<double> horizons, Random random,
        int sampleCount = 2048, int quadratureOrder = 24)
    {
        var data = GaussianDenoiser.Diagonal(mean, variance);
        return Evaluate(schedule, data, model, horizons, random, sampleCount, quadratureOrder);
    }

    /// <summary>
    /// The trade-off table for diagonal Gaussian-mixture data sum_k w_k N(mu_k, diag(v_k)): Monte Carlo KL and score gap.
    /// </summary>
    /// <param name="schedule">The forward schedule.</param>
    /// <param name="weights">Component weights w_k &gt; 0 (normalised here).</param>
    /// <param name="means">Component means, k rows of d, row-major.</param>
    /// <param name="variances">Component per-coordinate variances, k rows of d, all positive.</param>
    /// <param name="model">The model score s(x, t).</param>
    /// <param name="horizons">Strictly increasing horizons T in (0, <see cref="NoiseSchedule.MaxTime"/>].</param>
    /// <param name="random">The random source.</param>
    /// <param name="sampleCount">Monte Carlo samples per quadrature node and for KL; at least 2.</param>
    /// <param name="quadratureOrder">Gauss-Legendre nodes per horizon; at least 1.</param>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/>, <paramref name="model"/> or <paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentException">Invalid weights, means, variances or horizons, or the model returned a non-finite score.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sampleCount"/> or <paramref name="quadratureOrder"/> too small.</exception>
    public static DiffusionTimeTradeoffResult EvaluateMixture(NoiseSchedule schedule, ReadOnlySpan<double> weights,
        ReadOnlySpan<double> means, ReadOnlySpan<double> variances, ScoreFunction model, ReadOnlySpan<double> horizons,
        Random random, int sampleCount = 2048, int quadratureOrder = 24)
    {
        var data = GaussianMixtureDenoiser.Diagonal(weights, means, variances);
        return Evaluate(schedule, data, model, horizons, random, sampleCount, quadratureOrder);
    }

    /// <summary>KL(P_T || N(0, I)) = sum_j KL(N(m mean_j, m^2 v_j + sigma^2) || N(0, 1)) for Gaussian data N(mean, diag(v)).</summary>
    private static double GaussianPriorKl(GaussianDenoiser data, double m, double sigma)
    {
        ReadOnlySpan<double> mean = data.Mean, variance = data.Variance;
        double kl = 0;
        for (int j = 0; j < mean.Length; j++)
            kl += GaussianDivergence.KullbackLeibler(m * mean[j], Math.Sqrt(m * m * variance[j] + sigma * sigma), 0, 1);
        return kl;
    }

    /// <summary>Fills <paramref name="x"/> with rows of P_t: x = m y + sigma eps with y ~ q.</summary>
    private static void SampleMarginal(IMarginalDensity data, Random random, double m, double sigma, Span<double> x)
    {
        data.SampleData(random, x);
        AuxiliaryStartModel.SampleForwardMarginal(x, data.Dimension, m, sigma, 1, random).CopyTo(x);
    }

    private static DiffusionTimeTradeoffResult Evaluate(NoiseSchedule schedule, IMarginalDensity data, ScoreFunction model,
        ReadOnlySpan<double> horizons, Random random, int sampleCount, int quadratureOrder)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(random);
        if (sampleCount < 2) throw new ArgumentOutOfRangeException(nameof(sampleCount), sampleCount, "At least two samples are needed.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(quadratureOrder);
        if (horizons.Length == 0) throw new ArgumentException("The horizons must not be empty.", nameof(horizons));
        for (int i = 0; i < horizons.Length; i++)
        {
            CheckHorizon(schedule, horizons[i], nameof(horizons));
            if (i > 0 && !(horizons[i] > horizons[i - 1]))
                throw new ArgumentException("The horizons must be strictly increasing.", nameof(horizons));
        }

        int d = data.Dimension;
        var x = new double[sampleCount * d];
        var truth = new double[x.Length];
        var modelScore = new double[x.Length];
        var logP = new double[sampleCount];
        var logPrior = new double[sampleCount];
        var prior = GaussianDenoiser.Isotropic(new double[d], 1.0);
        var points = new DiffusionTimeTradeoffPoint[horizons.Length];
        double bestTotal = double.PositiveInfinity, bestHorizon = horizons[0];
        for (int h = 0; h < horizons.Length; h++)
        {
            double horizon = horizons[h];
            double m = schedule.M(horizon), sigma = schedule.Sigma(horizon);
            double kl, klError = 0;
            if (data is GaussianDenoiser gaussian)
            {
                kl = GaussianPriorKl(gaussian, m, sigma);
            }
            else
            {
                SampleMarginal(data, random, m, sigma, x);
                data.LogDensity(x, m, sigma, logP);
                prior.LogDensity(x, 1, 0, logPrior);
                double sum = 0, sum2 = 0;
                for (int r = 0; r < sampleCount; r++)
                {
                    double v = logP[r] - logPrior[r];
                    sum += v;
                    sum2 += v * v;
                }
                kl = sum / sampleCount;
                klError = Math.Sqrt(Math.Max(0, (sum2 - sampleCount * kl * kl) / (sampleCount - 1)) / sampleCount);
            }

            var rule = new GaussLegendreRule(0, horizon, quadratureOrder);
            double gap = 0, gapVariance = 0;
            for (int k = 0; k < rule.Order; k++)
            {
                double t = rule.Abscissas[k], w = rule.Weights[k];
                double mt = schedule.M(t), st = schedule.Sigma(t), temperature = schedule.Temperature(t);
                SampleMarginal(data, random, mt, st, x);
                data.Score(x, mt, st, truth);
                model(x, t, modelScore);
                double sum = 0, sum2 = 0;
                for (int r = 0; r < sampleCount; r++)
                {
                    double e2 = 0;
                    for (int j = 0; j < d; j++)
                    {
                        double diff = modelScore[r * d + j] - truth[r * d + j];
                        e2 += diff * diff;
                    }
                    if (!double.IsFinite(e2)) throw new ArgumentException($"The model score is not finite at t = {t}.", nameof(model));
                    sum += e2;
                    sum2 += e2 * e2;
                }
                double mean = sum / sampleCount;
                double variance = Math.Max(0, (sum2 - sampleCount * mean * mean) / (sampleCount - 1)) / sampleCount;
                gap += w * temperature * mean;
                gapVariance += w * w * temperature * temperature * variance;
            }
            double total = kl + gap;
            points[h] = new DiffusionTimeTradeoffPoint(horizon, kl, klError, gap, Math.Sqrt(gapVariance), total);
            if (total <= bestTotal)
            {
                bestTotal = total;
                bestHorizon = horizon;
            }
        }
        return new DiffusionTimeTradeoffResult(points, bestHorizon);
    }

    private static void CheckHorizon(NoiseSchedule schedule, double horizon, string name)
    {
        if (!double.IsFinite(horizon) || horizon <= 0 || horizon > schedule.MaxTime)
            throw new ArgumentOutOfRangeException(name, horizon, $"Every horizon must lie in (0, {schedule.MaxTime}] (the schedule's MaxTime).");
    }
}
