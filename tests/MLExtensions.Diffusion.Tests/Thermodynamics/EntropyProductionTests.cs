using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

public class EntropyProductionTests
{
    private static NoiseSchedule MakeSchedule(string name) => name switch
    {
        "cosine" => new CosineSchedule(),
        "cond-ot" => new CondOtSchedule(2.0),
        "vp-linear" => new VpLinearSchedule(),
        "vp-cosine" => new VpCosineSchedule(),
        "gaussian-ot" => new GaussianOtSchedule(0.5),
        "ve" => new VeSchedule(5.0),
        _ => throw new ArgumentException(name),
    };

    /// <summary>SPEC section 8 written out: kinetic energy mdot^2 |mu0|^2 + d Sdot^2, S = sqrt(m^2 s0^2 + sigma^2).</summary>
    private static double GaussianKinetic(NoiseSchedule s, double t, double mu0Squared, double s0, int d)
    {
        double m = s.M(t), sigma = s.Sigma(t), md = s.MDot(t), sd = s.SigmaDot(t);
        double std = Math.Sqrt(m * m * s0 * s0 + sigma * sigma);
        double stdDot = (m * md * s0 * s0 + sigma * sd) / std;
        return md * md * mu0Squared + d * stdDot * stdDot;
    }

    [Theory]
    [InlineData("cosine")]
    [InlineData("cond-ot")]
    [InlineData("vp-linear")]
    [InlineData("vp-cosine")]
    [InlineData("gaussian-ot")]
    [InlineData("ve")]
    public void OneDimensionalGaussianMatchesClosedForms(string name)
    {
        var schedule = MakeSchedule(name);
        double mu0 = 2.0, s0 = 0.5;
        var data = GaussianDenoiser.Isotropic([mu0], s0);
        foreach (double u in new[] { 0.01, 0.3, 0.7, 0.99 })
        {
            double t = u * schedule.MaxTime;
            var r = EntropyProduction.Rate(schedule, data, t);
            double expected = GaussianKinetic(schedule, t, mu0 * mu0, s0, 1);
            Assert.Equal(expected, r.KineticEnergy, 1e-9 * (1 + expected));
            Assert.Equal(schedule.Temperature(t), r.Temperature, 12);
            Assert.Equal(r.KineticEnergy / r.Temperature, r.Rate, 1e-12 * r.Rate);
            Assert.Equal(r.Rate, r.SystemRate + r.BathRate, 1e-9 * (1 + Math.Abs(r.Rate)));
            // The system part is the time derivative of the Gaussian entropy, d/dt ln S (SPEC section 2).
            double m = schedule.M(t), sigma = schedule.Sigma(t);
            double std = Math.Sqrt(m * m * s0 * s0 + sigma * sigma);
            double stdDot = (m * schedule.MDot(t) * s0 * s0 + sigma * schedule.SigmaDot(t)) / std;
            Assert.Equal(stdDot / std, r.SystemRate, 1e-8 * (1 + Math.Abs(stdDot / std)));
            // Conservative field: T Sdot = v2^2, exact (Bures) and from quantiles.
            double v2 = WassersteinSpeed.Gaussian(schedule, data, t);
            Assert.Equal(r.KineticEnergy, v2 * v2, 1e-9 * (1 + expected));
            Assert.Equal(0, r.KineticEnergyStandardError);
            Assert.Equal(0, r.Samples);
        }
    }

    [Theory]
    [InlineData("cosine", 3)]
    [InlineData("cond-ot", 2)]
    [InlineData("vp-linear", 4)]
    public void MonteCarloInDDimensionsMatchesClosedForm(string name, int seed)
    {
        var schedule = MakeSchedule(name);
        double[] mu0 = [1.0, -0.5, 0.25];
        double s0 = 0.7, mu0Squared = mu0.Sum(v => v * v);
        var data = GaussianDenoiser.Isotropic(mu0, s0);
        double t = 0.4 * schedule.MaxTime;
        var r = EntropyProduction.MonteCarloRate(schedule, data, t, 20000, new Random(seed));
        double expected = GaussianKinetic(schedule, t, mu0Squared, s0, 3);
        Assert.Equal(20000, r.Samples);
        Assert.True(r.KineticEnergyStandardError > 0);
        Assert.True(Math.Abs(r.KineticEnergy - expected) < 4 * r.KineticEnergyStandardError,
            $"MC {r.KineticEnergy} +- {r.KineticEnergyStandardError} vs exact {expected}");
        Assert.Equal(r.Rate, r.SystemRate + r.BathRate, 1e-9 * Math.Abs(r.Rate));
    }

