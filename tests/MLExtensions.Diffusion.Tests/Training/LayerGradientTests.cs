using MLExtensions.Diffusion.Training;

namespace MLExtensions.Diffusion.Tests.Training;

/// <summary>Analytic backward passes against central finite differences of J = sum r_i y_i.</summary>
public class LayerGradientTests
{
    private const int Rows = 5;

    private static float[] Uniform(Random rng, int n, double scale = 1)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(scale * (2 * rng.NextDouble() - 1));
        return a;
    }

    private static double Objective(Layer layer, float[] x, float[] r)
    {
        var y = new float[Rows * layer.OutputSize];
        layer.Forward(x, y, Rows);
        double s = 0;
        for (int i = 0; i < y.Length; i++) s += (double)r[i] * y[i];
        return s;
    }

    /// <summary>Checks parameter and input gradients along random directions and on single coordinates.</summary>
    private static void Check(Layer layer, int seed, double inputScale = 1)
    {
        var rng = new Random(seed);
        var p = new float[layer.ParameterCount];
        var g = new float[layer.ParameterCount];
        layer.Bind(p, g, 0);
        layer.Initialize(rng);
        // Perturb so biases, gammas etc. are generic.
        for (int i = 0; i < p.Length; i++) p[i] += (float)(0.2 * (2 * rng.NextDouble() - 1));
        var x = Uniform(rng, Rows * layer.InputSize, inputScale);
        var r = Uniform(rng, Rows * layer.OutputSize);
        var y = new float[Rows * layer.OutputSize];
        layer.Forward(x, y, Rows);
        var dx = new float[x.Length];
        Array.Fill(g, 0f);
        layer.Backward(x, y, r, dx, Rows);
        const float h = 1e-3f;

        // Input gradient: directional and per coordinate.
        var u = Uniform(rng, x.Length);
        double analytic = 0;
        for (int i = 0; i < x.Length; i++) analytic += (double)dx[i] * u[i];
        double numeric = Directional(layer, x, r, u, h, perturbInput: true, p);
        AssertClose(analytic, numeric, "input direction");
        for (int i = 0; i < x.Length; i += Math.Max(1, x.Length / 7))
        {
            float old = x[i];
            x[i] = old + h; double jp = Objective(layer, x, r);
            x[i] = old - h; double jm = Objective(layer, x, r);
            x[i] = old;
            AssertClose(dx[i], (jp - jm) / (2 * h), $"input {i}");
        }

        if (p.Length == 0) return;
        var v = Uniform(rng, p.Length);
        analytic = 0;
        for (int i = 0; i < p.Length; i++) analytic += (double)g[i] * v[i];
        numeric = Directional(layer, x, r, v, h, perturbInput: false, p);
        AssertClose(analytic, numeric, "parameter direction");
        for (int i = 0; i < p.Length; i += Math.Max(1, p.Length / 11))
        {
            float old = p[i];
            p[i] = old + h; double jp = Objective(layer, x, r);
            p[i] = old - h; double jm = Objective(layer, x, r);
            p[i] = old;
            AssertClose(g[i], (jp - jm) / (2 * h), $"parameter {i}");
        }
    }

    private static double Directional(Layer layer, float[] x, float[] r, float[] dir, float h, bool perturbInput, float[] p)
    {
        var target = perturbInput ? x : p;
        var saved = (float[])target.Clone();
        for (int i = 0; i < target.Length; i++) target[i] = saved[i] + h * dir[i];
        double jp = Objective(layer, x, r);
        for (int i = 0; i < target.Length; i++) target[i] = saved[i] - h * dir[i];
        double jm = Objective(layer, x, r);
        saved.CopyTo(target, 0);
        return (jp - jm) / (2 * h);
    }

    /// <summary>Asserts |a - n| &lt;= 1e-2 max(|a|, |n|) + 2e-3 and returns the relative difference.</summary>
    internal static double AssertClose(double analytic, double numeric, string what)
    {
        double scale = Math.Max(Math.Abs(analytic), Math.Abs(numeric));
        double tol = 1e-2 * scale + 2e-3;
        Assert.True(Math.Abs(analytic - numeric) <= tol, $"{what}: analytic {analytic} vs numeric {numeric}");
        return Math.Abs(analytic - numeric) / Math.Max(scale, 1e-12);
    }

    [Fact] public void LinearWithoutActivation() => Check(new Linear(7, 5, Activation.None, threads: 1), 1);

    [Fact] public void LinearWithFusedSiLU() => Check(new Linear(9, 13, Activation.SiLU), 2);

    [Fact] public void LinearLargeEnoughToUseSeveralThreads() => Check(new Linear(70, 90, Activation.SiLU, threads: 2), 3, 0.3);

    [Fact] public void SiLULayer() => Check(new SiLU(6), 4, 3);

    [Fact] public void LayerNormLayer() => Check(new LayerNorm(8), 5, 2);

    [Fact] public void ResidualBlockPlain() => Check(new ResidualBlock(6, 10, layerNorm: false), 6);

    [Fact] public void ResidualBlockWithLayerNorm() => Check(new ResidualBlock(6, 10, layerNorm: true), 7);

    [Fact] public void TimeEmbedding() => Check(new SinusoidalTimeEmbedding(4, 0.5f, 8f), 8, 0.5);

    [Fact]
    public void SiLUMatchesDefinition()
    {
        var layer = new SiLU(3);
        var x = new float[] { -2f, 0f, 3f };
        var y = new float[3];
        layer.Forward(x, y, 1);
        for (int i = 0; i < 3; i++) Assert.Equal(x[i] / (1 + Math.Exp(-x[i])), y[i], 5);
    }

    [Fact]
    public void LayerNormOutputHasZeroMeanUnitVarianceAtInitialisation()
    {
        var layer = new LayerNorm(16);
        layer.Bind(new float[32], new float[32], 0);
        layer.Initialize(new Random(1));
        var x = Uniform(new Random(2), 16, 5);
        var y = new float[16];
        layer.Forward(x, y, 1);
        Assert.Equal(0, y.Average(), 5);
        Assert.Equal(1, y.Select(v => (double)v * v).Average(), 3);
    }
}
