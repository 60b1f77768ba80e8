using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

public class ProbabilityFlowTests
{
    private const double Mu0 = 2.0, S0 = 0.5;

    /// <summary>The exact flow map of a Gaussian path: x_b = m_b mu0 + (S_b / S_a)(x_a - m_a mu0).</summary>
    private static double ExactMap(NoiseSchedule s, double x, double a, double b)
    {
        double Std(double t) => Math.Sqrt(s.M(t) * s.M(t) * S0 * S0 + s.Sigma(t) * s.Sigma(t));
        return s.M(b) * Mu0 + Std(b) / Std(a) * (x - s.M(a) * Mu0);
    }

    private static double MaxError(NoiseSchedule schedule, FlowIntegrator method, int steps, double from, double to, out int nfe)
    {
        var field = new ScheduleVelocityField(schedule, GaussianDenoiser.Isotropic([Mu0], S0));
        double[] start = [-1.0, 0.3, 1.7, 2.5, 4.0];
        var x = (double[])start.Clone();
        var times = Enumerable.Range(0, steps + 1).Select(i => from + (to - from) * i / steps).ToArray();
        nfe = ProbabilityFlow.Integrate(field, x, times, method);
        double err = 0;
        for (int i = 0; i < start.Length; i++) err = Math.Max(err, Math.Abs(x[i] - ExactMap(schedule, start[i], from, to)));
        return err;
    }

    [Theory]
    [InlineData(0.9, 0.1)]
    [InlineData(0.1, 0.9)]
    public void HeunIsSecondOrderAndEulerFirstOrderOnTheExactGaussianFlow(double from, double to)
    {
        var schedule = new CosineSchedule();
        double h1 = MaxError(schedule, FlowIntegrator.Heun, 20, from, to, out int nfeHeun);
        double h2 = MaxError(schedule, FlowIntegrator.Heun, 40, from, to, out _);
        double e1 = MaxError(schedule, FlowIntegrator.Euler, 20, from, to, out int nfeEuler);
        double e2 = MaxError(schedule, FlowIntegrator.Euler, 40, from, to, out _);
        Assert.Equal(40, nfeHeun);
        Assert.Equal(20, nfeEuler);
        Assert.InRange(h1 / h2, 3.5, 4.5);
        Assert.InRange(e1 / e2, 1.8, 2.2);
        Assert.True(h2 < 5e-3, $"Heun error {h2}");
    }

    [Fact]
    public void StepEndingAtZeroSkipsTheCorrection()
    {
        var schedule = new VpLinearSchedule();
        var field = new ScheduleVelocityField(schedule, GaussianDenoiser.Isotropic([Mu0], S0));
        var x = new double[] { 0.5, -0.5 };
        int nfe = ProbabilityFlow.Integrate(field, x, [0.5, 0.25, 0.0]);
        Assert.Equal(3, nfe);
        Assert.All(x, v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void InvalidInputsNameTheArgument()
    {
        var field = new ScheduleVelocityField(new CosineSchedule(), GaussianDenoiser.Isotropic([0.0, 0.0], 1.0));
        var x = new double[4];
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => ProbabilityFlow.Integrate(field, new double[3], [0.5, 0.2])).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => ProbabilityFlow.Integrate(field, Array.Empty<double>(), [0.5, 0.2])).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => ProbabilityFlow.Integrate(field, new[] { 0.0, double.NaN }, [0.5, 0.2])).ParamName);
        Assert.Equal("times", Assert.Throws<ArgumentException>(() => ProbabilityFlow.Integrate(field, x, [0.5])).ParamName);
        Assert.Equal("times", Assert.Throws<ArgumentException>(() => ProbabilityFlow.Integrate(field, x, [0.5, 0.2, 0.3])).ParamName);
        Assert.Equal("times", Assert.Throws<ArgumentException>(() => ProbabilityFlow.Integrate(field, x, [0.5, 0.5])).ParamName);
        Assert.Equal("times", Assert.Throws<ArgumentException>(() => ProbabilityFlow.Integrate(field, x, [0.5, double.NaN])).ParamName);
        Assert.Equal("times", Assert.Throws<ArgumentException>(() => ProbabilityFlow.Integrate(field, x, [1.5, 0.5])).ParamName);
        Assert.Equal("method", Assert.Throws<ArgumentOutOfRangeException>(() => ProbabilityFlow.Integrate(field, x, [0.5, 0.2], (FlowIntegrator)7)).ParamName);
        Assert.Throws<ArgumentNullException>(() => ProbabilityFlow.Integrate(null!, x, [0.5, 0.2]));
    }
}