    [Fact]
    public void MixtureQuadratureAgreesWithMonteCarloWithinThreeStandardErrors()
    {
        var schedule = new CosineSchedule();
        var mixture = GaussianMixtureDenoiser.Isotropic([0.3, 0.7], [-1.5, 1.0], [0.4, 0.3]);
        foreach (double t in new[] { 0.2, 0.5, 0.8 })
        {
            var exact = EntropyProduction.Rate(schedule, mixture, t);
            var mc = EntropyProduction.MonteCarloRate(schedule, mixture, t, 40000, new Random(17));
            Assert.True(Math.Abs(exact.Rate - mc.Rate) < 3 * mc.RateStandardError, $"t={t}: {exact.Rate} vs {mc.Rate} +- {mc.RateStandardError}");
            Assert.True(Math.Abs(exact.SystemRate - mc.SystemRate) < 3 * mc.SystemRateStandardError, $"t={t}: sys {exact.SystemRate} vs {mc.SystemRate} +- {mc.SystemRateStandardError}");
            Assert.True(Math.Abs(exact.BathRate - mc.BathRate) < 3 * mc.BathRateStandardError, $"t={t}: bath {exact.BathRate} vs {mc.BathRate} +- {mc.BathRateStandardError}");
            Assert.Equal(exact.Rate, exact.SystemRate + exact.BathRate, 1e-9 * exact.Rate);
        }
        var exactIntegral = EntropyProduction.Integrate(schedule, mixture);
        var mcIntegral = EntropyProduction.MonteCarloIntegrate(schedule, mixture, 3000, new Random(5));
        Assert.True(Math.Abs(exactIntegral.KineticCost - mcIntegral.KineticCost) < 3 * mcIntegral.KineticCostStandardError,
            $"c2 {exactIntegral.KineticCost} vs {mcIntegral.KineticCost} +- {mcIntegral.KineticCostStandardError}");
        Assert.True(Math.Abs(exactIntegral.TotalEntropyProduction - mcIntegral.TotalEntropyProduction) < 3 * mcIntegral.TotalEntropyProductionStandardError,
            $"S_tot {exactIntegral.TotalEntropyProduction} vs {mcIntegral.TotalEntropyProduction} +- {mcIntegral.TotalEntropyProductionStandardError}");
        Assert.Equal(exactIntegral.TotalEntropyProduction, exactIntegral.SystemEntropyChange + exactIntegral.BathEntropyChange, 1e-8);
    }

    [Fact]
    public void DataRowOverloadWithAnyDenoiserMatchesClosedForm()
    {
        var schedule = new CondOtSchedule();
        double[] mu0 = [0.5, -1.0];
        var data = GaussianDenoiser.Isotropic(mu0, 0.8);
        var rows = new double[2 * 50000];
        data.SampleData(new Random(1), rows);
        IDenoiser denoiser = data;
        double t = 0.5;
        var r = EntropyProduction.MonteCarloRate(schedule, denoiser, rows, t, 20000, new Random(2));
        double expected = GaussianKinetic(schedule, t, 1.25, 0.8, 2);
        // Resampling 50000 rows adds a sampling error of about the same size as the MC error.
        Assert.True(Math.Abs(r.KineticEnergy - expected) < 5 * r.KineticEnergyStandardError, $"{r.KineticEnergy} +- {r.KineticEnergyStandardError} vs {expected}");
    }

    [Theory]
    [InlineData("vp-linear", 1.0)]
    [InlineData("vp-linear", 2.5)]
    [InlineData("cosine", 1.0)]
    [InlineData("cosine", 3.0)]
    public void VpEntropyProductionEqualsKlDifference(string name, double tau)
    {
        NoiseSchedule schedule = name == "cosine" ? new CosineSchedule(tau) : new VpLinearSchedule(tau: tau);
        double mu0 = 0.7, s0 = 0.6;
        var data = GaussianDenoiser.Isotropic([mu0], s0);
        var r = EntropyProduction.Integrate(schedule, data);
        double Kl(double t) => GaussianDivergence.KullbackLeibler(schedule.M(t) * mu0,
            Math.Sqrt(schedule.M(t) * schedule.M(t) * s0 * s0 + schedule.Sigma(t) * schedule.Sigma(t)), 0, 1);
        double expected = Kl(r.LowerTime) - Kl(r.UpperTime);
        Assert.False(r.DivergesAtStart);
        Assert.Equal(expected, r.TotalEntropyProduction, 1e-7);
        // Parametrisation independence: the same (m, sigma) path on a different clock gives the same number.
        NoiseSchedule unit = name == "cosine" ? new CosineSchedule(1.0) : new VpLinearSchedule(tau: 1.0);
        Assert.Equal(EntropyProduction.Integrate(unit, data).TotalEntropyProduction, r.TotalEntropyProduction, 1e-7);
        // The kinetic cost is not: c2 scales like 1/tau.
        Assert.Equal(EntropyProduction.Integrate(unit, data).KineticCost / tau, r.KineticCost, 1e-7);
    }

