using MLExtensions.Diffusion.Training;

namespace MLExtensions.Diffusion.Tests.Training;

/// <summary>
/// The network's forward and backward passes give the same bits for one thread and for several: the GEMM blocks and the
/// elementwise row blocks (bias, SiLU, SiLU gradient, bias-gradient partial sums) do not depend on the thread count.
/// </summary>
public class ThreadCountDeterminismTests
{
    // Width 128 x 300 rows is above Linear's threshold for sharing the elementwise work (32 K elements), so the
    // row blocks really run on several threads; 64 rows stay below it.
    [Theory]
    [InlineData(false, 300)]
    [InlineData(true, 300)]
    [InlineData(false, 64)]
    public void ForwardAndBackward_AreBitIdenticalForOneAndThreeThreads(bool residual, int rows)
    {
        const int d = 3;
        var x = new float[rows * d];
        var c = new float[rows];
        var dy = new float[rows * d];
        var random = new Random(5);
        for (int i = 0; i < x.Length; i++) { x[i] = (float)(2 * random.NextDouble() - 1); dy[i] = (float)(random.NextDouble() - 0.5); }
        for (int r = 0; r < rows; r++) c[r] = (float)(random.NextDouble() - 0.5);

        (float[] Output, float[] Gradients) Pass(int threads, int from = 0, int count = -1)
        {
            if (count < 0) count = rows;
            var options = new MlpOptions { Width = 128, Depth = 3, Residual = residual, LayerNorm = residual, EmbeddingFrequencies = 4, Threads = threads };
            var net = new TimeConditionedMlp(d, options, new Random(11));
            var output = new float[count * d];
            net.Forward(x.AsSpan(from * d, count * d), c.AsSpan(from, count), output);
            net.ZeroGradients();
            net.Backward(dy.AsSpan(from * d, count * d));
            return (output, net.Gradients.ToArray());
        }

        var (output1, gradients1) = Pass(1);
        var (output3, gradients3) = Pass(3);
        Assert.Equal(output1, output3);
        Assert.Equal(gradients1, gradients3);
        Assert.Contains(gradients1, g => g != 0);

        // The gradient is a sum over rows: the whole batch equals its two parts added (other blocks, so up to rounding).
        int head = rows / 3;
        var (_, first) = Pass(3, 0, head);
        var (_, second) = Pass(3, head, rows - head);
        double scale = gradients1.Max(g => Math.Abs(g));
        for (int i = 0; i < gradients1.Length; i++)
            Assert.True(Math.Abs(gradients1[i] - (first[i] + second[i])) <= 1e-4 * scale, $"gradient {i}: {gradients1[i]} vs {first[i] + second[i]}");
    }

    // 100 003 parameters: several 8192-parameter blocks shared between threads, and a scalar tail.
    [Fact]
    public void AdamWStep_IsBitIdenticalForOneAndThreeThreads()
    {
        const int count = 100_003;
        var random = new Random(3);
        var start = new float[count];
        var gradients = new float[3][];
        for (int i = 0; i < count; i++) start[i] = (float)(2 * random.NextDouble() - 1);
        for (int s = 0; s < 3; s++)
        {
            gradients[s] = new float[count];
            for (int i = 0; i < count; i++) gradients[s][i] = (float)(random.NextDouble() - 0.5);
        }

        float[] Run(int threads)
        {
            var p = (float[])start.Clone();
            var adam = new AdamW(count, weightDecay: 0.01) { Threads = threads };
            foreach (var g in gradients) adam.Step(p, g, 1e-3);
            return p;
        }

        var one = Run(1);
        Assert.Equal(one, Run(3));
        Assert.NotEqual(start, one);
    }
}
