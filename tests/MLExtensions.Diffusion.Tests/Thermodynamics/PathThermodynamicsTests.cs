using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

/// <summary>
/// <see cref="PathThermodynamics"/> against closed forms: Gaussian data N(mu, s^2 I) on the VE path (m = 1, sigma = t,
/// T_t = t). The probability flow is linear, x_t - mu = (x_T - mu) sqrt((s^2 + t^2) / (s^2 + T^2)), with
/// nu = t (x - mu) / (s^2 + t^2), so with c = |x_T - mu|^2 / (s^2 + T^2):
/// A = c (T - s atan(T / s)) and S = (c / 2) ln((s^2 + T^2) / s^2).
/// </summary>
public class PathThermodynamicsTests
{
    [Fact]
    public void GaussianDataOnTheVePath_MatchesTheClosedFormActionAndEntropy()
    {
        const int d = 3, rows = 5, steps = 2000;
        const double s = 0.7, top = 5.0;
        double[] mu = [0.5, -1.0, 2.0];
        var denoiser = GaussianDenoiser.Isotropic(mu, s);
        var schedule = new VeSchedule(top);
        var times = Enumerable.Range(0, steps + 1).Select(i => top * (1 - (double)i / steps)).ToArray();
        times[^1] = 0;
        var x = StandardNormal.Sample(new Random(1), rows * d).Select(v => v * Math.Sqrt(s * s + top * top)).ToArray();
        for (int i = 0; i < x.Length; i++) x[i] += mu[i % d];
        var start = x.ToArray();
        var action = new double[rows];
        var entropy = new double[rows];

        var result = PathThermodynamics.IntegrateHeun(denoiser, schedule, times, x, action, entropy);

        Assert.Equal(2 * steps - 1, result.Nfe);
        double shrink = s / Math.Sqrt(s * s + top * top);
        for (int r = 0; r < rows; r++)
        {
            double c = 0;
            for (int j = 0; j < d; j++) c += Math.Pow(start[r * d + j] - mu[j], 2);
            c /= s * s + top * top;
            double a = c * (top - s * Math.Atan(top / s)), e = 0.5 * c * Math.Log((s * s + top * top) / (s * s));
            Assert.True(Math.Abs(action[r] - a) <= 1e-5 * a, $"row {r}: action {action[r]}, closed form {a}");
            Assert.True(Math.Abs(entropy[r] - e) <= 2e-5 * e, $"row {r}: entropy {entropy[r]}, closed form {e}");
            for (int j = 0; j < d; j++)
                Assert.Equal(mu[j] + shrink * (start[r * d + j] - mu[j]), x[r * d + j], 2e-5);
        }
    }

    [Fact]
    public void EndsWhereHeunSamplerEnds_OnTheSameGrid()
    {
        double[] mu = [1.0, -0.5];
        var denoiser = GaussianDenoiser.Isotropic(mu, 0.3);
        var schedule = new CosineSchedule();
        var times = TimeGrid.EdmRho(schedule, 8, 0.002, schedule.Sigma(schedule.MaxTime) / schedule.M(schedule.MaxTime));
        var x = StandardNormal.Sample(new Random(2), 12);
        var y = x.ToArray();
        var heun = new HeunSampler().Sample(denoiser, schedule, times, y);
        var own = PathThermodynamics.IntegrateHeun(denoiser, schedule, times, x, new double[6], new double[6]);
        Assert.Equal(heun, own);
        Assert.Equal(y, x);
    }

    [Fact]
    public void MisSizedAccumulators_AreRejected()
    {
        var denoiser = GaussianDenoiser.Isotropic([0.0, 0.0], 1);
        var schedule = new VeSchedule(2);
        double[] times = [2, 1, 0];
        Assert.Equal("kineticAction", Assert.Throws<ArgumentException>(() =>
            PathThermodynamics.IntegrateHeun(denoiser, schedule, times, new double[4], new double[3], new double[2])).ParamName);
        Assert.Equal("entropyProduced", Assert.Throws<ArgumentException>(() =>
            PathThermodynamics.IntegrateHeun(denoiser, schedule, times, new double[4], new double[2], new double[1])).ParamName);
    }
}
