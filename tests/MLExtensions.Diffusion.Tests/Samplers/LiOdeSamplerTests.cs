using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using static MLExtensions.Diffusion.Tests.Samplers.LiChainReference;

namespace MLExtensions.Diffusion.Tests.Samplers;

public class LiOdeSamplerTests
{
    /// <summary>With the exact score the sampler is linear: Y_0 / Y_T must equal sqrt(w_0 / w_T) for the SPEC recursion
    /// w_{t-1} = w_t (1 - (1 - alpha_t)/(2 v_t))^2 / alpha_t.</summary>
    [Theory]
    [InlineData(0.5)]
    [InlineData(2.0)]
    public void MapsLinearlyWithTheSpecVarianceRecursion(double s0)
    {
        foreach (var chain in new[] { DiscreteBetaSchedule.LiEtAl(100, 2, 4), DiscreteBetaSchedule.DdpmLinear(300) })
        {
            double wT = V(chain, chain.Steps, s0), w = wT;
            for (int t = chain.Steps; t >= 1; t--)
            {
                double alpha = chain.Alpha(t), g = 1 - (1 - alpha) / (2 * V(chain, t, s0));
                w = w * g * g / alpha;
            }
            double factor = Factor(new LiOdeSampler(), chain, s0);
            Assert.Equal(Math.Sqrt(w / wT), factor, 1e-12 * Math.Sqrt(w / wT));
        }
    }
}
