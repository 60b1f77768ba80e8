using System.Numerics;
using System.Numerics.Tensors;

namespace MLExtensions.Diffusion.Training;

/// <summary>The SiLU (swish) activation y = x sigmoid(x), elementwise (Elfwing, Uchibe, Doya, Neural Networks 107, 2018).</summary>
public sealed class SiLU : Layer
{
    private float[] _sigmoid = [];
    private float[] _tangentScratch = [];

    /// <summary>An elementwise SiLU on rows of <paramref name="size"/> features.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is not positive.</exception>
    public SiLU(int size) : base(size, size) { }

    /// <inheritdoc />
    public override int ParameterCount => 0;

    /// <inheritdoc />
    public override void Initialize(Random random) { }

    /// <inheritdoc />
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int rows)
    {
        CheckForward(input, output, rows);
        Apply(input, output);
    }

    /// <inheritdoc />
    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int rows)
    {
        CheckBackward(input, output, outputGradient, inputGradient, rows);
        if (inputGradient.IsEmpty) return;
        Ensure(ref _sigmoid, input.Length);
        Derivative(input, outputGradient, inputGradient, _sigmoid.AsSpan(0, input.Length));
    }

    /// <summary>Tangent: dy = silu'(x) t elementwise.</summary>
    internal override void Tangent(ReadOnlySpan<float> input, ReadOnlySpan<float> tangent, Span<float> tangentOutput, int rows)
    {
        Ensure(ref _tangentScratch, input.Length);
        Derivative(input, tangent, tangentOutput, _tangentScratch.AsSpan(0, input.Length));
    }

    /// <summary>y = z sigmoid(z); <paramref name="y"/> may alias <paramref name="z"/> only if it is the same span.</summary>
    internal static void Apply(ReadOnlySpan<float> z, Span<float> y)
    {
        if (y.Overlaps(z))
        {
            // In place: y holds z. Use the identity silu(z) = z / (1 + exp(-z)) elementwise.
            int i = 0;
            for (; i + Vector<float>.Count <= y.Length; i += Vector<float>.Count)
            {
                var v = new Vector<float>(y[i..]);
                (v / (Vector<float>.One + Vector.Exp(-v))).CopyTo(y[i..]);
            }
            for (; i < y.Length; i++) y[i] = y[i] / (1f + MathF.Exp(-y[i]));
            return;
        }
        TensorPrimitives.Sigmoid(z, y);
        TensorPrimitives.Multiply(y, z, y);
    }

    /// <summary>dz = dy silu'(z) with silu'(z) = s (1 + z (1 - s)), s = sigmoid(z); <paramref name="scratch"/> has z's length.</summary>
    internal static void Derivative(ReadOnlySpan<float> z, ReadOnlySpan<float> dy, Span<float> dz, Span<float> scratch)
    {
        TensorPrimitives.Sigmoid(z, scratch);
        DerivativeFromSigmoid(z, scratch, dy, dz);
    }

    /// <summary>dz = dy silu'(z) = dy s (1 + z (1 - s)) given s = sigmoid(z) (e.g. kept by a forward pass).</summary>
    internal static void DerivativeFromSigmoid(ReadOnlySpan<float> z, ReadOnlySpan<float> sigmoid, ReadOnlySpan<float> dy, Span<float> dz)
    {
        int i = 0;
        for (; i + Vector<float>.Count <= z.Length; i += Vector<float>.Count)
        {
            var s = new Vector<float>(sigmoid[i..]);
            var zz = new Vector<float>(z[i..]);
            var g = new Vector<float>(dy[i..]);
            (g * s * (Vector<float>.One + zz * (Vector<float>.One - s))).CopyTo(dz[i..]);
        }
        for (; i < z.Length; i++)
        {
            float s = sigmoid[i];
            dz[i] = dy[i] * s * (1f + z[i] * (1f - s));
        }
    }
}
