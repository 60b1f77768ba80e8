using MLExtensions.Diffusion.Onnx;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Training;
using Xunit.Abstractions;

namespace MLExtensions.Diffusion.Tests.Onnx;

public class OnnxDenoiserTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    [Fact]
    public void MatchesNeuralDenoiserAcrossBatchSplitsAndLevels()
    {
        var denoiser = ExportTestModels.Random(3, ExportTestModels.ResidualEveryLayer, Parametrisation.Edm, seed: 12);
        using var onnx = OnnxDenoiser.Create(NetworkOnnxExporter.Export(denoiser), OrtTestRunner.Settings, maxBatchRows: 5);
        Assert.Equal(3, onnx.Dimension);
        double worst = 0;
        var rng = new Random(2);
        // 13 rows = 5 + 5 + 3 (rebinding for the remainder), then 4 and 13 again (buffers reused).
        foreach (var (rows, m, sigma) in new[] { (13, 0.9, 0.3), (4, 0.2, 5.0), (13, 0.99, 0.01), (1, 0.5, 40.0) })
        {
            var x = StandardNormal.Sample(rng, rows * 3);
            for (int i = 0; i < x.Length; i++) x[i] = m * (1 + i % 3) + sigma * x[i];
            var expected = new double[x.Length];
            var actual = new double[x.Length];
            denoiser.Denoise(x, m, sigma, expected);
            onnx.Denoise(x, m, sigma, actual);
            worst = Math.Max(worst, ExportTestModels.MaxAbsDiff(expected, actual));
        }
        output.WriteLine($"max |OnnxDenoiser - NeuralDenoiser| = {worst:E2}");
        Assert.True(worst <= Tolerance, $"max |diff| = {worst:E3}");
    }

    [Fact]
    public void HostLoopSamplerMatchesCSharpEngine()
    {
        var denoiser = ExportTestModels.BrieflyTrained(2, seed: 8);
        using var onnx = OnnxDenoiser.Create(NetworkOnnxExporter.Export(denoiser), OrtTestRunner.Settings);
        var schedule = new CosineSchedule();
        double[] times = TimeGrid.EdmRho(schedule, 10, 0.002, 80);
        var start = StandardNormal.Sample(new Random(3), 64 * 2);
        double sigma0 = schedule.Sigma(times[0]);
        var a = start.Select(v => sigma0 * v).ToArray();
        var b = (double[])a.Clone();
        new HeunSampler().Sample(denoiser, schedule, times, a);
        new HeunSampler().Sample(onnx, schedule, times, b);
        double diff = ExportTestModels.MaxAbsDiff(a, b);
        output.WriteLine($"Heun host loop: max |ORT network - C# network| = {diff:E2}");
        Assert.True(diff <= Tolerance, $"max |diff| = {diff:E3}");
    }

    [Fact]
    public void CleanLevelReturnsXOverMWithoutRunning()
    {
        var denoiser = ExportTestModels.Random(2, ExportTestModels.Plain, Parametrisation.Edm, seed: 1);
        using var onnx = OnnxDenoiser.Create(NetworkOnnxExporter.Export(denoiser), OrtTestRunner.Settings);
        var x0 = new double[2];
        onnx.Denoise(new[] { 3.0, -1.0 }, 0.5, 0, x0);
        Assert.Equal(new[] { 6.0, -2.0 }, x0);
    }

    [Fact]
    public void LoadsSavedFileAndChecksItsDimension()
    {
        var denoiser = ExportTestModels.Random(2, ExportTestModels.Plain, Parametrisation.Epsilon, seed: 4);
        string dir = Path.Combine(Path.GetTempPath(), "mlext-onnxden-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "denoiser.onnx");
            NetworkOnnxExporter.Export(denoiser).Save(path);
            using (var onnx = OnnxDenoiser.Load(path, expectedDimension: 2, OrtTestRunner.Settings))
            {
                var x = new[] { 0.3, 1.2, -0.7, 2.0 };
                var expected = new double[4];
                var actual = new double[4];
                denoiser.Denoise(x, 0.8, 0.6, expected);
                onnx.Denoise(x, 0.8, 0.6, actual);
                Assert.True(ExportTestModels.MaxAbsDiff(expected, actual) <= Tolerance);
            }
            var ex = Assert.Throws<InvalidDataException>(() => OnnxDenoiser.Load(path, expectedDimension: 3, OrtTestRunner.Settings));
            Assert.Contains(path, ex.Message);
            Assert.Contains("'x'", ex.Message);
            Assert.Contains("3", ex.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ValidatesArgumentsAndDisposal()
    {
        var denoiser = ExportTestModels.Random(2, ExportTestModels.Plain, Parametrisation.Edm, seed: 1);
        var onnx = OnnxDenoiser.Create(NetworkOnnxExporter.Export(denoiser), OrtTestRunner.Settings);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => onnx.Denoise(new double[3], 1, 1, new double[3])).ParamName);
        Assert.Equal("x0", Assert.Throws<ArgumentException>(() => onnx.Denoise(new double[2], 1, 1, new double[4])).ParamName);
        Assert.Equal("m", Assert.Throws<ArgumentOutOfRangeException>(() => onnx.Denoise(new double[2], 0, 1, new double[2])).ParamName);
        Assert.Equal("sigma", Assert.Throws<ArgumentOutOfRangeException>(() => onnx.Denoise(new double[2], 1, double.NaN, new double[2])).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxDenoiser.Create(NetworkOnnxExporter.Export(denoiser), OrtTestRunner.Settings, maxBatchRows: 0));
        onnx.Dispose();
        onnx.Dispose();
        Assert.Throws<ObjectDisposedException>(() => onnx.Denoise(new double[2], 1, 1, new double[2]));
    }
}
