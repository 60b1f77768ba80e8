using MLExtensions.Diffusion.Onnx;
using static MLExtensions.Diffusion.Tests.Onnx.OrtTestRunner;

namespace MLExtensions.Diffusion.Tests.Onnx;

/// <summary>Builds small graphs, runs them in ONNX Runtime (CPU) and compares with straightforward C# references.</summary>
public class OnnxGraphBuilderTests
{
    private const double Tol = 1e-5;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TimeConditionedMlpMatchesReference(bool useRawData)
    {
        const int d = 4, hidden = 16;
        var random = new Random(1);
        var w1 = Normal(random, (d + 1) * hidden, 1 / Math.Sqrt(d + 1));
        var b1 = Normal(random, hidden, 0.1);
        var w2 = Normal(random, hidden * d, 1 / Math.Sqrt(hidden));
        var b2 = Normal(random, d, 0.1);

        var g = new OnnxGraphBuilder("mlp");
        string x = g.AddInput("x", OnnxElementType.Float, "N", d);
        string t = g.AddInput("t", OnnxElementType.Float, "N", 1);
        string h0 = g.Concat(1, x, t);
        string h1 = g.Silu(g.Add(g.MatMul(h0, g.AddInitializer("w1", w1, d + 1, hidden)), g.AddInitializer("b1", b1, hidden)));
        string y = g.Add(g.Add(g.MatMul(h1, g.AddInitializer("w2", w2, hidden, d)), g.AddInitializer("b2", b2, d)), x);
        g.AddOutput(y, "y", OnnxElementType.Float, "N", d);
        var model = g.Build(useRawData);

        using var session = OnnxSessionFactory.Create(model, Settings);
        foreach (int n in new[] { 1, 5 })
        {
            var xs = Normal(random, n * d);
            var ts = Uniform(random, n, 0, 1);
            var (got, shape) = Run(session, "y", ("x", xs, new long[] { n, d }), ("t", ts, new long[] { n, 1 }));
            Assert.Equal(new long[] { n, d }, shape);

            var input = new double[n * (d + 1)];
            for (int r = 0; r < n; r++)
            {
                for (int j = 0; j < d; j++)
                    input[r * (d + 1) + j] = xs[r * d + j];
                input[r * (d + 1) + d] = ts[r];
            }
            var a1 = Affine(input, n, d + 1, w1, hidden, b1);
            for (int i = 0; i < a1.Length; i++)
                a1[i] = Silu(a1[i]);
            var expected = Affine(a1, n, hidden, w2, d, b2);
            for (int i = 0; i < expected.Length; i++)
                expected[i] += xs[i];
            AssertClose(expected, got, Tol);
        }
    }

    [Fact]
    public void GemmWithTransposeAndScalesMatchesReference()
    {
        const int n = 3, k = 4, m = 5;
        var random = new Random(2);
        var a = Normal(random, n * k);
        var b = Normal(random, m * k); // stored [m, k], used transposed
        var c = Normal(random, m);
        var g = new OnnxGraphBuilder();
        string ai = g.AddInput("a", OnnxElementType.Float, "N", k);
        string y = g.Gemm(ai, g.AddInitializer("b", b, m, k), g.AddInitializer("c", c, m), transB: true, alpha: 0.5f, beta: 2f);
        g.AddOutput(y, OnnxElementType.Float, "N", m);

        var (got, _) = Run(g.Build(), y, ("a", a, new long[] { n, k }));
        var expected = new double[n * m];
        for (int r = 0; r < n; r++)
            for (int j = 0; j < m; j++)
            {
                double s = 0;
                for (int i = 0; i < k; i++)
                    s += (double)a[r * k + i] * b[j * k + i];
                expected[r * m + j] = 0.5 * s + 2.0 * c[j];
            }
        AssertClose(expected, got, Tol);
    }

