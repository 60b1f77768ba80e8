using MLExtensions.Diffusion.Likelihood;
using MLExtensions.Diffusion.Onnx;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Training;
using Xunit.Abstractions;

namespace MLExtensions.Diffusion.Tests.Onnx;

public class OnnxJacobianDenoiserTests(ITestOutputHelper output)
{
    private static (double[] X, double[] V) RowsAndTangents(int rows, int d, double m, double sigma, int seed)
    {
        var rng = new Random(seed);
        var x = StandardNormal.Sample(rng, rows * d);
        for (int i = 0; i < x.Length; i++) x[i] = m * (1 + i % d) + sigma * x[i];
        return (x, StandardNormal.Sample(rng, rows * d));
    }

    public static TheoryData<Parametrisation, bool> Cases => new()
    {
        { Parametrisation.Edm, true }, { Parametrisation.Epsilon, false }, { Parametrisation.Velocity, true },
        { Parametrisation.FlowVelocity, false }, { Parametrisation.Data, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesNeuralDenoiserJacobianVectorProduct(Parametrisation parametrisation, bool residual)
    {
        var denoiser = ExportTestModels.Random(3, residual ? ExportTestModels.ResidualEveryLayer : ExportTestModels.Plain, parametrisation, seed: 5);
        using var onnx = OnnxJacobianDenoiser.Create(NetworkOnnxExporter.ExportJacobianVectorProduct(denoiser), OrtTestRunner.Settings, maxBatchRows: 6);
        double worstJv = 0, worstX0 = 0;
        foreach (var (rows, m, sigma) in new[] { (13, 0.9, 0.3), (4, 0.2, 5.0), (7, 0.99, 0.01), (2, 0.7, 0.0) })
        {
            var (x, v) = RowsAndTangents(rows, 3, m, sigma, seed: rows);
            var x0 = new double[x.Length];
            var jv = new double[x.Length];
            var ortX0 = new double[x.Length];
            var ortJv = new double[x.Length];
            denoiser.JacobianVectorProduct(x, m, sigma, v, x0, jv);
            onnx.JacobianVectorProduct(x, m, sigma, v, ortX0, ortJv);
            worstJv = Math.Max(worstJv, ExportTestModels.MaxAbsDiff(jv, ortJv));
            worstX0 = Math.Max(worstX0, ExportTestModels.MaxAbsDiff(x0, ortX0));
            onnx.Denoise(x, m, sigma, ortX0);
            worstX0 = Math.Max(worstX0, ExportTestModels.MaxAbsDiff(x0, ortX0));
        }
        output.WriteLine($"{parametrisation}, residual={residual}: max |jv ORT - C#| = {worstJv:E2}, max |x0 ORT - C#| = {worstX0:E2}");
        Assert.True(worstJv <= 1e-4, $"jv differs by {worstJv:E3}");
        Assert.True(worstX0 <= 1e-4, $"x0 differs by {worstX0:E3}");
    }

    [Fact]
    public void MatchesFiniteDifferenceOfTheExportedDenoiser()
    {
        // Independent of the C# tangent code: a central difference of the plain exported graph's x0 (float, so a loose tolerance).
        var denoiser = ExportTestModels.Random(2, ExportTestModels.ResidualEveryLayer, Parametrisation.Edm, seed: 9);
        using var plain = OnnxDenoiser.Create(NetworkOnnxExporter.Export(denoiser), OrtTestRunner.Settings);
        using var onnx = OnnxJacobianDenoiser.Create(NetworkOnnxExporter.ExportJacobianVectorProduct(denoiser), OrtTestRunner.Settings);
        double m = 0.8, sigma = 0.7, h = 2e-2;
        var (x, v) = RowsAndTangents(9, 2, m, sigma, seed: 1);
        var x0 = new double[x.Length];
        var jv = new double[x.Length];
        onnx.JacobianVectorProduct(x, m, sigma, v, x0, jv);
        var plus = x.Select((xi, i) => xi + h * v[i]).ToArray();
        var minus = x.Select((xi, i) => xi - h * v[i]).ToArray();
        var dPlus = new double[x.Length];
        var dMinus = new double[x.Length];
        plain.Denoise(plus, m, sigma, dPlus);
        plain.Denoise(minus, m, sigma, dMinus);
        double worst = 0, scale = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double fd = (dPlus[i] - dMinus[i]) / (2 * h);
            worst = Math.Max(worst, Math.Abs(fd - jv[i]));
            scale = Math.Max(scale, Math.Abs(fd));
        }
        output.WriteLine($"max |jv - FD| = {worst:E2} (scale {scale:E2})");
        Assert.True(worst <= 5e-3 * scale, $"|jv - FD| = {worst:E3}, scale {scale:E3}");
    }

    [Fact]
    public void LikelihoodThroughOrtMatchesTheCSharpEngine()
    {
        var denoiser = ExportTestModels.BrieflyTrained(2, seed: 8);
        using var onnx = OnnxJacobianDenoiser.Create(NetworkOnnxExporter.ExportJacobianVectorProduct(denoiser), OrtTestRunner.Settings);
        var x = new double[] { 1.0, 2.0, 0.5, 2.5, 1.8, 1.2, -1.0, 4.0 };
        var schedule = new VpLinearSchedule();
        foreach (var options in new[]
        {
            new LikelihoodOptions { Steps = 24 },
            new LikelihoodOptions { Steps = 24, Divergence = DivergenceEstimator.Hutchinson, HutchinsonProbes = 4, Seed = 3 },
        })
        {
            var expected = new double[4];
            var actual = new double[4];
            ProbabilityFlowLikelihood.Compute(denoiser, schedule, x, expected, options);
            ProbabilityFlowLikelihood.Compute(onnx, schedule, x, actual, options);
            for (int r = 0; r < 4; r++)
            {
                output.WriteLine($"{options.Divergence} row {r}: C# {expected[r]:F5}, ORT {actual[r]:F5}");
                Assert.True(double.IsFinite(expected[r]));
                Assert.True(Math.Abs(expected[r] - actual[r]) <= 1e-3 * Math.Max(1, Math.Abs(expected[r])), $"row {r}: {expected[r]} vs {actual[r]}");
            }
        }
    }

    [Fact]
    public void PlainDenoiserModelIsRejected()
    {
        var denoiser = ExportTestModels.Random(2, ExportTestModels.Plain, Parametrisation.Edm, seed: 1);
        var e = Assert.Throws<InvalidDataException>(() => OnnxJacobianDenoiser.Create(NetworkOnnxExporter.Export(denoiser), OrtTestRunner.Settings));
        Assert.Contains("'v'", e.Message);
    }
}
