using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;
using MLExtensions.Diffusion.Transport;
using Xunit.Abstractions;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

public class SpeedAccuracyRelationTests(ITestOutputHelper output)
{
    // The paper's 1-D setting (its mixture parameters are not stated; ours): q = 0.5 N(-2, 0.5^2) + 0.5 N(2, 0.5^2),
    // start laws N(1, 1), N(0, 1.2^2), 0.5 N(-1, 0.6^2) + 0.5 N(1, 0.6^2), U(-2, 2); tau = 1, cut-off eps = 1e-3.
    private static GaussianMixtureDenoiser Mixture() => GaussianMixtureDenoiser.Isotropic([0.5, 0.5], [-2.0, 2.0], [0.5, 0.5]);

    public static TheoryData<string, int> Cells()
    {
        var data = new TheoryData<string, int>();
        foreach (string path in new[] { "cosine", "cond-ot", "ot" })
            for (int k = 0; k < 4; k++) data.Add(path, k);
        return data;
    }

    private static StartPerturbation Perturbation(int k) => k switch
    {
        0 => StartPerturbation.MeanShift(1),
        1 => StartPerturbation.VarianceChange(1.2),
        2 => StartPerturbation.Mixture([0.5, 0.5], [-1.0, 1.0], [0.6, 0.6]),
        _ => StartPerturbation.Uniform(-2, 2),
    };

    private static SpeedAccuracyResult Run(string path, StartPerturbation p, int levels = 1000, int panels = 16) => path switch
    {
        "cosine" => SpeedAccuracyRelation.Compute(new CosineSchedule(), Mixture(), p, levels, panels),
        "cond-ot" => SpeedAccuracyRelation.Compute(new CondOtSchedule(), Mixture(), p, levels, panels),
        _ => SpeedAccuracyRelation.Compute(OptimalTransportPath1D.FromGaussianMixture(Mixture()), p, levels, panels),
    };

    [Theory]
    [MemberData(nameof(Cells))]
    public void HierarchyHoldsOnEveryCell(string path, int perturbation)
    {
        SpeedAccuracyResult r = Run(path, Perturbation(perturbation));
        output.WriteLine($"{r.PathName,-8} {r.PerturbationName,-22} D0={r.D0:G5} dW1={r.DeltaW1:G5} eta={r.Eta:G5} c1={r.C1:G5} c2={r.C2:G5} min(TSdot - v^2)={r.InstantaneousMargin:G3}");
        Assert.True(r.HierarchyHolds, $"eta = {r.Eta}, c1 = {r.C1}, c2 = {r.C2}");
        Assert.True(r.Eta > 0 && r.C1 > 0 && r.C2 > 0);
        Assert.True(r.InstantaneousHolds, $"instantaneous margin {r.InstantaneousMargin}");
        for (int j = 0; j < r.Times.Count; j++) Assert.True(r.LossSpeedSquared[j] <= r.KineticEnergy[j]);
        // dW1 from the end points agrees with minus the time integral of the exact rate d/dt W1.
        Assert.Equal(r.DeltaW1, r.DeltaW1FromRate, 4);
        Assert.Equal(r.EndTime, r.QuadratureWeights.Sum(), 12);
    }

