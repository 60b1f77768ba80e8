using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using static MLExtensions.Diffusion.Tests.Samplers.GaussianFlowReference;

namespace MLExtensions.Diffusion.Tests.Samplers;

public class DpmSolverPlusPlus2MTests
{
    [Fact]
    public void FirstStepIsDdim()
    {
        var schedule = new CosineSchedule();
        var a = StartRows(schedule, 0.8);
        var b = (double[])a.Clone();
        new DpmSolverPlusPlus2M().Sample(Denoiser(), schedule, new[] { 0.8, 0.5 }, a);
        new DdimSampler().Sample(Denoiser(), schedule, new[] { 0.8, 0.5 }, b);
        for (int i = 0; i < a.Length; i++) Assert.Equal(b[i], a[i], 12);
    }

    /// <summary>The second step, recomputed here from SPEC section 5 with the schedule's closed forms.</summary>
    [Fact]
    public void SecondStepFollowsTheMultistepFormula()
    {
        var c = new CosineSchedule();
        var d = Denoiser();
        double[] t = { 0.8, 0.5, 0.3 };
        var x = StartRows(c, t[0]);
        var x0a = new double[x.Length];
        var x0b = new double[x.Length];
        d.Denoise(x, c.M(t[0]), c.Sigma(t[0]), x0a);
        double Lambda(double u) => Math.Log(c.M(u) / c.Sigma(u));
        var x1 = new double[x.Length];
        double h1 = Lambda(t[1]) - Lambda(t[0]);
        for (int i = 0; i < x.Length; i++) x1[i] = c.Sigma(t[1]) / c.Sigma(t[0]) * x[i] - c.M(t[1]) * (Math.Exp(-h1) - 1) * x0a[i];
        d.Denoise(x1, c.M(t[1]), c.Sigma(t[1]), x0b);
        double h2 = Lambda(t[2]) - Lambda(t[1]), r = h1 / h2;
        var expected = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double dd = (1 + 1 / (2 * r)) * x0b[i] - 1 / (2 * r) * x0a[i];
            expected[i] = c.Sigma(t[2]) / c.Sigma(t[1]) * x1[i] - c.M(t[2]) * (Math.Exp(-h2) - 1) * dd;
        }
        new DpmSolverPlusPlus2M().Sample(d, c, t, x);
        for (int i = 0; i < x.Length; i++) Assert.Equal(expected[i], x[i], 12);
    }

    [Fact]
    public void FinalStepToSigmaZeroReturnsMTimesX0Hat()
    {
        var c = new CosineSchedule();
        var d = Denoiser();
        var x = StartRows(c, 0.8);
        var probe = new double[x.Length];
        new DpmSolverPlusPlus2M().Sample(d, c, new[] { 0.8, 0.4 }, x);
        d.Denoise(x, c.M(0.4), c.Sigma(0.4), probe);
        var y = StartRows(c, 0.8);
        new DpmSolverPlusPlus2M().Sample(d, c, new[] { 0.8, 0.4, 0.0 }, y);
        for (int i = 0; i < x.Length; i++) Assert.Equal(probe[i], y[i], 12);
    }
}
