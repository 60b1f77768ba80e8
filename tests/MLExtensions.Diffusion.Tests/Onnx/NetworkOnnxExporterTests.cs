using MLExtensions.Diffusion.Onnx;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Training;
using Xunit.Abstractions;

namespace MLExtensions.Diffusion.Tests.Onnx;

public class NetworkOnnxExporterTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    /// <summary>Random rows in data units with one (m, sigma) per row; every fifth row has sigma = 0.</summary>
    private static (float[] X, float[] M, float[] Sigma) Inputs(int rows, int d, int seed)
    {
        var rng = new Random(seed);
        var z = StandardNormal.Sample(rng, rows * d);
        var x = new float[rows * d];
        var m = new float[rows];
        var sigma = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            m[r] = (float)(0.05 + 0.95 * rng.NextDouble());
            // sigma / m spans about 0.002 .. 80, as an EDM grid does.
            sigma[r] = r % 5 == 4 ? 0f : (float)(m[r] * Math.Exp(Math.Log(0.002) + (Math.Log(80) - Math.Log(0.002)) * rng.NextDouble()));
            for (int j = 0; j < d; j++) x[r * d + j] = (float)(m[r] * (1 + j) + sigma[r] * z[r * d + j]);
        }
        return (x, m, sigma);
    }

    /// <summary>The C# denoiser row by row on the float inputs (widened to double), and the graph on the same inputs.</summary>
    private static double Compare(NeuralDenoiser denoiser, int rows, int seed)
    {
        int d = denoiser.Dimension;
        var (x, m, sigma) = Inputs(rows, d, seed);
        var expected = new double[rows * d];
        for (int r = 0; r < rows; r++)
            denoiser.Denoise(OrtTestRunner.ToDouble(x.AsSpan(r * d, d)), m[r], sigma[r], expected.AsSpan(r * d, d));
        var model = NetworkOnnxExporter.Export(denoiser);
        var (actual, shape) = OrtTestRunner.Run(model, NetworkOnnxExporter.OutputX0,
            (NetworkOnnxExporter.InputX, x, new long[] { rows, d }),
            (NetworkOnnxExporter.InputM, m, new long[] { rows, 1 }),
            (NetworkOnnxExporter.InputSigma, sigma, new long[] { rows, 1 }));
        Assert.Equal(new long[] { rows, d }, shape);
        return ExportTestModels.MaxAbsDiff(expected, actual);
    }

    [Theory]
    [InlineData(2, false, Parametrisation.Edm)]
    [InlineData(2, false, Parametrisation.Epsilon)]
    [InlineData(2, false, Parametrisation.Data)]
    [InlineData(4, true, Parametrisation.Velocity)]
    [InlineData(4, true, Parametrisation.FlowVelocity)]
    [InlineData(4, true, Parametrisation.Edm)]
    public void GraphMatchesNeuralDenoiserWithRandomWeights(int d, bool residual, Parametrisation parametrisation)
    {
        var denoiser = ExportTestModels.Random(d, residual ? ExportTestModels.ResidualEveryLayer : ExportTestModels.Plain, parametrisation, seed: 11 + d);
        double diff = Compare(denoiser, rows: 50, seed: 3);
        output.WriteLine($"d={d} residual={residual} {parametrisation}: max |graph - C#| = {diff:E2}");
        Assert.True(diff <= Tolerance, $"max |diff| = {diff:E3}");
    }

    [Fact]
    public void GraphMatchesBrieflyTrainedDenoiser()
    {
        var denoiser = ExportTestModels.BrieflyTrained(2, seed: 5);
        double diff = Compare(denoiser, rows: 64, seed: 9);
        output.WriteLine($"trained d=2: max |graph - C#| = {diff:E2}");
        Assert.True(diff <= Tolerance, $"max |diff| = {diff:E3}");
    }

    [Fact]
    public void RawNetworkOutputEqualsTheNetworkOnThePreconditionedInput()
    {
        var denoiser = ExportTestModels.Random(3, ExportTestModels.ResidualEveryLayer, Parametrisation.Edm, seed: 4);
        int d = 3, rows = 9;
        var (x, m, sigma) = Inputs(rows, d, seed: 8);
        for (int r = 0; r < rows; r++) sigma[r] = Math.Max(sigma[r], 0.1f);
        double scale = denoiser.Standardizer.Scale[0];
        var input = new float[rows * d];
        var noise = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            var p = Preconditioning.For(denoiser.Parametrisation, sigma[r] / (m[r] * scale), denoiser.SigmaData);
            noise[r] = (float)p.Noise;
            for (int j = 0; j < d; j++) input[r * d + j] = (float)(p.Input * (x[r * d + j] / m[r] - denoiser.Standardizer.Mean[j]) / scale);
        }
        var expected = new float[rows * d];
        denoiser.Network.Forward(input, noise, expected);
        var model = NetworkOnnxExporter.Export(denoiser, includeNetworkOutput: true);
        Assert.Equal(new[] { NetworkOnnxExporter.OutputX0, NetworkOnnxExporter.OutputNetwork }, model.OutputNames);
        var (actual, _) = OrtTestRunner.Run(model, NetworkOnnxExporter.OutputNetwork,
            (NetworkOnnxExporter.InputX, x, new long[] { rows, d }),
            (NetworkOnnxExporter.InputM, m, new long[] { rows, 1 }),
            (NetworkOnnxExporter.InputSigma, sigma, new long[] { rows, 1 }));
        OrtTestRunner.AssertClose(OrtTestRunner.ToDouble(expected), actual, Tolerance);
    }

    [Fact]
    public void CleanRowsReturnXOverM()
    {
        var denoiser = ExportTestModels.Random(2, ExportTestModels.Plain, Parametrisation.Edm, seed: 2);
        float[] x = [1.5f, -3f, 0.25f, 4f];
        float[] m = [0.5f, 2f];
        float[] sigma = [0f, 0f];
        var (actual, _) = OrtTestRunner.Run(NetworkOnnxExporter.Export(denoiser), NetworkOnnxExporter.OutputX0,
            (NetworkOnnxExporter.InputX, x, new long[] { 2, 2 }), (NetworkOnnxExporter.InputM, m, new long[] { 2, 1 }),
            (NetworkOnnxExporter.InputSigma, sigma, new long[] { 2, 1 }));
        OrtTestRunner.AssertClose(new double[] { 3, -6, 0.125, 2 }, actual, 1e-6);
    }

    [Fact]
    public void ModelDeclaresSignatureAndMetadata()
    {
        var denoiser = ExportTestModels.Random(4, ExportTestModels.Plain, Parametrisation.Velocity, seed: 1);
        var model = NetworkOnnxExporter.Export(denoiser);
        Assert.Equal(new[] { "x", "m", "sigma" }, model.InputNames);
        Assert.Equal(new[] { "x0" }, model.OutputNames);
        using var session = OnnxSessionFactory.Create(model, OrtTestRunner.Settings);
        Assert.Equal(4, OnnxModelSignature.ValidateDenoiser(session, 4, "test"));
        var meta = session.ModelMetadata.CustomMetadataMap;
        Assert.Equal("denoiser", meta["mlext.kind"]);
        Assert.Equal("4", meta["mlext.dimension"]);
        Assert.Equal("Velocity", meta["mlext.parametrisation"]);
        Assert.Equal(0.8, double.Parse(meta["mlext.sigma_data"], System.Globalization.CultureInfo.InvariantCulture));
        // The weights are all there: the file holds at least the parameter floats.
        Assert.True(model.SizeInBytes >= 4 * denoiser.Network.Parameters.Length);
    }

    [Fact]
    public void NullDenoiserIsRejected()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => NetworkOnnxExporter.Export(null!));
        Assert.Equal("denoiser", ex.ParamName);
    }
}