    [Fact]
    public void MonotoneMapAgreesWithIntegratingTheProbabilityFlowOde()
    {
        // The computation carries Ptilde's quantiles back by Q_{P_t} o F_{P_tau}. Check against RK4 on dx/dt = nu_t(x)
        // run backwards from t_end with the cosine path's exact velocity field.
        var schedule = new CosineSchedule();
        var data = Mixture();
        var field = new ScheduleVelocityField(schedule, data);
        var marginals = new GaussianPathMarginals1D(schedule, data);
        var start = StartPerturbation.MeanShift(1);
        double tEnd = schedule.MaxTime, tStop = 0.25;
        double[] levels = [0.05, 0.3, 0.6, 0.95];
        var x = new double[levels.Length];
        for (int i = 0; i < x.Length; i++) x[i] = start.Quantile(levels[i]);
        var expected = new double[levels.Length];
        var end = marginals.MarginalAt(tEnd);
        var stop = marginals.MarginalAt(tStop);
        for (int i = 0; i < x.Length; i++) expected[i] = stop.Quantile(end.Cdf(x[i]), false);
        const int steps = 4000;
        double h = (tStop - tEnd) / steps;
        var k1 = new double[x.Length];
        var k2 = new double[x.Length];
        var k3 = new double[x.Length];
        var k4 = new double[x.Length];
        var tmp = new double[x.Length];
        for (int s = 0; s < steps; s++)
        {
            double t = tEnd + s * h;
            field.Velocity(x, t, k1);
            for (int i = 0; i < x.Length; i++) tmp[i] = x[i] + 0.5 * h * k1[i];
            field.Velocity(tmp, t + 0.5 * h, k2);
            for (int i = 0; i < x.Length; i++) tmp[i] = x[i] + 0.5 * h * k2[i];
            field.Velocity(tmp, t + 0.5 * h, k3);
            for (int i = 0; i < x.Length; i++) tmp[i] = x[i] + h * k3[i];
            field.Velocity(tmp, t + h, k4);
            for (int i = 0; i < x.Length; i++) x[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
        }
        for (int i = 0; i < x.Length; i++) Assert.Equal(expected[i], x[i], 1e-6);
    }

    [Fact]
    public void OtPathSaturatesTheFirstInequalityIn1D()
    {
        // Q_t - Qtilde_t = (1 - u)(Q_q(p) - Q_q(r)) + u (Phi^-1(p) - Phi^-1(r)) keeps its sign, so W1 is linear in t.
        SpeedAccuracyResult r = Run("ot", StartPerturbation.MeanShift(1));
        Assert.Equal(r.C1, r.Eta, r.C1 * 1e-9);
        Assert.Equal(0.0, r.EndCutoff);
    }

    [Fact]
    public void GeneratedLawDependsOnlyOnTheEndMarginalIn1D()
    {
        // The 1-D reverse flow is the monotone map Q_q o F_{P_tau} whatever the path, so W1(q, p) differs between
        // paths only through the cut-off (P_tau ~ N(0, 1) up to m ~ 1e-3).
        var p = StartPerturbation.MeanShift(1);
        double ot = Run("ot", p).W1End, cos = Run("cosine", p).W1End, cot = Run("cond-ot", p).W1End;
        Assert.Equal(ot, cos, 2e-3 * ot);
        Assert.Equal(ot, cot, 2e-3 * ot);
    }

    [Fact]
    public void OtOnGaussianDataWithMeanShiftMatchesClosedForms()
    {
        // q = N(mu0, s0^2): the flow from N(0, 1) is x -> (1 - u) mu0 + S_t x, S_t = (1 - u) s0 + u, so Ptilde_t =
        // N((1 - u) mu0 + S_t delta, S_t^2) and W1(P_t, Ptilde_t) = S_t |delta|.
        const double mu0 = 0.7, s0 = 0.6, delta = 0.8, tau = 2.0;
        var r = SpeedAccuracyRelation.Compute(OptimalTransportPath1D.FromGaussian(mu0, s0, tau), StartPerturbation.MeanShift(delta), 2000, 8);
        double d0 = GaussianDivergence.ChiSquare(delta, 1, 0, 1);
        Assert.Equal(d0, r.D0, 1e-8 * d0);
        Assert.Equal(delta, r.W1Start, 1e-6);
        Assert.Equal(s0 * delta, r.W1End, 1e-6);
        for (int j = 0; j < r.Times.Count; j++)
        {
            double u = r.Times[j] / tau;
            Assert.Equal(((1 - u) * s0 + u) * delta, r.W1[j], 1e-6);
            Assert.Equal((1 - s0) * delta / tau, r.W1Rate[j], 1e-9);
        }
        double eta = (s0 - 1) * (s0 - 1) * delta * delta / (tau * d0);
        Assert.Equal(eta, r.Eta, 1e-6 * eta);
        Assert.Equal(eta, r.C1, 1e-6 * eta);
        double w2 = GaussianWasserstein.W2(mu0, s0, 0, 1);
        Assert.Equal(w2 * w2 / tau, r.C2, 1e-4 * w2 * w2 / tau);
    }

    [Fact]
    public void CondOtOnGaussianDataMatchesClosedForms()
    {
        // q = N(mu0, s0^2), P_t = N(m mu0, S_t^2), S_t^2 = m^2 s0^2 + sigma^2. The flow from t_end is affine,
        // x -> m mu0 + (S_t / S_e)(x - m_e mu0); with Ptilde = N(delta, S_e^2), Ptilde_t is P_t shifted by
        // (S_t / S_e)(delta - m_e mu0).
        const double mu0 = -0.5, s0 = 0.4, delta = 0.9;
        var schedule = new CondOtSchedule(tau: 1.5, endCutoff: 1e-2);
        double te = schedule.MaxTime, me = schedule.M(te), se = Math.Sqrt(me * me * s0 * s0 + schedule.Sigma(te) * schedule.Sigma(te));
        double shift = delta - me * mu0;
        var r = SpeedAccuracyRelation.Compute(schedule, GaussianDenoiser.Isotropic([mu0], s0), StartPerturbation.Mixture([1.0], [delta], [se]), 2000, 16);
        double d0 = Math.Exp(shift * shift / (se * se)) - 1;
        Assert.Equal(d0, r.D0, 1e-7 * d0);
        Assert.Equal(te, r.EndTime);
        Assert.Equal(1.5 * 1e-2, r.EndCutoff, 1e-12);
        Assert.Equal(Math.Abs(shift), r.W1Start, 1e-6);
        Assert.Equal(s0 / se * Math.Abs(shift), r.W1End, 1e-6);
        double eta = Math.Pow((s0 - se) / se * shift, 2) / (te * d0);
        Assert.Equal(eta, r.Eta, 1e-5 * eta);
        // c1 and c2 by an independent trapezoid rule on the closed forms (SPEC section 8).
        const int steps = 200000;
        double c1 = 0, c2 = 0;
        for (int i = 0; i <= steps; i++)
        {
            double t = te * i / steps, w = (i == 0 || i == steps ? 0.5 : 1.0) * te / steps;
            double m = schedule.M(t), sg = schedule.Sigma(t), md = schedule.MDot(t), sd = schedule.SigmaDot(t);
            double s = Math.Sqrt(m * m * s0 * s0 + sg * sg), sdot = (m * md * s0 * s0 + sg * sd) / s;
            c1 += w * Math.Pow(sdot / se * shift, 2) / d0;
            c2 += w * (md * md * mu0 * mu0 + sdot * sdot);
        }
        Assert.Equal(c1, r.C1, 1e-5 * c1);
        Assert.Equal(c2, r.C2, 1e-5 * c2);
        Assert.True(r.HierarchyHolds);
    }

    [Fact]
    public void OtKineticCostIsSquaredW2OverTau()
    {
        const double tau = 1.7;
        var path = OptimalTransportPath1D.FromGaussianMixture(Mixture(), tau);
        var r = SpeedAccuracyRelation.Compute(path, StartPerturbation.MeanShift(0.5), 500, 4);
        double w2 = Wasserstein1D.Distance(p => path.Quantile(p, 0), p => path.Quantile(p, tau), 2, 4000);
        Assert.Equal(w2 * w2 / tau, r.C2, 1e-3 * w2 * w2 / tau);
    }

    [Fact]
    public void NoPerturbationIsRejected()
    {
        var path = OptimalTransportPath1D.FromGaussianMixture(Mixture());
        var e = Assert.Throws<ArgumentException>(() => SpeedAccuracyRelation.Compute(path, StartPerturbation.MeanShift(0)));
        Assert.Equal("perturbation", e.ParamName);
        Assert.Contains("no perturbation", e.Message);
    }

    [Theory]
    [InlineData(1.5)]
    [InlineData(1.4142135623730951)]
    [InlineData(3.0)]
    public void InfiniteChiSquareIsRejected(double scale)
    {
        var path = OptimalTransportPath1D.FromGaussianMixture(Mixture());
        var e = Assert.Throws<ArgumentException>(() => SpeedAccuracyRelation.Compute(path, StartPerturbation.VarianceChange(scale)));
        Assert.Equal("perturbation", e.ParamName);
        Assert.Contains("infinite", e.Message);
        Assert.Throws<ArgumentException>(() => SpeedAccuracyRelation.Compute(new CosineSchedule(), Mixture(), StartPerturbation.VarianceChange(scale)));
    }

    [Fact]
    public void HeavyButFiniteTailsAreAccepted()
    {
        // N(0, 1.35^2) against N(0, 1): chi-square 1 / (s sqrt(2 - s^2)) - 1, finite though slowly converging.
        var r = SpeedAccuracyRelation.Compute(OptimalTransportPath1D.FromGaussianMixture(Mixture()), StartPerturbation.VarianceChange(1.35), 200, 2);
        double d0 = GaussianDivergence.ChiSquare(0, 1.35, 0, 1);
        Assert.Equal(d0, r.D0, 1e-6 * d0);
    }

    [Fact]
    public void InvalidDensityIsRejected()
    {
        var bad = StartPerturbation.Custom("nan", _ => double.NaN, x => 0.5, p => p);
        var e = Assert.Throws<ArgumentException>(() => SpeedAccuracyRelation.Compute(OptimalTransportPath1D.FromGaussianMixture(Mixture()), bad));
        Assert.Equal("perturbation", e.ParamName);
    }

    [Fact]
    public void NonPositiveTauIsRejected()
    {
        foreach (double tau in new[] { 0.0, -1.0, double.NaN })
        {
            Assert.Equal("tau", Assert.Throws<ArgumentOutOfRangeException>(() => OptimalTransportPath1D.FromGaussianMixture(Mixture(), tau)).ParamName);
            Assert.Equal("tau", Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(tau)).ParamName);
        }
    }

