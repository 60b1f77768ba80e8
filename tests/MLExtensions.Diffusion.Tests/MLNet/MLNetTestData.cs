using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Randomness;

namespace MLExtensions.Diffusion.Tests.MLNet;

/// <summary>Small synthetic data sets and options shared by the MLNet tests.</summary>
internal static class MLNetTestData
{
    public const int Dimension = 2;

    public sealed class VectorRow
    {
        [VectorType(Dimension)]
        public float[] Features { get; set; } = [];
    }

    /// <summary>An equal-weight mixture of N((-2, 1), 0.5^2 I) and N((2, 1), 0.5^2 I); mean (0, 1).</summary>
    public static float[] Mixture(int rows, int seed)
    {
        var random = new Random(seed);
        var z = StandardNormal.Sample(random, rows * Dimension);
        var data = new float[rows * Dimension];
        for (int r = 0; r < rows; r++)
        {
            double centre = r % 2 == 0 ? -2 : 2;
            data[r * 2] = (float)(centre + 0.5 * z[r * 2]);
            data[r * 2 + 1] = (float)(1 + 0.5 * z[r * 2 + 1]);
        }
        return data;
    }

    public static IDataView View(MLContext context, float[] data) =>
        context.Data.LoadFromEnumerable(Enumerable.Range(0, data.Length / Dimension)
            .Select(r => new VectorRow { Features = data.AsSpan(r * Dimension, Dimension).ToArray() }).ToList());

    public static ScoreMatchingOptions TinyOptions(int steps = 300) => new()
    {
        Width = 32,
        Depth = 2,
        Steps = steps,
        WarmupSteps = steps / 10,
        BatchSize = 64,
        LearningRate = 5e-3,
        EmaDecay = 0.95,
        Seed = 11,
        Threads = 1,
        ReportInterval = 50,
    };
}