    [Fact]
    public void SinusoidalEmbeddingMatchesReference()
    {
        const int half = 8, n = 6;
        var freqs = new float[half];
        for (int k = 0; k < half; k++)
            freqs[k] = (float)Math.Exp(-Math.Log(10000.0) * k / half);
        var g = new OnnxGraphBuilder("embedding");
        string t = g.AddInput("t", OnnxElementType.Float, "N", 1);
        string args = g.Mul(g.Mul(t, g.Constant(100f)), g.AddInitializer("freqs", freqs, 1, half));
        string emb = g.Concat(-1, g.Sin(args), g.Cos(args));
        g.AddOutput(emb, "emb", OnnxElementType.Float, "N", 2 * half);

        var ts = Uniform(new Random(3), n, 0, 1);
        var (got, shape) = Run(g.Build(), "emb", ("t", ts, new long[] { n, 1 }));
        Assert.Equal(new long[] { n, 2 * half }, shape);
        var expected = new double[n * 2 * half];
        for (int r = 0; r < n; r++)
            for (int k = 0; k < half; k++)
            {
                float arg = ts[r] * 100f * freqs[k]; // same float rounding as the graph: (t * 100) * f
                expected[r * 2 * half + k] = Math.Sin(arg);
                expected[r * 2 * half + half + k] = Math.Cos(arg);
            }
        AssertClose(expected, got, Tol);
    }

    [Fact]
    public void LayerNormalizationMatchesReference()
    {
        const int n = 5, d = 8;
        const float eps = 1e-5f;
        var random = new Random(4);
        var scale = Normal(random, d);
        var bias = Normal(random, d);
        var g = new OnnxGraphBuilder();
        string x = g.AddInput("x", OnnxElementType.Float, "N", d);
        string y = g.LayerNormalization(x, g.AddInitializer("gamma", scale, d), g.AddInitializer("beta", bias, d), epsilon: eps);
        g.AddOutput(y, OnnxElementType.Float, "N", d);

        var xs = Normal(random, n * d, 3);
        var (got, _) = Run(g.Build(), y, ("x", xs, new long[] { n, d }));
        var expected = new double[n * d];
        for (int r = 0; r < n; r++)
        {
            double mean = 0, variance = 0;
            for (int j = 0; j < d; j++)
                mean += xs[r * d + j];
            mean /= d;
            for (int j = 0; j < d; j++)
                variance += (xs[r * d + j] - mean) * (xs[r * d + j] - mean);
            variance /= d;
            for (int j = 0; j < d; j++)
                expected[r * d + j] = (xs[r * d + j] - mean) / Math.Sqrt(variance + eps) * scale[j] + bias[j];
        }
        AssertClose(expected, got, Tol);
    }

    [Fact]
    public void ShapeAndReductionOpsMatchReference()
    {
        // z = (x - mean) / sqrt(var + 1e-3); sp = log(exp(z) + 1) reshaped [N,6] -> [N,3,2] -> [N,6];
        // out = sp + unsqueeze(t) * expand(row, shape(x)).
        const int n = 4, d = 6;
        var random = new Random(5);
        var row = Normal(random, d);
        var g = new OnnxGraphBuilder();
        string x = g.AddInput("x", OnnxElementType.Float, "N", d);
        string t = g.AddInput("t", OnnxElementType.Float, "N");
        string centred = g.Sub(x, g.ReduceMean(x, new long[] { 1 }));
        string variance = g.ReduceMean(g.Mul(centred, centred), new long[] { -1 });
        string z = g.Div(centred, g.Sqrt(g.Add(variance, g.Constant(1e-3f))));
        string softplus = g.Log(g.Add(g.Exp(z), g.Constant(1f)));
        string roundTrip = g.Reshape(g.Reshape(softplus, new long[] { -1, 3, 2 }), new long[] { 0, d });
        string expanded = g.Expand(g.AddInitializer("row", row, 1, d), g.Shape(x));
        string y = g.Identity(g.Add(roundTrip, g.Mul(g.Unsqueeze(t, new long[] { 1 }), expanded)));
        g.AddOutput(y, "out", OnnxElementType.Float, "N", d);

        var xs = Normal(random, n * d);
        var ts = Uniform(random, n, -1, 1);
        var (got, shape) = Run(g.Build(), "out", ("x", xs, new long[] { n, d }), ("t", ts, new long[] { n }));
        Assert.Equal(new long[] { n, d }, shape);
        var expected = new double[n * d];
        for (int r = 0; r < n; r++)
        {
            double mean = 0, variance2 = 0;
            for (int j = 0; j < d; j++)
                mean += xs[r * d + j];
            mean /= d;
            for (int j = 0; j < d; j++)
                variance2 += (xs[r * d + j] - mean) * (xs[r * d + j] - mean);
            variance2 /= d;
            for (int j = 0; j < d; j++)
            {
                double zj = (xs[r * d + j] - mean) / Math.Sqrt(variance2 + 1e-3);
                expected[r * d + j] = Math.Log(Math.Exp(zj) + 1) + ts[r] * row[j];
            }
        }
        AssertClose(expected, got, Tol);
    }

