using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The speed-accuracy relation of Ikeda et al. computed exactly in 1-D (SPEC section 3): the exact reverse flow runs
/// from a wrong start law Ptilde instead of P_tau, and the relation eta &lt;= c1 &lt;= c2 bounds the resulting error.
/// </summary>
/// <remarks>
/// <para>Ikeda, Uda, Okanohara, Ito, "Speed-accuracy relations for diffusion models", arXiv:2407.04495 (Phys. Rev. X
/// 15, 031031, 2025).</para>
/// <para>Method. In 1-D the flow map of any velocity field is increasing, so the reverse flow from t_end to t is the
/// monotone map Q_{P_t} o F_{P_tau}: the quantile of Ptilde_t at level p is the quantile of P_t at level
/// r(p) = F_{P_tau}(Q_Ptilde(p)), with no ODE error. Levels p_i = (i + 1/2) / N (midpoint rule, N =
/// <c>quantileLevels</c>), carried as lower- or upper-tail probabilities so levels near 1 keep their precision.
/// With the default N = 2000 the W1 values carry a relative quadrature error of about 1e-4 (measured: -1.06e-4 for a
/// pure variance change N(0, 1) -&gt; N(0, s^2); see <see cref="DefaultQuantileLevels"/>).
/// W1(P_t, Ptilde_t) = integral_0^1 |Q_{P_t}(p) - Q_{Ptilde_t}(p)| dp. Every quantile moves with the flow,
/// d/dt Q(p) = nu_t(Q(p)), so d/dt W1 = integral sign(Q_P - Q_Ptilde) (nu_t(Q_P) - nu_t(Q_Ptilde)) dp exactly in t.
/// c1 and c2 are integrated by composite 4-point Gauss-Legendre on <c>timePanels</c> equal panels of [0, t_end]
/// (interior nodes: the Gaussian-path velocity is undefined at t = 0). The kinetic energy integral nu^2 P_t dx is a
/// Simpson quadrature in x for Gaussian paths and the constant W2(q, N(0,1))^2 / tau^2 for the OT path. D0 is
/// computed once at t_end; the chi-square is invariant under the (invertible) flow, so it is D0 at every t.</para>
/// <para>The singular end. Cosine and cond-OT have m = 0 at u = 1, where the Gaussian-path velocity (mdot / m) x - T s
/// is 0 * infinity. They are run on [0, t_end] with t_end = <see cref="NoiseSchedule.MaxTime"/> = tau (1 - eps), eps
/// the schedule's end cut-off (1e-3 by default): P_tau means P_{t_end} (for the cosine path on the default mixture
/// it differs from N(0, 1) by m = cos(pi (1 - eps) / 2) ~ 1.6e-3 in scale), D0 and W1(P_tau, Ptilde) are taken there,
/// and eta uses the duration t_end. With these conventions the hierarchy is a theorem on [0, t_end] (Cauchy-Schwarz
/// in time gives eta &lt;= c1; Cauchy-Schwarz in x with the conserved D0 gives the instantaneous form and
/// c1 &lt;= c2), so the cut-off changes the numbers by O(eps) but never the ordering. The OT path is regular at
/// u = 1 and uses t_end = tau.</para>
/// <para>Choices. By default (the behaviour before these options existed) the reference law is R = P_{t_end}
/// (<see cref="SpeedAccuracyReference.EndMarginal"/>) and eta divides by t_end (<see cref="SpeedAccuracyDuration.EndTime"/>).
/// <c>reference</c> = <see cref="SpeedAccuracyReference.StandardNormal"/> measures D0 = chi2(Ptilde || N(0, 1)) and
/// W1(N(0, 1), Ptilde) instead (the flow still starts from Ptilde at t_end; c1 uses that D0); <c>duration</c> =
/// <see cref="SpeedAccuracyDuration.Tau"/> divides eta by tau. On the OT path both choices coincide with the defaults
/// (t_end = tau, P_tau = N(0, 1)).</para>
/// <para>The kinetic energy here is a small internal 1-D quadrature of integral nu^2 P dx, pending the general
/// entropy-production code.</para>
/// </remarks>
public static class SpeedAccuracyRelation
{
    /// <summary>The default number of quantile levels N.</summary>
    /// <remarks>
    /// Measured quadrature accuracy of the midpoint quantile rule: for a pure variance change N(0, 1) -&gt; N(0, s^2)
    /// (exact W1 = |1 - s| sqrt(2/pi)) the computed W1 is low by a relative 1.06e-4 at N = 2000, independent of s; the
    /// error falls about as 1/N (2.2e-4 at N = 1000, 5.1e-5 at N = 4000), from the Gaussian tails beyond the outermost
    /// levels. Test: SpeedAccuracyRelationTests.QuantileRuleRelativeErrorForAPureVarianceChange.
    /// </remarks>
    public const int DefaultQuantileLevels = 2000;

