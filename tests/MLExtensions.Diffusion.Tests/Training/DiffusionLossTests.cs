using MLExtensions.Diffusion.Training;

namespace MLExtensions.Diffusion.Tests.Training;

public class DiffusionLossTests(Xunit.Abstractions.ITestOutputHelper output)
{
    public static TheoryData<Parametrisation, bool, bool, TimeConditioning> Cases() => new()
    {
        { Parametrisation.Edm, true, true, TimeConditioning.InputOnly },
        { Parametrisation.Edm, false, false, TimeConditioning.InputOnly },
        { Parametrisation.Edm, true, true, TimeConditioning.EveryLayer },
        { Parametrisation.Epsilon, true, false, TimeConditioning.InputOnly },
        { Parametrisation.Data, false, false, TimeConditioning.EveryLayer },
        { Parametrisation.Velocity, true, true, TimeConditioning.InputOnly },
        { Parametrisation.FlowVelocity, false, false, TimeConditioning.InputOnly },
    };

    /// <summary>Full network + loss: analytic parameter gradient vs central differences along random directions and coordinates.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void NetworkAndLossGradientMatchesFiniteDifferences(Parametrisation parametrisation, bool residual, bool layerNorm, TimeConditioning conditioning)
    {
        const int d = 3, rows = 6;
        var rng = new Random(11);
        var net = new TimeConditionedMlp(d, new MlpOptions { Width = 12, Depth = 3, Residual = residual, LayerNorm = layerNorm, EmbeddingFrequencies = 3, TimeConditioning = conditioning }, rng);
        var loss = new DiffusionLoss(parametrisation, sigmaData: 0.8);
        var y = new float[rows * d];
        var eps = new float[rows * d];
        var sigma = new float[rows];
        for (int i = 0; i < y.Length; i++) { y[i] = (float)(2 * rng.NextDouble() - 1); eps[i] = (float)(2 * rng.NextDouble() - 1); }
        for (int r = 0; r < rows; r++) sigma[r] = (float)Math.Exp(-2 + 3 * rng.NextDouble());
        net.ZeroGradients();
        loss.Step(net, y, eps, sigma);
        var g = (float[])net.Gradients.Clone();
        var p = net.Parameters;
        const float h = 1e-3f;
        for (int trial = 0; trial < 3; trial++)
        {
            var v = new float[p.Length];
            for (int i = 0; i < v.Length; i++) v[i] = (float)(2 * rng.NextDouble() - 1);
            var saved = (float[])p.Clone();
            for (int i = 0; i < p.Length; i++) p[i] = saved[i] + h * v[i];
            double lp = loss.Forward(net, y, eps, sigma);
            for (int i = 0; i < p.Length; i++) p[i] = saved[i] - h * v[i];
            double lm = loss.Forward(net, y, eps, sigma);
            saved.CopyTo(p, 0);
            double analytic = 0;
            for (int i = 0; i < p.Length; i++) analytic += (double)g[i] * v[i];
            double rel = LayerGradientTests.AssertClose(analytic, (lp - lm) / (2 * h), $"direction {trial}");
            output.WriteLine($"direction {trial}: analytic {analytic:G6} numeric {(lp - lm) / (2 * h):G6} relative difference {rel:E2}");
        }
        for (int i = 0; i < p.Length; i += 23)
        {
            float old = p[i];
            p[i] = old + 1e-2f; double lp = loss.Forward(net, y, eps, sigma);
            p[i] = old - 1e-2f; double lm = loss.Forward(net, y, eps, sigma);
            p[i] = old;
            LayerGradientTests.AssertClose(g[i], (lp - lm) / 2e-2, $"parameter {i}");
        }
    }

    /// <summary>For every parametrisation, x0hat = c_skip x + c_out target recovers y exactly.</summary>
    [Theory]
    [InlineData(Parametrisation.Edm)]
    [InlineData(Parametrisation.Epsilon)]
    [InlineData(Parametrisation.Data)]
    [InlineData(Parametrisation.Velocity)]
    [InlineData(Parametrisation.FlowVelocity)]
    public void TargetReconstructsCleanData(Parametrisation parametrisation)
    {
        foreach (double sigma in new[] { 0.01, 0.5, 2.0, 40.0 })
        {
            double y = 0.7, eps = -1.3, x = y + sigma * eps;
            var p = Preconditioning.For(parametrisation, sigma, 0.5);
            double target = (y - p.Skip * x) / p.Output;
            Assert.Equal(y, p.Skip * x + p.Output * target, 10);
            double expected = parametrisation switch
            {
                Parametrisation.Epsilon => eps,
                Parametrisation.Data => y,
                Parametrisation.Velocity => (eps - sigma * y) / Math.Sqrt(1 + sigma * sigma),
                Parametrisation.FlowVelocity => eps - y,
                _ => target,
            };
            Assert.Equal(expected, target, 9);
        }
    }

    [Fact]
    public void EdmCoefficientsMatchKarrasTable1()
    {
        double s = 1.7, sd = 0.5;
        var p = Preconditioning.For(Parametrisation.Edm, s, sd);
        Assert.Equal(sd * sd / (s * s + sd * sd), p.Skip, 12);
        Assert.Equal(s * sd / Math.Sqrt(s * s + sd * sd), p.Output, 12);
        Assert.Equal(1 / Math.Sqrt(s * s + sd * sd), p.Input, 12);
        Assert.Equal(Math.Log(s) / 4, p.Noise, 12);
        Assert.Equal(1.0, p.Weight, 12);
        Assert.Equal((s * s + sd * sd) / (s * sd * s * sd), Preconditioning.EdmLossWeight(s, sd), 12);
    }
}
