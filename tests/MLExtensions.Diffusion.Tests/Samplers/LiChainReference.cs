using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Tests.Samplers;

/// <summary>
/// SPEC section 5's exact-score check for the Li et al. chain samplers: data N(0, s0^2) in one dimension, whose score at
/// step t is s_t(y) = -y / v_t with v_t = abar_t s0^2 + 1 - abar_t.
/// </summary>
internal static class LiChainReference
{
    public static GaussianDenoiser Denoiser(double s0) => GaussianDenoiser.Isotropic(new double[] { 0 }, s0);

    public static double V(DiscreteBetaSchedule chain, int t, double s0) => chain.AlphaBar(t) * s0 * s0 + 1 - chain.AlphaBar(t);

    public static double[] FullChain(DiscreteBetaSchedule chain) =>
        Enumerable.Range(0, chain.Steps + 1).Select(i => (double)(chain.Steps - i)).ToArray();

    /// <summary>Runs a deterministic linear sampler on the single point Y_T = 1 and returns Y_0 / Y_T.</summary>
    public static double Factor(ISampler sampler, DiscreteBetaSchedule chain, double s0)
    {
        var y = new[] { 1.0 };
        sampler.Sample(Denoiser(s0), chain, FullChain(chain), y);
        return y[0];
    }

    /// <summary>Runs a stochastic sampler on rows drawn from N(0, wT) and returns the sample variance of Y_0.</summary>
    public static double EmpiricalVariance(ISampler sampler, DiscreteBetaSchedule chain, double s0, double wT, int rows, int seed)
    {
        var y = Randomness.StandardNormal.Sample(new Random(seed), rows);
        double sd = Math.Sqrt(wT);
        for (int i = 0; i < rows; i++) y[i] *= sd;
        sampler.Sample(Denoiser(s0), chain, FullChain(chain), y, new Random(seed + 1));
        return GaussianFlowReference.Moments(y, 1, 0).Variance;
    }
}