    [Fact]
    public void UnrolledUpdateLoopMatchesReference()
    {
        // x <- a_k x + b_k silu(x W + c), k = 0..9, with per-step scalar constants.
        const int d = 3, steps = 10;
        var random = new Random(6);
        var w = Normal(random, d * d, 0.5);
        var c = Normal(random, d, 0.1);
        var a = new float[steps];
        var b = new float[steps];
        for (int k = 0; k < steps; k++)
        {
            a[k] = 0.9f + 0.01f * k;
            b[k] = 0.1f / (k + 1);
        }

        var g = new OnnxGraphBuilder("unrolled");
        string x = g.AddInput("x0", OnnxElementType.Float, "N", d);
        string wi = g.AddInitializer("w", w, d, d);
        string ci = g.AddInitializer("c", c, d);
        for (int k = 0; k < steps; k++)
            x = g.Add(g.Mul(g.Constant(a[k]), x), g.Mul(g.Constant(b[k]), g.Silu(g.Add(g.MatMul(x, wi), ci))));
        g.AddOutput(x, "samples", OnnxElementType.Float, "N", d);

        using var session = OnnxSessionFactory.Create(g.Build(), Settings);
        foreach (int n in new[] { 1, 7 })
        {
            var x0 = Normal(random, n * d);
            var (got, _) = Run(session, "samples", ("x0", x0, new long[] { n, d }));
            var state = ToDouble(x0);
            for (int k = 0; k < steps; k++)
            {
                var f = Affine(state, n, d, w, d, c);
                for (int i = 0; i < state.Length; i++)
                    state[i] = a[k] * state[i] + b[k] * Silu(f[i]);
            }
            AssertClose(state, got, Tol);
        }
    }

    [Fact]
    public void ModelCarriesSymbolicDimsNamesAndMetadata()
    {
        var g = new OnnxGraphBuilder();
        string x = g.AddInput("x", OnnxElementType.Float, "N", 3);
        g.AddOutput(g.Sigmoid(x), "p", OnnxElementType.Float, "N", 3);
        g.SetMetadata("schedule", "cosine");
        var model = g.Build();
        Assert.Equal(new[] { "x" }, model.InputNames);
        Assert.Equal(new[] { "p" }, model.OutputNames);

        using var session = OnnxSessionFactory.Create(model, Settings);
        var input = session.InputMetadata["x"];
        Assert.Equal(new[] { -1, 3 }, input.Dimensions);
        Assert.Equal("N", input.SymbolicDimensions[0]);
        Assert.Equal(typeof(float), input.ElementType);
        Assert.Equal(new[] { "p" }, session.OutputMetadata.Keys.ToArray());
        Assert.Equal("cosine", session.ModelMetadata.CustomMetadataMap["schedule"]);
        Assert.Equal("MLExtensions.Diffusion", session.ModelMetadata.ProducerName);
        Assert.Equal("graph", session.ModelMetadata.GraphName);

        var (got, _) = Run(session, "p", ("x", new[] { 0f, 2f, -1f }, new long[] { 1, 3 }));
        AssertClose(new[] { 0.5, 1 / (1 + Math.Exp(-2.0)), 1 / (1 + Math.Exp(1.0)) }, got, 1e-6);
    }

