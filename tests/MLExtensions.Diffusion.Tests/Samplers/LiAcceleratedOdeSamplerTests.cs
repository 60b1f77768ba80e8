using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using Xunit.Abstractions;
using static MLExtensions.Diffusion.Tests.Samplers.LiChainReference;

namespace MLExtensions.Diffusion.Tests.Samplers;

public class LiAcceleratedOdeSamplerTests(ITestOutputHelper output)
{
    /// <summary>The correction coefficient, recomputed literally from SPEC section 5 (with arcsin).</summary>
    [Fact]
    public void CorrectionMatchesTheSpecFormula()
    {
        var chain = DiscreteBetaSchedule.LiEtAl(100, 2, 4);
        foreach (int t in new[] { 1, 2, 10, 50, 99 })
        {
            double a0 = chain.AlphaBar(t - 1), a1 = chain.AlphaBar(t), a2 = chain.AlphaBar(t + 1);
            double spec = Math.Sqrt(a0) / (a1 - a2) * (a1 * Math.Sqrt(1 - a0) / Math.Sqrt(a0) + Math.Asin(Math.Sqrt(a0))
                - a1 * Math.Sqrt(1 - a1) / Math.Sqrt(a1) - Math.Asin(Math.Sqrt(a1)));
            Assert.Equal(spec, LiAcceleratedOdeSampler.Correction(chain, t), 1e-9 * Math.Max(1, Math.Abs(spec)));
        }
    }

    /// <summary>
    /// With the exact score both ODE samplers are linear maps Y_0 = r Y_T; the exact probability-flow map of N(0, s0^2)
    /// data has r = s0 / sqrt(v_T). On Li et al.'s schedule (c0 = 2, c1 = 4) the plain sampler's error falls like
    /// T^-0.75 and the accelerated one's like T^-1.6 over T = 50..800 (measured); assert it is far smaller and steeper.
    /// </summary>
    [Theory]
    [InlineData(0.5)]
    [InlineData(2.0)]
    public void IsMoreAccurateAndConvergesFasterThanThePlainOdeSampler(double s0)
    {
        int[] steps = { 50, 100, 200, 400, 800 };
        var plain = new (double, double)[steps.Length];
        var accelerated = new (double, double)[steps.Length];
        for (int k = 0; k < steps.Length; k++)
        {
            var chain = DiscreteBetaSchedule.LiEtAl(steps[k], 2, 4);
            double exact = s0 / Math.Sqrt(V(chain, chain.Steps, s0));
            plain[k] = (steps[k], Math.Abs(Factor(new LiOdeSampler(), chain, s0) / exact - 1));
            accelerated[k] = (steps[k], Math.Abs(Factor(new LiAcceleratedOdeSampler(), chain, s0) / exact - 1));
            Assert.True(accelerated[k].Item2 < 0.05 * plain[k].Item2);
        }
        double slopePlain = GaussianFlowReference.Slope(plain), slopeAccelerated = GaussianFlowReference.Slope(accelerated);
        output.WriteLine($"s0 = {s0}: plain {string.Join(", ", plain.Select(p => $"{p.Item2:E2}"))} slope {slopePlain:F2}; " +
                         $"accelerated {string.Join(", ", accelerated.Select(p => $"{p.Item2:E2}"))} slope {slopeAccelerated:F2}");
        Assert.InRange(slopePlain, -1.2, -0.5);
        Assert.InRange(slopeAccelerated, -2.3, -1.3);
    }
}
