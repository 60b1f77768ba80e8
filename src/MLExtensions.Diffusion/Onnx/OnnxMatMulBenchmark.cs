using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace MLExtensions.Diffusion.Onnx;

/// <summary>
/// Measures ONNX Runtime's MatMul throughput on a single in-memory <c>[rows, inner] @ [inner, cols]</c> model, as a
/// yardstick for the C# GEMM kernel.
/// </summary>
public static class OnnxMatMulBenchmark
{
    /// <summary>Builds the model <c>y = x @ w</c> with x of shape [N, inner] (symbolic N) and the constant w.</summary>
    /// <param name="weights">Row-major w, <paramref name="inner"/> x <paramref name="cols"/>, finite.</param>
    /// <param name="inner">Inner dimension (at least 1).</param>
    /// <param name="cols">Output columns (at least 1).</param>
    /// <returns>The model with input <c>"x"</c> and output <c>"y"</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inner"/> or <paramref name="cols"/> is less than 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="weights"/> has the wrong length or a non-finite value.</exception>
    public static OnnxModel BuildModel(ReadOnlySpan<float> weights, int inner, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inner, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(cols, 1);
        if (weights.Length != (long)inner * cols)
            throw new ArgumentException($"weights must hold inner*cols = {(long)inner * cols} values, got {weights.Length}.", nameof(weights));
        var g = new OnnxGraphBuilder("matmul");
        string x = g.AddInput("x", OnnxElementType.Float, "N", inner);
        g.AddOutput(g.MatMul(x, g.AddInitializer("w", weights, inner, cols)), "y", OnnxElementType.Float, "N", cols);
        return g.Build();
    }

    /// <summary>
    /// Times <paramref name="iterations"/> runs of <c>[rows, inner] @ [inner, cols]</c> (after two warm-up runs) and
    /// returns the achieved GFLOP/s, counting 2*rows*inner*cols floating-point operations per run.
    /// </summary>
    /// <param name="rows">Batch rows (at least 1).</param>
    /// <param name="inner">Inner dimension (at least 1).</param>
    /// <param name="cols">Output columns (at least 1).</param>
    /// <param name="iterations">Timed runs (at least 1).</param>
    /// <param name="random">Source of the random operands.</param>
    /// <param name="settings">Session settings (threads), or <see langword="null"/> for defaults.</param>
    /// <returns>GFLOP/s over the timed runs.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size or <paramref name="iterations"/> is less than 1.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    public static double MeasureGflops(int rows, int inner, int cols, int iterations, Random random, OnnxSessionSettings? settings = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        ArgumentNullException.ThrowIfNull(random);
        var w = new float[checked(inner * cols)];
        var x = new float[checked(rows * inner)];
        for (int i = 0; i < w.Length; i++)
            w[i] = (float)(random.NextDouble() - 0.5);
        for (int i = 0; i < x.Length; i++)
            x[i] = (float)(random.NextDouble() - 0.5);

        using var session = OnnxSessionFactory.Create(BuildModel(w, inner, cols), settings);
        using var input = OrtValue.CreateTensorValueFromMemory(x, new long[] { rows, inner });
        using var output = OrtValue.CreateTensorValueFromMemory(new float[checked(rows * cols)], new long[] { rows, cols });
        using var runOptions = new RunOptions();
        string[] inputNames = { "x" }, outputNames = { "y" };
        OrtValue[] inputs = { input }, outputs = { output };
        for (int i = 0; i < 2; i++)
            session.Run(runOptions, inputNames, inputs, outputNames, outputs);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++)
            session.Run(runOptions, inputNames, inputs, outputNames, outputs);
        double seconds = clock.Elapsed.TotalSeconds;
        return 2.0 * rows * inner * cols * iterations / Math.Max(seconds, 1e-12) / 1e9;
    }
}
