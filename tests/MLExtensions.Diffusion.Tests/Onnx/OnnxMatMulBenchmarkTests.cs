using MLExtensions.Diffusion.Onnx;

namespace MLExtensions.Diffusion.Tests.Onnx;

public class OnnxMatMulBenchmarkTests
{
    [Fact]
    public void ModelComputesTheMatrixProduct()
    {
        const int n = 3, k = 5, m = 4;
        var random = new Random(11);
        var w = OrtTestRunner.Normal(random, k * m);
        var x = OrtTestRunner.Normal(random, n * k);
        var (got, shape) = OrtTestRunner.Run(OnnxMatMulBenchmark.BuildModel(w, k, m), "y", ("x", x, new long[] { n, k }));
        Assert.Equal(new long[] { n, m }, shape);
        OrtTestRunner.AssertClose(OrtTestRunner.Affine(OrtTestRunner.ToDouble(x), n, k, w, m, ReadOnlySpan<float>.Empty), got, 1e-5);
    }

    [Fact]
    public void MeasureReturnsPositiveThroughputAndValidates()
    {
        double gflops = OnnxMatMulBenchmark.MeasureGflops(64, 32, 16, 3, new Random(1), OrtTestRunner.Settings);
        Assert.True(double.IsFinite(gflops) && gflops > 0, $"gflops = {gflops}");
        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxMatMulBenchmark.MeasureGflops(0, 1, 1, 1, new Random(1)));
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => OnnxMatMulBenchmark.BuildModel(new float[5], 2, 3)).ParamName);
    }
}