    [Fact]
    public void VpIdentityHoldsForAMixtureToo()
    {
        var schedule = new VpLinearSchedule();
        var mixture = GaussianMixtureDenoiser.Isotropic([0.5, 0.5], [-1.0, 2.0], [0.5, 0.8]);
        var r = EntropyProduction.Integrate(schedule, mixture, 0.05, 0.9);
        // KL(P_t || N(0,1)) by brute-force quadrature.
        double Kl(double t)
        {
            double m = schedule.M(t), sigma = schedule.Sigma(t), sum = 0, h = 1e-3;
            for (double x = -15; x <= 15; x += h)
            {
                double lp = mixture.LogDensity([x], m, sigma);
                double p = Math.Exp(lp);
                if (p > 0) sum += p * (lp - (-0.5 * Math.Log(2 * Math.PI) - 0.5 * x * x)) * h;
            }
            return sum;
        }
        Assert.Equal(Kl(r.LowerTime) - Kl(r.UpperTime), r.TotalEntropyProduction, 1e-6);
    }

    [Fact]
    public void CondOtFromZeroIsFlaggedAndGrowsWithTheCutoffWhileC2DoesNot()
    {
        var schedule = new CondOtSchedule();
        var data = GaussianDenoiser.Isotropic([1.0], 0.5);
        var fine = EntropyProduction.Integrate(schedule, data, endCutoff: 1e-9);
        var coarse = EntropyProduction.Integrate(schedule, data, endCutoff: 1e-6);
        Assert.True(fine.DivergesAtStart);
        Assert.Equal(1e-9 * schedule.MaxTime, fine.LowerTime, 1e-20);
        // Sdot ~ K0 / (T'(0) t) near 0 with K0 = mu0^2 + s0^2 = 1.25 and T'(0) = 1: the difference is K0 ln(1000).
        Assert.Equal(1.25 * Math.Log(1000), fine.TotalEntropyProduction - coarse.TotalEntropyProduction, 0.01);
        Assert.Equal(fine.KineticCost, coarse.KineticCost, 1e-5);
        Assert.False(EntropyProduction.Integrate(new CosineSchedule(), data).DivergesAtStart);
    }

    [Fact]
    public void KineticCostIntegratesTheClosedForm()
    {
        var schedule = new CosineSchedule(2.0);
        var data = GaussianDenoiser.Isotropic([2.0], 0.5);
        var r = EntropyProduction.Integrate(schedule, data);
        // Independent fine midpoint rule on the closed form.
        int n = 200000;
        double a = r.LowerTime, b = r.UpperTime, h = (b - a) / n, sum = 0;
        for (int i = 0; i < n; i++) sum += GaussianKinetic(schedule, a + (i + 0.5) * h, 4.0, 0.5, 1) * h;
        Assert.Equal(sum, r.KineticCost, 1e-7);
        Assert.Equal(r.UpperTime - r.LowerTime, r.Weights.Sum(), 1e-12);
        Assert.All(r.Rates, rate => Assert.InRange(rate.Time, r.LowerTime, r.UpperTime));
    }

    private sealed class PlainDenoiser(IDenoiser inner) : IDenoiser
    {
        public int Dimension => inner.Dimension;

        public void Denoise(ReadOnlySpan<double> x, double m, double sigma, Span<double> x0) => inner.Denoise(x, m, sigma, x0);
    }

    private static (double[] Y, double[] Eps) Pairs(GaussianDenoiser data, int n, int seed)
    {
        var random = new Random(seed);
        var y = new double[n * data.Dimension];
        var eps = new double[y.Length];
        data.SampleData(random, y);
        MLExtensions.Diffusion.Randomness.StandardNormal.Fill(random, eps);
        return (y, eps);
    }

