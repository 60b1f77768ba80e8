using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using static MLExtensions.Diffusion.Tests.Samplers.GaussianFlowReference;

namespace MLExtensions.Diffusion.Tests.Samplers;

public class DdimSamplerTests
{
    /// <summary>On a VP path (abar = m^2) the general c reduces to the DDIM paper's
    /// eta sqrt((1 - abar_s)/(1 - abar_t)) sqrt(1 - abar_t / abar_s).</summary>
    [Theory]
    [InlineData(0.9, 0.6, 1.0)]
    [InlineData(0.5, 0.1, 0.3)]
    [InlineData(0.99, 0.98, 0.7)]
    public void NoiseScaleReducesToTheDdimPaperOnVp(double t, double s, double eta)
    {
        var c = new CosineSchedule();
        double at = c.M(t) * c.M(t), aS = c.M(s) * c.M(s);
        double paper = eta * Math.Sqrt((1 - aS) / (1 - at)) * Math.Sqrt(1 - at / aS);
        Assert.Equal(paper, DdimSampler.NoiseScale(eta, c.M(t), c.Sigma(t), c.M(s), c.Sigma(s)), 12);
    }

    /// <summary>eta = 1 draws from the posterior q(x_s | x_t, x0hat): the same update as DDPM ancestral with betatilde,
    /// consuming the same normals.</summary>
    [Fact]
    public void EtaOneMatchesDdpmAncestral()
    {
        var schedule = new CosineSchedule();
        var times = UniformGrid(0.99, 0, 20);
        var a = MarginalRows(schedule, 0.99, 100, new Random(1));
        var b = (double[])a.Clone();
        new DdimSampler(1).Sample(Denoiser(), schedule, times, a, new Random(9));
        new DdpmAncestralSampler().Sample(Denoiser(), schedule, times, b, new Random(9));
        for (int i = 0; i < a.Length; i++) Assert.Equal(b[i], a[i], 10);
    }

    [Fact]
    public void EtaZeroIsDeterministicWithoutRandom()
    {
        var schedule = new CosineSchedule();
        var a = StartRows(schedule, 0.9);
        var b = (double[])a.Clone();
        new DdimSampler().Sample(Denoiser(), schedule, UniformGrid(0.9, 0, 7), a);
        new DdimSampler().Sample(Denoiser(), schedule, UniformGrid(0.9, 0, 7), b, new Random(3));
        Assert.Equal(a, b);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void RejectsEtaOutsideUnitInterval(double eta) =>
        Assert.Equal("eta", Assert.Throws<ArgumentOutOfRangeException>(() => new DdimSampler(eta)).ParamName);
}
