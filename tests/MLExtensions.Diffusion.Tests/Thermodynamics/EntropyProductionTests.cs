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