    [Theory]
    [InlineData("vp-linear")]
    [InlineData("gaussian-ot")]
    [InlineData("cond-ot")]
    [InlineData("cosine")]
    public void MonteCarloRateAtZeroIsTheLimitAndMatchesTheClosedForm(string name)
    {
        // At t = 0 (sigma = 0): nu_0(y) = mdot_0 y - T_0 grad ln q(y); for N(mu0, s0^2 I) the kinetic energy is
        // mdot_0^2 |mu0|^2 + d ((mdot_0 s0^2 + T_0) / s0)^2 (SPEC section 8 at t = 0, T_0 = lim sigma sigmadot).
        var schedule = MakeSchedule(name);
        double[] mu0 = [1.0, -0.5, 0.25];
        double s0 = 0.5, mu0Squared = mu0.Sum(v => v * v);
        var data = GaussianDenoiser.Isotropic(mu0, s0);
        var (y, eps) = Pairs(data, 20000, 11);
        var r0 = EntropyProduction.MonteCarloRate(schedule, data, y, eps, 0);
        double md = schedule.MDot(0), t0 = schedule.Temperature(0);
        double expected = md * md * mu0Squared + 3 * Math.Pow((md * s0 * s0 + t0) / s0, 2);
        Assert.True(double.IsFinite(r0.KineticEnergy));
        if (expected == 0) Assert.Equal(0.0, r0.KineticEnergy);
        else Assert.True(Math.Abs(r0.KineticEnergy - expected) < 4 * r0.KineticEnergyStandardError,
            $"{name}: MC {r0.KineticEnergy} +- {r0.KineticEnergyStandardError} vs closed form {expected}");
        // Sample by sample the rate at t = 0 is the limit of the rate at t -> 0 with the same pairs.
        var rSmall = EntropyProduction.MonteCarloRate(schedule, data, y, eps, 1e-10 * schedule.MaxTime);
        Assert.Equal(rSmall.KineticEnergy, r0.KineticEnergy, 1e-3 * r0.KineticEnergy + 1e-8);
        if (t0 > 0)
        {
            Assert.Equal(rSmall.SystemRate, r0.SystemRate, 1e-3 * Math.Abs(r0.SystemRate) + 1e-8);
            Assert.Equal(r0.Rate, r0.SystemRate + r0.BathRate, 1e-9 * Math.Abs(r0.Rate));
        }
        // The sampling overloads accept t = 0 too.
        Assert.Equal(r0.Temperature, EntropyProduction.MonteCarloRate(schedule, data, 0, 100, new Random(1)).Temperature);
    }