    /// <summary>The default number of time panels (4 Gauss-Legendre nodes each).</summary>
    public const int DefaultTimePanels = 32;

    private static readonly double[] GaussNodes =
    [
        -0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526,
    ];

    private static readonly double[] GaussWeights =
    [
        0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538,
    ];

    /// <summary>The relation for a Gaussian path (schedule) on 1-D Gaussian or Gaussian-mixture data.</summary>
    /// <param name="schedule">The (m, sigma) schedule; run on [0, <see cref="NoiseSchedule.MaxTime"/>].</param>
    /// <param name="data">The data law: a 1-D <see cref="GaussianMixtureDenoiser"/> or <see cref="GaussianDenoiser"/>
    /// (the exact computation needs the marginal CDF).</param>
    /// <param name="perturbation">The start law Ptilde.</param>
    /// <param name="quantileLevels">N, the number of quantile levels; at least 16.</param>
    /// <param name="timePanels">The number of Gauss-Legendre time panels; at least 1.</param>
    /// <param name="reference">The law R that D0 and W1(R, Ptilde) are measured against; default P_{t_end} (see remarks).</param>
    /// <param name="duration">The duration in eta; default t_end (see remarks).</param>
    /// <returns>The result.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> is not 1-D or not a Gaussian (mixture); or
    /// <paramref name="perturbation"/> gives an infinite or undefined chi-square against P_tau, or equals P_tau (D0 = 0);
    /// or its quantiles are not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="quantileLevels"/> or <paramref name="timePanels"/> is too
    /// small, or <paramref name="reference"/> or <paramref name="duration"/> is not a defined value.</exception>
    public static SpeedAccuracyResult Compute(NoiseSchedule schedule, IMarginalDensity data, StartPerturbation perturbation,
        int quantileLevels = DefaultQuantileLevels, int timePanels = DefaultTimePanels,
        SpeedAccuracyReference reference = SpeedAccuracyReference.EndMarginal, SpeedAccuracyDuration duration = SpeedAccuracyDuration.EndTime)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(perturbation);
        return Compute(new GaussianPathMarginals1D(schedule, data), perturbation, quantileLevels, timePanels, reference, duration);
    }

    /// <summary>The relation for the exact 1-D optimal-transport path.</summary>
    /// <param name="path">The OT path; run on [0, tau].</param>
    /// <param name="perturbation">The start law Ptilde.</param>
    /// <param name="quantileLevels">N, the number of quantile levels; at least 16.</param>
    /// <param name="timePanels">The number of Gauss-Legendre time panels; at least 1.</param>
    /// <param name="reference">The law R that D0 and W1(R, Ptilde) are measured against; default P_{t_end} (see remarks).</param>
    /// <param name="duration">The duration in eta; default t_end (see remarks).</param>
    /// <returns>The result.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="perturbation"/> gives an infinite or undefined chi-square
    /// against P_tau = N(0, 1), or equals it (D0 = 0); or its quantiles are not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="quantileLevels"/> or <paramref name="timePanels"/> is too
    /// small, or <paramref name="reference"/> or <paramref name="duration"/> is not a defined value.</exception>
    public static SpeedAccuracyResult Compute(OptimalTransportPath1D path, StartPerturbation perturbation,
        int quantileLevels = DefaultQuantileLevels, int timePanels = DefaultTimePanels,
        SpeedAccuracyReference reference = SpeedAccuracyReference.EndMarginal, SpeedAccuracyDuration duration = SpeedAccuracyDuration.EndTime)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(perturbation);
        return Compute((IMarginalPath1D)path, perturbation, quantileLevels, timePanels, reference, duration);
    }

    private static SpeedAccuracyResult Compute(IMarginalPath1D path, StartPerturbation perturbation, int quantileLevels, int timePanels,
        SpeedAccuracyReference reference, SpeedAccuracyDuration duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(quantileLevels, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(timePanels, 1);
        if (!Enum.IsDefined(reference))
            throw new ArgumentOutOfRangeException(nameof(reference), reference, "'reference' is not a defined SpeedAccuracyReference.");
        if (!Enum.IsDefined(duration))
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "'duration' is not a defined SpeedAccuracyDuration.");
        double tEnd = path.PathEndTime;
        ILaw1D end = path.MarginalAt(tEnd);
        bool standardNormal = reference == SpeedAccuracyReference.StandardNormal;
        ILaw1D referenceLaw = standardNormal ? new GaussianMixture1D([1.0], [0.0], [1.0]) : end;
        double d0 = ChiSquareDivergence1D.Compute(perturbation, referenceLaw, nameof(perturbation));
        double etaDuration = duration == SpeedAccuracyDuration.Tau ? path.PathTau : tEnd;

        // Quantile levels of P (p_i) and of Ptilde carried to P_tau levels r_i, as tail probabilities.
        int n = quantileLevels;
        var levels = new double[n];
        var upper = new bool[n];
        var tildeLevels = new double[n];
        var tildeUpper = new bool[n];
        ILaw1D tilde = perturbation;
        for (int i = 0; i < n; i++)
        {
            upper[i] = 2 * i + 1 > n;
            levels[i] = upper[i] ? (n - i - 0.5) / n : (i + 0.5) / n;
            double x = tilde.Quantile(levels[i], upper[i]);
            if (!double.IsFinite(x))
                throw new ArgumentException($"The start law {perturbation.Name} has a non-finite quantile {x} at level {(upper[i] ? 1 - levels[i] : levels[i])}.", nameof(perturbation));
            double f = end.Cdf(x);
            tildeUpper[i] = f > 0.5;
            tildeLevels[i] = Math.Max(tildeUpper[i] ? end.Survival(x) : f, double.Epsilon);
        }

        var a = new double[n];
        var b = new double[n];
        Array.Fill(a, double.NaN);
        Array.Fill(b, double.NaN);
        var va = new double[n];
        var vb = new double[n];

        double W1At(double t)
        {
            ILaw1D law = path.MarginalAt(t);
            double s = 0;
            for (int i = 0; i < n; i++) s += Math.Abs(law.Quantile(levels[i], upper[i]) - law.Quantile(tildeLevels[i], tildeUpper[i]));
            return s / n;
        }

        double w1Start = W1At(tEnd), w1End = W1At(0);
        if (standardNormal)
        {
            // W1(N(0, 1), Ptilde) on the same quantile levels (Ptilde's quantiles directly).
            double s = 0;
            for (int i = 0; i < n; i++)
                s += Math.Abs(GaussianMixture1D.NormalQuantile(levels[i], upper[i]) - tilde.Quantile(levels[i], upper[i]));
            w1Start = s / n;
        }
        int nodes = 4 * timePanels;
        var times = new double[nodes];
        var weights = new double[nodes];
        var w1 = new double[nodes];
        var rate = new double[nodes];
        var loss = new double[nodes];
        var kinetic = new double[nodes];
        double panel = tEnd / timePanels, c1 = 0, c2 = 0, integratedRate = 0, margin = double.PositiveInfinity;
        for (int k = 0; k < timePanels; k++)
        {
            for (int g = 0; g < 4; g++)
            {
                int j = 4 * k + g;
                double t = panel * (k + 0.5 * (GaussNodes[g] + 1));
                times[j] = t;
                weights[j] = 0.5 * panel * GaussWeights[g];
                path.QuantilesAndVelocities(levels, upper, t, a, va);
                path.QuantilesAndVelocities(tildeLevels, tildeUpper, t, b, vb);
                double s = 0, r = 0;
                for (int i = 0; i < n; i++)
                {
                    double diff = a[i] - b[i];
                    s += Math.Abs(diff);
                    r += Math.Sign(diff) * (va[i] - vb[i]);
                }
                w1[j] = s / n;
                rate[j] = r / n;
                loss[j] = rate[j] * rate[j] / d0;
                kinetic[j] = path.KineticEnergy(t);
                c1 += weights[j] * loss[j];
                c2 += weights[j] * kinetic[j];
                integratedRate += weights[j] * rate[j];
                margin = Math.Min(margin, kinetic[j] - loss[j]);
            }
        }

        double deltaW1 = w1End - w1Start;
        return new SpeedAccuracyResult
        {
            PathName = path.PathName,
            PerturbationName = perturbation.Name,
            Tau = path.PathTau,
            EndTime = tEnd,
            D0 = d0,
            W1Start = w1Start,
            W1End = w1End,
            DeltaW1FromRate = -integratedRate,
            Eta = deltaW1 * deltaW1 / (etaDuration * d0),
            Reference = reference,
            EtaDuration = etaDuration,
            C1 = c1,
            C2 = c2,
            Times = times,
            QuadratureWeights = weights,
            W1 = w1,
            W1Rate = rate,
            LossSpeedSquared = loss,
            KineticEnergy = kinetic,
            InstantaneousMargin = margin,
        };
    }
}
