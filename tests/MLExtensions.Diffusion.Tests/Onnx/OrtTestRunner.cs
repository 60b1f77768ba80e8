using Microsoft.ML.OnnxRuntime;
using MLExtensions.Diffusion.Onnx;
using MLExtensions.Diffusion.Randomness;

namespace MLExtensions.Diffusion.Tests.Onnx;

/// <summary>Runs small models in ONNX Runtime (CPU, one thread) and draws float test data.</summary>
internal static class OrtTestRunner
{
    public static readonly OnnxSessionSettings Settings = new() { IntraOpThreads = 1 };

    /// <summary>Runs <paramref name="session"/> on float inputs and returns the named float output with its shape.</summary>
    public static (float[] Data, long[] Shape) Run(InferenceSession session, string output, params (string Name, float[] Data, long[] Shape)[] inputs)
    {
        var names = new List<string>();
        var values = new List<OrtValue>();
        try
        {
            foreach (var (name, data, shape) in inputs)
            {
                names.Add(name);
                values.Add(OrtValue.CreateTensorValueFromMemory(data, shape));
            }
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, names, values, new[] { output });
            var result = results.First();
            return (result.GetTensorDataAsSpan<float>().ToArray(), result.GetTensorTypeAndShape().Shape);
        }
        finally
        {
            foreach (var v in values)
                v.Dispose();
        }
    }

    /// <summary>Builds a session for <paramref name="model"/> and runs it once.</summary>
    public static (float[] Data, long[] Shape) Run(OnnxModel model, string output, params (string Name, float[] Data, long[] Shape)[] inputs)
    {
        using var session = OnnxSessionFactory.Create(model, Settings);
        return Run(session, output, inputs);
    }

    /// <summary>Standard-normal draws scaled by <paramref name="scale"/>, rounded to float.</summary>
    public static float[] Normal(Random random, int count, double scale = 1.0)
    {
        var d = StandardNormal.Sample(random, count);
        var f = new float[count];
        for (int i = 0; i < count; i++)
            f[i] = (float)(scale * d[i]);
        return f;
    }

    /// <summary>Uniform draws in [lo, hi), rounded to float.</summary>
    public static float[] Uniform(Random random, int count, double lo, double hi)
    {
        var f = new float[count];
        for (int i = 0; i < count; i++)
            f[i] = (float)(lo + (hi - lo) * random.NextDouble());
        return f;
    }

    /// <summary>Asserts |expected - actual| &lt;= tol element-wise, reporting the worst index.</summary>
    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double tol)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.False(float.IsNaN(actual[i]), $"NaN at {i}");
            double diff = Math.Abs(expected[i] - actual[i]);
            if (diff > worst)
            {
                worst = diff;
                worstAt = i;
            }
        }
        Assert.True(worst <= tol, $"max |diff| = {worst:E3} at index {worstAt} (expected {(worstAt >= 0 ? expected[worstAt] : 0)}, got {(worstAt >= 0 ? actual[worstAt] : 0)}), tolerance {tol:E1}");
    }

    /// <summary>Reference <c>x @ w + b</c> in double for row-major x [n,k], w [k,m], b [m].</summary>
    public static double[] Affine(ReadOnlySpan<double> x, int n, int k, ReadOnlySpan<float> w, int m, ReadOnlySpan<float> b)
    {
        var y = new double[n * m];
        for (int r = 0; r < n; r++)
            for (int j = 0; j < m; j++)
            {
                double s = b.IsEmpty ? 0 : b[j];
                for (int i = 0; i < k; i++)
                    s += x[r * k + i] * w[i * m + j];
                y[r * m + j] = s;
            }
        return y;
    }

    public static double Silu(double v) => v / (1 + Math.Exp(-v));

    public static double[] ToDouble(ReadOnlySpan<float> f)
    {
        var d = new double[f.Length];
        for (int i = 0; i < f.Length; i++)
            d[i] = f[i];
        return d;
    }
}
