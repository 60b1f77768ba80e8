using MLExtensions.Diffusion.Training;

namespace MLExtensions.Diffusion.Tests.Training;

public class OptimisationTests
{
    [Fact]
    public void AdamWMatchesTheUpdateRuleWrittenOutInDouble()
    {
        var p = new float[] { 0.5f, -1f, 2f, 0.1f, 3f, -2f, 1f, 0f, 0.7f, -0.3f, 0.25f };
        var q = p.Select(v => (double)v).ToArray();
        var m = new double[p.Length];
        var v = new double[p.Length];
        var adam = new AdamW(p.Length, 0.9, 0.99, 1e-8, weightDecay: 0.1);
        var rng = new Random(1);
        for (int t = 1; t <= 5; t++)
        {
            var g = Enumerable.Range(0, p.Length).Select(_ => (float)(2 * rng.NextDouble() - 1)).ToArray();
            adam.Step(p, g, 0.01);
            for (int i = 0; i < q.Length; i++)
            {
                m[i] = 0.9 * m[i] + 0.1 * g[i];
                v[i] = 0.99 * v[i] + 0.01 * g[i] * g[i];
                double mh = m[i] / (1 - Math.Pow(0.9, t)), vh = v[i] / (1 - Math.Pow(0.99, t));
                q[i] = q[i] - 0.01 * (mh / (Math.Sqrt(vh) + 1e-8) + 0.1 * q[i]);
            }
        }
        for (int i = 0; i < q.Length; i++) Assert.Equal(q[i], p[i], 4);
    }

    [Fact]
    public void AdamWMinimisesAQuadratic()
    {
        var p = new float[] { 3f, -4f };
        var adam = new AdamW(2);
        for (int t = 0; t < 2000; t++) adam.Step(p, new[] { 2 * p[0], 2 * p[1] }, 0.01);
        Assert.True(Math.Abs(p[0]) < 1e-2 && Math.Abs(p[1]) < 1e-2);
    }

    [Fact]
    public void LearningRateWarmsUpLinearlyThenDecaysByCosine()
    {
        var s = new LearningRateSchedule(1.0, totalSteps: 110, warmupSteps: 10, finalFraction: 0.1);
        Assert.Equal(0.1, s.At(0), 12);
        Assert.Equal(1.0, s.At(9), 12);
        Assert.Equal(1.0, s.At(10), 12);
        Assert.Equal(0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * 0.5)), s.At(60), 12);
        Assert.Equal(0.1, s.At(110), 12);
        Assert.Equal(0.1, s.At(500), 12);
    }

    [Fact]
    public void ClippingScalesToTheMaximumNormAndLeavesSmallGradients()
    {
        var g = new float[] { 3, 4 };
        Assert.Equal(5, GradientClipping.ClipGlobalNorm(g, 1.0), 5);
        Assert.Equal(0.6f, g[0], 5);
        Assert.Equal(0.8f, g[1], 5);
        var h = new float[] { 0.3f, 0.4f };
        GradientClipping.ClipGlobalNorm(h, 1.0);
        Assert.Equal(new[] { 0.3f, 0.4f }, h);
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipGlobalNorm(h, 0));
    }

    [Fact]
    public void EmaFollowsTheWarmupDecayRecursion()
    {
        var ema = new ExponentialMovingAverage(new float[] { 0f }, decay: 0.9);
        double expected = 0;
        for (int t = 0; t < 30; t++)
        {
            ema.Update(new float[] { 1f });
            double d = Math.Min(0.9, (1.0 + t) / (10.0 + t));
            expected = d * expected + (1 - d);
            Assert.Equal(expected, ema.Average[0], 5);
        }
    }

    [Fact]
    public void StandardizerLearnsMomentsAndInverts()
    {
        var rng = new Random(2);
        int rows = 5000;
        var data = new float[rows * 2];
        for (int r = 0; r < rows; r++) { data[2 * r] = (float)(3 + 2 * (rng.NextDouble() - 0.5)); data[2 * r + 1] = (float)(-1 + 6 * (rng.NextDouble() - 0.5)); }
        var s = Standardizer.Fit(data, 2, isotropic: false);
        var z = new float[data.Length];
        s.Transform(data, z);
        for (int j = 0; j < 2; j++)
        {
            var col = Enumerable.Range(0, rows).Select(r => (double)z[2 * r + j]).ToArray();
            Assert.Equal(0, col.Average(), 4);
            Assert.Equal(1, col.Select(v => v * v).Average(), 4);
        }
        var back = new float[data.Length];
        s.Inverse(z, back);
        for (int i = 0; i < data.Length; i++) Assert.Equal(data[i], back[i], 4);
        var iso = Standardizer.Fit(data, 2, isotropic: true);
        Assert.True(iso.IsIsotropic);
        Assert.Equal(Math.Sqrt((s.Scale[0] * s.Scale[0] + s.Scale[1] * s.Scale[1]) / 2), iso.Scale[0], 10);
        Assert.Throws<ArgumentException>(() => Standardizer.Fit(new float[] { 1, float.NaN }, 2, false));
    }
}
