using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

public class GaussianKineticCostTests
{
    private static readonly double[] Mu = [1.0, -0.5, 0.25];
    private static readonly double[] Sigma = [1.5, 0.3, -0.2, 0.3, 0.8, 0.1, -0.2, 0.1, 0.4];

    private static double[,] ToMatrix(double[] rowMajor, int d)
    {
        var m = new double[d, d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) m[i, j] = rowMajor[i * d + j];
        return m;
    }

    [Theory]
    [InlineData(1.0, 0.5)]
    [InlineData(1.0, 1.7)]
    [InlineData(2.0, 0.5)]
    public void OnTheGaussianOtScheduleTheCostIsTheSquaredW2DistanceOverTau(double tau, double s0)
    {
        // Constant-speed W2 geodesic from N(mu, s0^2 I) to N(0, I): E|nu|^2 = W2^2 / tau^2 with
        // W2^2 = |mu|^2 + d (s0 - 1)^2, so c2 over [0, MaxTime] is W2^2 MaxTime / tau^2 (= W2^2 when tau = 1, up to the cut-off).
        var schedule = new GaussianOtSchedule(s0, tau);
        double[] cov = [s0 * s0, 0, 0, 0, s0 * s0, 0, 0, 0, s0 * s0];
        double w2Squared = Mu.Sum(v => v * v) + 3 * (s0 - 1) * (s0 - 1);
        Assert.Equal(w2Squared, GaussianWasserstein.W2Squared(Mu, cov, [0.0, 0.0, 0.0], [1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0], 3), 1e-12);
        double c2 = GaussianKineticCost.Compute(schedule, Mu, cov);
        double expected = w2Squared * schedule.MaxTime / (tau * tau);
        Assert.Equal(expected, c2, 1e-6 * expected);
        foreach (double u in new[] { 0.0, 0.3, 0.9 })
            Assert.Equal(w2Squared / (tau * tau), GaussianKineticCost.KineticEnergy(schedule, Mu, cov, u * schedule.MaxTime), 1e-9 * w2Squared);
        // Efficiency W2(q, P_t_end)^2 / (t_end c2) is 1 on the geodesic.
        double m = schedule.M(schedule.MaxTime), sigma = schedule.Sigma(schedule.MaxTime), v = m * m * s0 * s0 + sigma * sigma;
        double w2End = GaussianWasserstein.W2Squared(Mu, cov, Mu.Select(x => m * x).ToArray(), [v, 0, 0, 0, v, 0, 0, 0, v], 3);
        Assert.Equal(1.0, WassersteinSpeed.Efficiency(Math.Sqrt(w2End), schedule.MaxTime, c2), 1e-6);
    }

    [Theory]
    [InlineData("cosine")]
    [InlineData("vp-linear")]
    [InlineData("cond-ot")]
    [InlineData("ve")]
    public void KineticEnergyEqualsTheSquaredBuresSpeedAndEfficiencyIsBelowOne(string name)
    {
        NoiseSchedule schedule = name switch
        {
            "cosine" => new CosineSchedule(),
            "vp-linear" => new VpLinearSchedule(),
            "cond-ot" => new CondOtSchedule(),
            _ => new VeSchedule(5.0),
        };
        var data = GaussianDenoiser.Full(Mu, ToMatrix(Sigma, 3));
        // Independent: v2 from the Lyapunov solve of the Bures metric (the velocity is a gradient field, so E|nu|^2 = v2^2).
        foreach (double u in new[] { 0.01, 0.2, 0.5, 0.8, 1.0 })
        {
            double t = u * schedule.MaxTime;
            double v2 = WassersteinSpeed.Gaussian(schedule, data, t);
            Assert.Equal(v2 * v2, GaussianKineticCost.KineticEnergy(schedule, Mu, Sigma, t), 1e-9 * (1 + v2 * v2));
        }
        double c2 = GaussianKineticCost.Compute(schedule, Mu, Sigma);
        double m = schedule.M(schedule.MaxTime), sigma = schedule.Sigma(schedule.MaxTime);
        var end = Sigma.Select((c, k) => m * m * c + (k % 4 == 0 ? sigma * sigma : 0)).ToArray();
        double w2 = GaussianWasserstein.W2(Mu, Sigma, Mu.Select(x => m * x).ToArray(), end, 3);
        double efficiency = WassersteinSpeed.Efficiency(w2, schedule.MaxTime, c2);
        Assert.True(efficiency > 0 && efficiency < 1, $"{name}: efficiency {efficiency}");
    }