    [Fact]
    public void SaveWritesAtomicallyAndOverwrites()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlext-onnx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "model.onnx");
            foreach (float factor in new[] { 2f, 3f })
            {
                var g = new OnnxGraphBuilder();
                string x = g.AddInput("x", OnnxElementType.Float, "N");
                g.AddOutput(g.Mul(x, g.Constant(factor)), "y", OnnxElementType.Float, "N");
                var model = g.Build();
                model.Save(path);
                Assert.Equal(model.ToBytes(), File.ReadAllBytes(path));
                using var session = OnnxSessionFactory.CreateFromFile(path, Settings);
                var (got, _) = Run(session, "y", ("x", new[] { 1f, -4f }, new long[] { 2 }));
                AssertClose(new[] { factor, -4.0 * factor }, got, 0);
            }
            Assert.Equal(new[] { path }, Directory.GetFiles(dir)); // no temporary file left behind

            var h = new OnnxGraphBuilder();
            h.AddOutput(h.AddInput("x", OnnxElementType.Float, 1), OnnxElementType.Float, 1);
            Assert.Throws<DirectoryNotFoundException>(() => h.Build().Save(Path.Combine(dir, "missing", "m.onnx")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ConstantsWithEqualValuesShareOneNode()
    {
        var g = new OnnxGraphBuilder();
        string a = g.Constant(0.5f);
        int nodes = g.NodeCount;
        Assert.Equal(a, g.Constant(0.5f));
        Assert.Equal(nodes, g.NodeCount);
        Assert.NotEqual(a, g.Constant(-0.5f));
        Assert.Throws<ArgumentException>(() => g.Constant(float.NaN));
    }

    [Fact]
    public void BuilderRejectsInvalidGraphs()
    {
        var g = new OnnxGraphBuilder();
        string x = g.AddInput("x", OnnxElementType.Float, "N", 2);
        var unknown = Assert.Throws<ArgumentException>(() => g.Add(x, "nope"));
        Assert.Equal("inputs", unknown.ParamName);
        Assert.Contains("nope", unknown.Message);
        Assert.Equal("name", Assert.Throws<ArgumentException>(() => g.AddInput("x", OnnxElementType.Float, 2)).ParamName);
        Assert.Equal("dims", Assert.Throws<ArgumentException>(() => g.AddInitializer("w", new float[3], 2, 2)).ParamName);
        Assert.Equal("values", Assert.Throws<ArgumentException>(() => g.AddInitializer("w", new[] { 1f, float.PositiveInfinity }, 2)).ParamName);
        Assert.Equal("values", Assert.Throws<ArgumentException>(() => g.AddInitializer("w", new[] { 1e300 }, 1)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => g.LayerNormalization(x, x, epsilon: 0f));
        Assert.Equal("alpha", Assert.Throws<ArgumentException>(() => g.Gemm(x, x, alpha: float.NaN)).ParamName);
        Assert.Throws<ArgumentException>(() => g.AddNode("Foo", new[] { x }, OnnxAttribute.Int("a", 1), OnnxAttribute.Int("a", 2)));
        Assert.Throws<ArgumentException>(() => OnnxDim.Symbolic(" "));
        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxDim.Fixed(-1));
        Assert.Throws<InvalidOperationException>(() => g.Build());
        g.AddOutput(x, OnnxElementType.Float, "N", 2);
        Assert.Equal("outputName", Assert.Throws<ArgumentException>(() => g.AddOutput(x, OnnxElementType.Float, "N", 2)).ParamName);
    }

    [Fact]
    public void BuildRejectsInitializersThatNoNodeReads()
    {
        var g = new OnnxGraphBuilder("dead");
        string x = g.AddInput("x", OnnxElementType.Float, "N", 2);
        string used = g.AddInitializer("used", new[] { 1f, 2f }, 2);
        g.AddInitializer("forgotten", new[] { 3f }, 1);
        g.AddOutput(g.Add(x, used), "y", OnnxElementType.Float, "N", 2);
        var error = Assert.Throws<InvalidOperationException>(() => g.Build());
        Assert.Contains("forgotten", error.Message);
        Assert.DoesNotContain("used,", error.Message);

        // An initializer that is itself a graph output counts as read.
        var h = new OnnxGraphBuilder("constant");
        h.AddOutput(h.AddInitializer("c", new[] { 1f }, 1), OnnxElementType.Float, 1);
        Assert.Equal(new[] { "c" }, h.Build().OutputNames);
    }

    [Fact]
    public void UniqueNamesNeverCollide()
    {
        var g = new OnnxGraphBuilder();
        string x = g.AddInput("add", OnnxElementType.Float, 1);
        var names = new HashSet<string> { x };
        for (int i = 0; i < 20; i++)
            Assert.True(names.Add(g.Add(x, x)));
        Assert.True(names.Add(g.AddInitializer("add", new[] { 1f }, 1)));
        Assert.True(names.Add(g.AddInitializer("add", new[] { 2f }, 1)));
    }
}
