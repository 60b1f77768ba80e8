using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Onnx;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Tests.Onnx;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Tests.MLNet;

/// <summary>
/// Properties of the models shipped in <c>models/</c> (made by <c>samples/TrainShippedModels</c>): the penguins model is
/// closer to its held-out rows than a fitted multivariate Gaussian, and each shipped <c>sampler.onnx</c> reproduces the
/// C# engine's generation.
/// </summary>
public class ShippedModelTests
{
    private static readonly string Models = Path.Combine(FindRepositoryRoot(), "models");

    [Fact]
    public void Penguins_BeatsAFittedMultivariateGaussian_OnHeldOutSlicedW2()
    {
        const int d = 4, rows = 1000, projections = 256;
        var model = DiffusionModel.Load(Path.Combine(Models, "penguins", "model.zip"));
        Assert.Equal(d, model.Dimension);
        var train = ReadCsv(Path.Combine(Models, "penguins", "train.csv"), d);
        var held = ReadCsv(Path.Combine(Models, "penguins", "heldout.csv"), d);
        Assert.True(held.Length / d >= 60, $"only {held.Length / d} held-out rows");

        // Standardised units from the training rows, computed here from train.csv (not taken from the model).
        var (mean, std) = Moments(train, d);
        var generated = model.Generate(rows, seed: 1).Select(v => (double)v).ToArray();
        var gaussian = SampleFittedGaussian(train, d, rows, new Random(2));
        double modelW2 = SlicedWasserstein.W2(Standardise(generated, mean, std), Standardise(held, mean, std), d, projections, new Random(3));
        double gaussianW2 = SlicedWasserstein.W2(Standardise(gaussian, mean, std), Standardise(held, mean, std), d, projections, new Random(3));
        Assert.True(modelW2 < gaussianW2, $"held-out sliced W2 (standardised units): model {modelW2:F4}, fitted Gaussian {gaussianW2:F4}");
    }

    [Theory]
    [InlineData("penguins")]
    [InlineData("mixture")]
    public void SamplerOnnx_ReproducesTheModelsGenerationForTheSameNoise(string name)
    {
        const int rows = 128;
        var model = DiffusionModel.Load(Path.Combine(Models, name, "model.zip"));
        int d = model.Dimension;
        var noise = StandardNormal.Sample(new Random(4), rows * d).Select(v => (float)v).ToArray();
        var expected = model.GenerateFromNoise(noise);
        using var session = OnnxSessionFactory.CreateFromFile(Path.Combine(Models, name, "sampler.onnx"), OrtTestRunner.Settings);
        var (samples, shape) = OrtTestRunner.Run(session, SamplerGraphCompiler.OutputSamples, (SamplerGraphCompiler.InputNoise, noise, [rows, d]));
        Assert.Equal([rows, (long)d], shape);
        for (int i = 0; i < samples.Length; i++)
        {
            double tolerance = 1e-4 * model.FeatureScaler.Scale[i % d];
            Assert.True(Math.Abs(samples[i] - expected[i]) <= tolerance, $"{name} index {i}: ONNX {samples[i]}, C# {expected[i]}, tolerance {tolerance:E2}");
        }
    }

    private static double[] ReadCsv(string path, int d)
    {
        var lines = File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0).ToArray();
        var values = new double[lines.Length * d];
        for (int r = 0; r < lines.Length; r++)
        {
            var fields = lines[r].Split(',');
            Assert.Equal(d, fields.Length);
            for (int j = 0; j < d; j++) values[r * d + j] = double.Parse(fields[j], CultureInfo.InvariantCulture);
        }
        return values;
    }

    private static (double[] Mean, double[] Std) Moments(double[] rows, int d)
    {
        int n = rows.Length / d;
        var mean = new double[d];
        var std = new double[d];
        for (int j = 0; j < d; j++)
        {
            for (int r = 0; r < n; r++) mean[j] += rows[r * d + j] / n;
            for (int r = 0; r < n; r++) std[j] += (rows[r * d + j] - mean[j]) * (rows[r * d + j] - mean[j]) / n;
            std[j] = Math.Sqrt(std[j]);
        }
        return (mean, std);
    }

    private static double[] Standardise(double[] rows, double[] mean, double[] std)
    {
        int d = mean.Length;
        var z = new double[rows.Length];
        for (int i = 0; i < z.Length; i++) z[i] = (rows[i] - mean[i % d]) / std[i % d];
        return z;
    }

    /// <summary>Draws from N(mean, covariance) of the rows (full sample covariance), through its Cholesky factor.</summary>
    private static double[] SampleFittedGaussian(double[] rows, int d, int count, Random random)
    {
        int n = rows.Length / d;
        var x = Matrix<double>.Build.Dense(n, d, (r, j) => rows[r * d + j]);
        var mean = Enumerable.Range(0, d).Select(j => x.Column(j).Average()).ToArray();
        var centred = Matrix<double>.Build.Dense(n, d, (r, j) => x[r, j] - mean[j]);
        var lower = (centred.TransposeThisAndMultiply(centred) / (n - 1)).Cholesky().Factor;
        var z = StandardNormal.Sample(random, count * d);
        var sample = new double[count * d];
        for (int r = 0; r < count; r++)
            for (int j = 0; j < d; j++)
            {
                double v = mean[j];
                for (int k = 0; k <= j; k++) v += lower[j, k] * z[r * d + k];
                sample[r * d + j] = v;
            }
        return sample;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLExtensions.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"MLExtensions.sln was not found above {AppContext.BaseDirectory}.");
    }
}
