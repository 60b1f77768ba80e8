using System.Numerics.Tensors;

namespace MLExtensions.Diffusion.Training;

/// <summary>
/// A dense layer y = act(x W^T + b) with W stored out x in (row-major) followed by b in the parameter slice, the bias
/// and activation fused into one pass after the <see cref="Gemm"/>.
/// </summary>
public sealed class Linear : Layer
{
    private readonly int _threads;
    private float[] _z = [];
    private float[] _dz = [];
    private float[] _scratch = [];
    private float[] _tangentScratch = [];

    /// <summary>A dense layer from <paramref name="inputSize"/> to <paramref name="outputSize"/> features.</summary>
    /// <param name="inputSize">Input features.</param>
    /// <param name="outputSize">Output features.</param>
    /// <param name="activation">The fused activation.</param>
    /// <param name="threads">GEMM threads; 0 means <see cref="Gemm.DefaultThreads"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive or <paramref name="threads"/> is negative.</exception>
    public Linear(int inputSize, int outputSize, Activation activation = Activation.None, int threads = 0) : base(inputSize, outputSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        Activation = activation;
        _threads = threads;
    }

    /// <summary>The fused activation.</summary>
    public Activation Activation { get; }

    /// <inheritdoc />
    public override int ParameterCount => OutputSize * InputSize + OutputSize;

    /// <summary>The weight matrix, out x in, row-major.</summary>
    public Span<float> Weights => Parameters[..(OutputSize * InputSize)];

    /// <summary>The bias, length out.</summary>
    public Span<float> Bias => Parameters[(OutputSize * InputSize)..];

    /// <summary>
    /// He/LeCun-style uniform initialisation: W ~ U(-a, a) with a = sqrt(3 g / in), g = 2 before SiLU and 1 otherwise;
    /// zero bias.
    /// </summary>
    public override void Initialize(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        float a = MathF.Sqrt(3f * (Activation == Activation.SiLU ? 2f : 1f) / InputSize);
        var w = Weights;
        for (int i = 0; i < w.Length; i++) w[i] = a * (float)(2 * random.NextDouble() - 1);
        Bias.Clear();
    }

    /// <inheritdoc />
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int rows)
    {
        CheckForward(input, output, rows);
        int n = OutputSize;
        Span<float> z = output;
        if (Activation != Activation.None)
        {
            Ensure(ref _z, rows * n);
            z = _z.AsSpan(0, rows * n);
        }
        Gemm.Multiply(false, true, rows, n, InputSize, 1f, input, Weights, 0f, z, _threads);
        ReadOnlySpan<float> bias = Bias;
        for (int r = 0; r < rows; r++)
        {
            var zr = z.Slice(r * n, n);
            TensorPrimitives.Add(zr, bias, zr);
            if (Activation == Activation.SiLU) SiLU.Apply(zr, output.Slice(r * n, n));
        }
    }

    /// <summary>Tangent: dz = t W^T (the bias is constant), then dy = silu'(z) dz with z cached by the forward pass.</summary>
    internal override void Tangent(ReadOnlySpan<float> input, ReadOnlySpan<float> tangent, Span<float> tangentOutput, int rows)
    {
        int n = OutputSize;
        Gemm.Multiply(false, true, rows, n, InputSize, 1f, tangent, Weights, 0f, tangentOutput, _threads);
        if (Activation != Activation.SiLU) return;
        Ensure(ref _tangentScratch, rows * n);
        // Elementwise, so the output may be the tangent it scales.
        SiLU.Derivative(_z.AsSpan(0, rows * n), tangentOutput, tangentOutput, _tangentScratch.AsSpan(0, rows * n));
    }

    /// <inheritdoc />
    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int rows)
    {
        CheckBackward(input, output, outputGradient, inputGradient, rows);
        int n = OutputSize, k = InputSize;
        ReadOnlySpan<float> dz = outputGradient;
        if (Activation == Activation.SiLU)
        {
            Ensure(ref _dz, rows * n);
            Ensure(ref _scratch, rows * n);
            SiLU.Derivative(_z.AsSpan(0, rows * n), outputGradient, _dz.AsSpan(0, rows * n), _scratch.AsSpan(0, rows * n));
            dz = _dz.AsSpan(0, rows * n);
        }
        var grads = Gradients;
        // dW += dz^T x  (dz stored rows x n = k' x m', x stored rows x k).
        Gemm.Multiply(true, false, n, k, rows, 1f, dz, input, 1f, grads[..(n * k)], _threads);
        var db = grads[(n * k)..];
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(db, dz.Slice(r * n, n), db);
        if (!inputGradient.IsEmpty)
            Gemm.Multiply(false, false, rows, k, n, 1f, dz, Weights, 0f, inputGradient, _threads);
    }
}