    [Fact]
    public void CostAgreesWithTheMonteCarloKineticCost()
    {
        var schedule = new VpLinearSchedule();
        var data = GaussianDenoiser.Full(Mu, ToMatrix(Sigma, 3));
        double c2 = GaussianKineticCost.Compute(schedule, Mu, Sigma);
        var mc = EntropyProduction.MonteCarloIntegrate(schedule, data, 4000, new Random(7));
        Assert.True(Math.Abs(mc.KineticCost - c2) < 4 * mc.KineticCostStandardError, $"exact {c2} vs MC {mc.KineticCost} +- {mc.KineticCostStandardError}");
        // Sub-interval: additivity of the integral.
        double a = GaussianKineticCost.Compute(schedule, Mu, Sigma, 0, 0.4), b = GaussianKineticCost.Compute(schedule, Mu, Sigma, 0.4);
        Assert.Equal(c2, a + b, 1e-8 * c2);
    }

    [Theory]
    [InlineData("cosine")]
    [InlineData("vp-linear")]
    [InlineData("cond-ot")]
    public void AgreesWithTheGaussianPathMetricsClosedForm_AWrittenApartDerivationInPolarCoordinates(string name)
    {
        // GaussianDataPathMetric writes the same energy as mdot^2 A + 2 mdot sigmadot B + sigmadot^2 C at phi = atan2(sigma, m).
        NoiseSchedule schedule = name switch { "cosine" => new CosineSchedule(), "vp-linear" => new VpLinearSchedule(), _ => new CondOtSchedule() };
        var metric = new GaussianDataPathMetric(Mu, Sigma);
        foreach (double u in new[] { 0.1, 0.35, 0.6, 0.9 })
        {
            double t = u * schedule.MaxTime;
            var g = metric.Coefficients(Math.Atan2(schedule.Sigma(t), schedule.M(t)));
            double expected = g.KineticEnergy(schedule.MDot(t), schedule.SigmaDot(t));
            Assert.Equal(expected, GaussianKineticCost.KineticEnergy(schedule, Mu, Sigma, t), 1e-9 * (1 + expected));
        }
        double c2 = GaussianKineticCost.Compute(schedule, Mu, Sigma);
        Assert.Equal(GaussianPathKineticCost.Compute(metric, schedule), c2, 1e-6 * c2);
    }

    [Fact]
    public void InvalidInputsNameTheArgument()
    {
        var schedule = new CosineSchedule();
        Assert.Equal("mean", Assert.Throws<ArgumentException>(() => GaussianKineticCost.Compute(schedule, [], [])).ParamName);
        Assert.Equal("mean", Assert.Throws<ArgumentException>(() => GaussianKineticCost.Compute(schedule, [double.NaN], [1.0])).ParamName);
        Assert.Equal("covariance", Assert.Throws<ArgumentException>(() => GaussianKineticCost.Compute(schedule, [0.0, 0.0], [1.0, 0.5, 0.0, 1.0])).ParamName);
        Assert.Equal("covariance", Assert.Throws<ArgumentException>(() => GaussianKineticCost.Compute(schedule, [0.0, 0.0], [1.0, 0.0, 0.0, 0.0])).ParamName);
        Assert.Equal("covariance", Assert.Throws<ArgumentException>(() => GaussianKineticCost.Compute(schedule, [0.0], [1.0, 0.0])).ParamName);
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => GaussianKineticCost.KineticEnergy(schedule, [0.0], [1.0], 1.5)).ParamName);
        Assert.Equal("tEnd", Assert.Throws<ArgumentOutOfRangeException>(() => GaussianKineticCost.Compute(schedule, [0.0], [1.0], 0.5, 0.5)).ParamName);
        Assert.Throws<ArgumentNullException>(() => GaussianKineticCost.Compute(null!, [0.0], [1.0]));
    }
}