    [Fact]
    public void MonteCarloRateWithAPlainDenoiserAtZeroNeedsNoScoreOnlyWhereTheTemperatureVanishes()
    {
        double[] mu0 = [0.5, -1.0];
        var data = GaussianDenoiser.Isotropic(mu0, 0.8);
        var plain = new PlainDenoiser(data);
        var (y, eps) = Pairs(data, 5000, 3);
        // cond-OT: T_0 = 0, nu_0 = mdot_0 y exactly (mdot = -1/tau), and the system part is d mdot_0.
        var condOt = new CondOtSchedule(2.0);
        var r = EntropyProduction.MonteCarloRate(condOt, plain, y, eps, 0);
        double meanSquare = 0;
        for (int i = 0; i < y.Length; i++) meanSquare += y[i] * y[i];
        meanSquare /= 5000;
        Assert.Equal(0.25 * meanSquare, r.KineticEnergy, 1e-12 * meanSquare);
        Assert.Equal(2 * condOt.MDot(0), r.SystemRate, 1e-15);
        Assert.Equal(double.PositiveInfinity, r.Rate);
        // VP-linear: T_0 = beta(0) / 2 > 0 needs grad ln q, which a plain denoiser cannot give at sigma = 0.
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => EntropyProduction.MonteCarloRate(new VpLinearSchedule(), plain, y, eps, 0)).ParamName);
    }

    [Fact]
    public void MonteCarloRateIsReproducibleWithASeedAndExactOverFixedPairs()
    {
        var schedule = new VpLinearSchedule();
        double[] mu0 = [1.0, 2.0];
        double s0 = 0.6;
        var data = GaussianDenoiser.Isotropic(mu0, s0);
        var a = EntropyProduction.MonteCarloRate(schedule, data, 0.3, 500, seed: 42);
        var b = EntropyProduction.MonteCarloRate(schedule, data, 0.3, 500, seed: 42);
        var c = EntropyProduction.MonteCarloRate(schedule, data, 0.3, 500, seed: 43);
        Assert.Equal(a, b);
        Assert.NotEqual(a.KineticEnergy, c.KineticEnergy);
        var rows = new double[2 * 1000];
        data.SampleData(new Random(9), rows);
        Assert.Equal(EntropyProduction.MonteCarloRate(schedule, data, rows, 0.3, 500, seed: 5), EntropyProduction.MonteCarloRate(schedule, data, rows, 0.3, 500, seed: 5));
        // Fixed pairs: the mean of |nu(x_i)|^2 with nu = mdot mu0 + (Sdot / S)(x - m mu0) (SPEC section 8), pair by pair.
        var (y, eps) = Pairs(data, 300, 4);
        double t = 0.45, m = schedule.M(t), sigma = schedule.Sigma(t), md = schedule.MDot(t), sd = schedule.SigmaDot(t);
        double std = Math.Sqrt(m * m * s0 * s0 + sigma * sigma), stdDot = (m * md * s0 * s0 + sigma * sd) / std;
        double expected = 0;
        for (int i = 0; i < 300; i++)
        {
            for (int j = 0; j < 2; j++)
            {
                double x = m * y[2 * i + j] + sigma * eps[2 * i + j];
                double nu = md * mu0[j] + stdDot / std * (x - m * mu0[j]);
                expected += nu * nu / 300;
            }
        }
        var fixedPairs = EntropyProduction.MonteCarloRate(schedule, data, y, eps, t);
        Assert.Equal(300, fixedPairs.Samples);
        Assert.Equal(expected, fixedPairs.KineticEnergy, 1e-10 * expected);
        Assert.Equal("noise", Assert.Throws<ArgumentException>(() => EntropyProduction.MonteCarloRate(schedule, data, y, eps.AsSpan(1), t)).ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentException>(() => EntropyProduction.MonteCarloRate(schedule, data, y.AsSpan(0, 2), eps.AsSpan(0, 2), t)).ParamName);
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => EntropyProduction.MonteCarloRate(schedule, data, y, eps, -1e-3)).ParamName);
    }

    [Fact]
    public void InvalidInputsNameTheArgument()
    {
        var schedule = new CosineSchedule();
        var data = GaussianDenoiser.Isotropic([0.0], 1.0);
        var data2 = GaussianDenoiser.Isotropic([0.0, 0.0], 1.0);
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => EntropyProduction.Rate(schedule, data, double.NaN)).ParamName);
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => EntropyProduction.Rate(schedule, data, 0)).ParamName);
        Assert.Equal("density", Assert.Throws<ArgumentException>(() => EntropyProduction.Rate(schedule, data2, 0.5)).ParamName);
        Assert.Equal("tEnd", Assert.Throws<ArgumentOutOfRangeException>(() => EntropyProduction.Integrate(schedule, data, 0.5, 0.5)).ParamName);
        Assert.Equal("tStart", Assert.Throws<ArgumentOutOfRangeException>(() => EntropyProduction.Integrate(schedule, data, double.NaN)).ParamName);
        Assert.Equal("endCutoff", Assert.Throws<ArgumentOutOfRangeException>(() => EntropyProduction.Integrate(schedule, data, endCutoff: 0)).ParamName);
        Assert.Equal("samples", Assert.Throws<ArgumentOutOfRangeException>(() => EntropyProduction.MonteCarloRate(schedule, data, 0.5, 1, new Random(1))).ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentException>(() => EntropyProduction.MonteCarloRate(schedule, data2, [], 0.5, 10, new Random(1))).ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentException>(() => EntropyProduction.MonteCarloRate(schedule, data2, [1.0, double.NaN], 0.5, 10, new Random(1))).ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentException>(() => EntropyProduction.MonteCarloRate(schedule, data2, [1.0, 2.0, 3.0], 0.5, 10, new Random(1))).ParamName);
        Assert.Throws<ArgumentNullException>(() => EntropyProduction.Rate(null!, data, 0.5));
        Assert.Throws<ArgumentNullException>(() => EntropyProduction.MonteCarloRate(schedule, data, 0.5, 10, null!));
    }
}
