using System.Numerics.Tensors;

namespace MLExtensions.Diffusion.Training;

/// <summary>
/// Layer normalisation y = (x - mean) / sqrt(var + epsilon) * gamma + beta over the features of each row
/// (Ba, Kiros, Hinton, arXiv:1607.06450). Parameters: gamma then beta.
/// </summary>
public sealed class LayerNorm : Layer
{
    private float[] _xhat = [];
    private float[] _rstd = [];
    private float[] _dxhat = [];

    /// <summary>Layer normalisation of rows of <paramref name="size"/> features.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is not positive or epsilon is not positive.</exception>
    public LayerNorm(int size, float epsilon = 1e-5f) : base(size, size)
    {
        if (!(epsilon > 0) || !float.IsFinite(epsilon)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be finite and positive.");
        Epsilon = epsilon;
    }

    /// <summary>The variance floor.</summary>
    public float Epsilon { get; }

    /// <inheritdoc />
    public override int ParameterCount => 2 * InputSize;

    /// <summary>Sets gamma = 1, beta = 0.</summary>
    public override void Initialize(Random random)
    {
        Parameters[..InputSize].Fill(1f);
        Parameters[InputSize..].Clear();
    }

    /// <inheritdoc />
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int rows)
    {
        CheckForward(input, output, rows);
        int d = InputSize;
        Ensure(ref _xhat, rows * d);
        Ensure(ref _rstd, rows);
        ReadOnlySpan<float> gamma = Parameters[..d], beta = Parameters[d..];
        for (int r = 0; r < rows; r++)
        {
            var x = input.Slice(r * d, d);
            var xh = _xhat.AsSpan(r * d, d);
            float mean = TensorPrimitives.Sum(x) / d;
            TensorPrimitives.Subtract(x, mean, xh);
            float variance = TensorPrimitives.SumOfSquares(xh) / d;
            float rstd = 1f / MathF.Sqrt(variance + Epsilon);
            _rstd[r] = rstd;
            TensorPrimitives.Multiply(xh, rstd, xh);
            TensorPrimitives.FusedMultiplyAdd(xh, gamma, beta, output.Slice(r * d, d));
        }
    }

    /// <summary>
    /// Tangent: with xhat = (x - mean) r, r = (var + epsilon)^(-1/2) cached by the forward pass,
    /// d xhat = r (t - mean(t) - xhat mean(xhat t)) and dy = gamma d xhat.
    /// </summary>
    internal override void Tangent(ReadOnlySpan<float> input, ReadOnlySpan<float> tangent, Span<float> tangentOutput, int rows)
    {
        int d = InputSize;
        ReadOnlySpan<float> gamma = Parameters[..d];
        for (int r = 0; r < rows; r++)
        {
            var t = tangent.Slice(r * d, d);
            var xh = _xhat.AsSpan(r * d, d);
            var dy = tangentOutput.Slice(r * d, d);
            float meanT = TensorPrimitives.Sum(t) / d;
            float meanXT = TensorPrimitives.Dot(xh, t) / d;
            TensorPrimitives.Multiply(xh, -meanXT, dy);
            TensorPrimitives.Add(dy, t, dy);
            TensorPrimitives.Subtract(dy, meanT, dy);
            TensorPrimitives.Multiply(dy, _rstd[r], dy);
            TensorPrimitives.Multiply(dy, gamma, dy);
        }
    }

    /// <inheritdoc />
    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int rows)
    {
        CheckBackward(input, output, outputGradient, inputGradient, rows);
        int d = InputSize;
        Ensure(ref _dxhat, d);
        ReadOnlySpan<float> gamma = Parameters[..d];
        var dgamma = Gradients[..d];
        var dbeta = Gradients[d..];
        var dxh = _dxhat.AsSpan(0, d);
        for (int r = 0; r < rows; r++)
        {
            var dy = outputGradient.Slice(r * d, d);
            var xh = _xhat.AsSpan(r * d, d);
            TensorPrimitives.FusedMultiplyAdd(dy, xh, dgamma, dgamma);
            TensorPrimitives.Add(dbeta, dy, dbeta);
            if (inputGradient.IsEmpty) continue;
            TensorPrimitives.Multiply(dy, gamma, dxh);
            float meanD = TensorPrimitives.Sum(dxh) / d;
            float meanDX = TensorPrimitives.Dot(dxh, xh) / d;
            var dx = inputGradient.Slice(r * d, d);
            // dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat))
            TensorPrimitives.Multiply(xh, -meanDX, dx);
            TensorPrimitives.Add(dx, dxh, dx);
            TensorPrimitives.Subtract(dx, meanD, dx);
            TensorPrimitives.Multiply(dx, _rstd[r], dx);
        }
    }
}
