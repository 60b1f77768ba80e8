using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Training;

namespace MLExtensions.Diffusion.Tests.Onnx;

/// <summary>Small neural denoisers with random (perturbed) weights and a non-trivial standardiser, for export tests.</summary>
internal static class ExportTestModels
{
    public static readonly MlpOptions Plain = new() { Width = 24, Depth = 2, EmbeddingFrequencies = 4, Threads = 1 };

    public static readonly MlpOptions PlainEveryLayer = new()
    {
        Width = 20, Depth = 3, EmbeddingFrequencies = 3, TimeConditioning = TimeConditioning.EveryLayer, Threads = 1,
    };

    public static readonly MlpOptions ResidualEveryLayer = new()
    {
        Width = 16, Depth = 3, Residual = true, LayerNorm = true, EmbeddingFrequencies = 5,
        TimeConditioning = TimeConditioning.EveryLayer, Threads = 1,
    };

    /// <summary>
    /// A denoiser whose initial weights are perturbed by N(0, 0.05^2) noise (so biases and layer-norm parameters are not
    /// at their trivial initial values), with mean (0.5, -1, 1.5, ...) and isotropic scale 1.7.
    /// </summary>
    public static NeuralDenoiser Random(int dimension, MlpOptions options, Parametrisation parametrisation, int seed, double sigmaData = 0.8)
    {
        var random = new Random(seed);
        var network = new TimeConditionedMlp(dimension, options, random);
        var noise = StandardNormal.Sample(random, network.Parameters.Length);
        for (int i = 0; i < noise.Length; i++) network.Parameters[i] += (float)(0.05 * noise[i]);
        var mean = new double[dimension];
        var scale = new double[dimension];
        for (int j = 0; j < dimension; j++)
        {
            mean[j] = 0.5 * (j + 1) * (j % 2 == 0 ? 1 : -2);
            scale[j] = 1.7;
        }
        return new NeuralDenoiser(network, Standardizer.Create(mean, scale), parametrisation, sigmaData);
    }

    /// <summary>A denoiser trained for a few hundred steps on a 2-D Gaussian (real, non-random weights).</summary>
    public static NeuralDenoiser BrieflyTrained(int dimension, int seed)
    {
        var rng = new Random(seed);
        var z = StandardNormal.Sample(rng, 2000 * dimension);
        var data = new float[z.Length];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(1.0 + (i % dimension) + (0.5 + 0.3 * (i % dimension)) * z[i]);
        var options = new TrainingOptions
        {
            Network = new MlpOptions { Width = 32, Depth = 2, Residual = true, EmbeddingFrequencies = 6, Threads = 1 },
            BatchSize = 64,
            Steps = 150,
            WarmupSteps = 10,
            EmaDecay = 0.9,
            Seed = seed,
        };
        return new ScoreModelTrainer(options).Fit(data, dimension);
    }

    /// <summary>Max |a - b| over two equal-length sequences.</summary>
    public static double MaxAbsDiff(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(float.IsFinite(actual[i]), $"non-finite value {actual[i]} at {i}");
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        }
        return worst;
    }

    /// <summary>Max |a - b| over two equal-length sequences.</summary>
    public static double MaxAbsDiff(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(double.IsFinite(actual[i]), $"non-finite value {actual[i]} at {i}");
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        }
        return worst;
    }
}