    [Fact]
    public void OtherInvalidInputsAreRejected()
    {
        var p = StartPerturbation.MeanShift(1);
        var twoD = GaussianDenoiser.Isotropic([0.0, 0.0], 1.0);
        Assert.Equal("data", Assert.Throws<ArgumentException>(() => SpeedAccuracyRelation.Compute(new CosineSchedule(), twoD, p)).ParamName);
        Assert.Throws<ArgumentNullException>(() => SpeedAccuracyRelation.Compute(new CosineSchedule(), Mixture(), null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => SpeedAccuracyRelation.Compute(OptimalTransportPath1D.FromGaussianMixture(Mixture()), p, quantileLevels: 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => SpeedAccuracyRelation.Compute(OptimalTransportPath1D.FromGaussianMixture(Mixture()), p, timePanels: 0));
    }

    /// <summary>W1 between N(a, A^2) and N(b, B^2): E|(a - b) + (A - B) Z|, the folded-normal mean.</summary>
    private static double GaussianW1(double a, double sa, double b, double sb)
    {
        double alpha = a - b, beta = Math.Abs(sa - sb);
        if (beta == 0) return Math.Abs(alpha);
        return beta * Math.Sqrt(2 / Math.PI) * Math.Exp(-alpha * alpha / (2 * beta * beta))
            + alpha * (1 - 2 * MathNet.Numerics.Distributions.Normal.CDF(0, 1, -alpha / beta));
    }

    /// <summary>SPEC section 8: chi2(N(m1, s1^2) || N(m0, s0^2)).</summary>
    private static double GaussianChiSquare(double m1, double s1, double m0, double s0)
        => s0 * s0 / (s1 * Math.Sqrt(2 * s0 * s0 - s1 * s1)) * Math.Exp((m1 - m0) * (m1 - m0) / (2 * s0 * s0 - s1 * s1)) - 1;

    [Fact]
    public void ReferenceLawAndDurationChoicesMoveTheResultAsTheClosedFormsPredict()
    {
        // Gaussian data N(2, 0.5^2) on cosine with a visible cut-off eps = 0.05: P_{t_end} = N(m mu0, m^2 s0^2 + sigma^2),
        // m = cos(pi (1 - eps) / 2) ~ 0.078, which is not N(0, 1). Start law N(1, 1).
        var schedule = new CosineSchedule(1.0, endCutoff: 0.05);
        var data = GaussianDenoiser.Isotropic([2.0], 0.5);
        var p = StartPerturbation.MeanShift(1);
        double tEnd = schedule.MaxTime, m = schedule.M(tEnd), sigma = schedule.Sigma(tEnd);
        double endMean = 2.0 * m, endStd = Math.Sqrt(m * m * 0.25 + sigma * sigma);

        var byDefault = SpeedAccuracyRelation.Compute(schedule, data, p, 2000, 16);
        var end = SpeedAccuracyRelation.Compute(schedule, data, p, 2000, 16, SpeedAccuracyReference.EndMarginal, SpeedAccuracyDuration.EndTime);
        var normal = SpeedAccuracyRelation.Compute(schedule, data, p, 2000, 16, reference: SpeedAccuracyReference.StandardNormal);
        var overTau = SpeedAccuracyRelation.Compute(schedule, data, p, 2000, 16, duration: SpeedAccuracyDuration.Tau);

        // The default is the end marginal and t_end (unchanged behaviour).
        Assert.Equal(end.Eta, byDefault.Eta);
        Assert.Equal(end.D0, byDefault.D0);
        Assert.Equal(end.C1, byDefault.C1);
        Assert.Equal(SpeedAccuracyReference.EndMarginal, byDefault.Reference);
        Assert.Equal(tEnd, byDefault.EtaDuration);

        // D0 and W1(R, Ptilde) against each reference, by hand.
        double d0End = GaussianChiSquare(1, 1, endMean, endStd), d0Normal = GaussianChiSquare(1, 1, 0, 1);
        double w1End = GaussianW1(endMean, endStd, 1, 1), w1Normal = GaussianW1(0, 1, 1, 1);
        Assert.Equal(d0End, end.D0, 1e-6 * d0End);
        Assert.Equal(d0Normal, normal.D0, 1e-6 * d0Normal);
        Assert.Equal(w1End, end.W1Start, 2e-4);
        Assert.Equal(w1Normal, normal.W1Start, 2e-4);
        // The end marginal lies nearer to N(1, 1) than N(0, 1) does: smaller D0 and start error, and the two start errors
        // differ by at most W2(P_{t_end}, N(0, 1)) = sqrt((m mu0)^2 + (S - 1)^2).
        Assert.True(d0End < d0Normal && end.W1Start < normal.W1Start);
        double w2References = Math.Sqrt(endMean * endMean + (endStd - 1) * (endStd - 1));
        Assert.True(normal.W1Start - end.W1Start <= w2References + 1e-12);
        // The flow and the generated law do not depend on the reference; c1 scales as 1 / D0.
        Assert.Equal(end.W1End, normal.W1End);
        Assert.Equal(end.C2, normal.C2);
        Assert.Equal(end.C1 * end.D0 / normal.D0, normal.C1, 1e-12 * end.C1);
        // eta moves as the closed forms predict: (W1End - W1(R, Ptilde))^2 / (t_end D0(R)).
        double predictedEnd = Math.Pow(end.W1End - w1End, 2) / (tEnd * d0End);
        double predictedNormal = Math.Pow(normal.W1End - w1Normal, 2) / (tEnd * d0Normal);
        Assert.Equal(Math.Sign(predictedNormal - predictedEnd), Math.Sign(normal.Eta - end.Eta));
        Assert.Equal(predictedNormal, normal.Eta, 1e-3 * predictedNormal);
        Assert.Equal(Math.Pow(normal.DeltaW1, 2) / (tEnd * normal.D0), normal.Eta, 1e-12 * normal.Eta);

        // Duration tau instead of t_end: eta scales by t_end / tau < 1, nothing else changes.
        Assert.Equal(schedule.Tau, overTau.EtaDuration);
        Assert.Equal(end.Eta * tEnd / schedule.Tau, overTau.Eta, 1e-12 * end.Eta);
        Assert.True(overTau.Eta < end.Eta);
        Assert.Equal(end.C1, overTau.C1);

        Assert.Equal("reference", Assert.Throws<ArgumentOutOfRangeException>(
            () => SpeedAccuracyRelation.Compute(schedule, data, p, reference: (SpeedAccuracyReference)7)).ParamName);
        Assert.Equal("duration", Assert.Throws<ArgumentOutOfRangeException>(
            () => SpeedAccuracyRelation.Compute(schedule, data, p, duration: (SpeedAccuracyDuration)7)).ParamName);
    }

    [Theory]
    [InlineData(1.2)]
    [InlineData(0.7)]
    public void QuantileRuleRelativeErrorForAPureVarianceChange(double scale)
    {
        // Data N(0, 1) on the (variance-preserving) cosine path keeps P_t = N(0, 1), so W1(P_tau, Ptilde) and W1(q, p) are
        // both W1(N(0, 1), N(0, s^2)) = |1 - s| sqrt(2 / pi). The midpoint quantile rule underestimates it by a relative
        // 1.06e-4 at the default N = 2000 (the number quoted in SpeedAccuracyRelation.DefaultQuantileLevels), about 1/N.
        var schedule = new CosineSchedule();
        var data = GaussianDenoiser.Isotropic([0.0], 1.0);
        double exact = Math.Abs(1 - scale) * Math.Sqrt(2 / Math.PI);
        var expected = new Dictionary<int, double> { [1000] = -2.214e-4, [SpeedAccuracyRelation.DefaultQuantileLevels] = -1.063e-4, [4000] = -5.12e-5 };
        foreach (var (levels, relative) in expected)
        {
            var r = SpeedAccuracyRelation.Compute(schedule, data, StartPerturbation.VarianceChange(scale), levels, 4);
            double measured = (r.W1Start - exact) / exact;
            output.WriteLine($"s = {scale}, N = {levels}: relative error {measured:E3}");
            Assert.Equal(relative, measured, 0.01 * Math.Abs(relative));
            Assert.Equal(r.W1Start, r.W1End, 1e-6 * exact);
        }
        Assert.Equal(2000, SpeedAccuracyRelation.DefaultQuantileLevels);
    }
}
