namespace MLExtensions.Diffusion.Training;

/// <summary>
/// A pre-norm residual block y = x + W2 SiLU(W1 LN(x) + b1) + b2 of constant width (He et al., CVPR 2016; the layer
/// norm is optional). Parameters: layer norm (if any), first linear, second linear.
/// </summary>
public sealed class ResidualBlock : Layer
{
    private readonly LayerNorm? _norm;
    private readonly Linear _first;
    private readonly Linear _second;
    private float[] _normed = [];
    private float[] _hidden = [];
    private float[] _branch = [];
    private float[] _dHidden = [];
    private float[] _dNormed = [];
    private float[] _tNormed = [];
    private float[] _tHidden = [];
    private float[] _tBranch = [];

    /// <summary>A residual block of width <paramref name="width"/> with hidden width <paramref name="hiddenWidth"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A width is not positive or <paramref name="threads"/> is negative.</exception>
    public ResidualBlock(int width, int hiddenWidth, bool layerNorm, int threads = 0) : base(width, width)
    {
        _norm = layerNorm ? new LayerNorm(width) : null;
        _first = new Linear(width, hiddenWidth, Activation.SiLU, threads);
        _second = new Linear(hiddenWidth, width, Activation.None, threads);
    }

    /// <summary>The optional leading layer norm (read by the ONNX exporter).</summary>
    internal LayerNorm? Norm => _norm;

    /// <summary>The first (SiLU) linear layer of the branch (read by the ONNX exporter).</summary>
    internal Linear First => _first;

    /// <summary>The second (linear) layer of the branch (read by the ONNX exporter).</summary>
    internal Linear Second => _second;

    /// <inheritdoc />
    public override int ParameterCount => (_norm?.ParameterCount ?? 0) + _first.ParameterCount + _second.ParameterCount;

    /// <inheritdoc />
    public override void Bind(float[] parameters, float[] gradients, int offset)
    {
        base.Bind(parameters, gradients, offset);
        if (_norm is not null)
        {
            _norm.Bind(parameters, gradients, offset);
            offset += _norm.ParameterCount;
        }
        _first.Bind(parameters, gradients, offset);
        _second.Bind(parameters, gradients, offset + _first.ParameterCount);
    }

    /// <summary>Initialises the sub-layers; the second linear is scaled down by 1/2 so the block starts near identity.</summary>
    public override void Initialize(Random random)
    {
        _norm?.Initialize(random);
        _first.Initialize(random);
        _second.Initialize(random);
        var w = _second.Weights;
        for (int i = 0; i < w.Length; i++) w[i] *= 0.5f;
    }

    /// <inheritdoc />
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int rows)
    {
        CheckForward(input, output, rows);
        int w = InputSize, h = _first.OutputSize;
        ReadOnlySpan<float> normed = input;
        if (_norm is not null)
        {
            Ensure(ref _normed, rows * w);
            _norm.Forward(input, _normed.AsSpan(0, rows * w), rows);
            normed = _normed.AsSpan(0, rows * w);
        }
        Ensure(ref _hidden, rows * h);
        Ensure(ref _branch, rows * w);
        var hidden = _hidden.AsSpan(0, rows * h);
        var branch = _branch.AsSpan(0, rows * w);
        _first.Forward(normed, hidden, rows);
        _second.Forward(hidden, branch, rows);
        System.Numerics.Tensors.TensorPrimitives.Add(input, branch, output);
    }

    /// <summary>Tangent: dy = t + W2 (silu'(z1) . (W1 dLN(t))), through the sub-layers' own tangents.</summary>
    internal override void Tangent(ReadOnlySpan<float> input, ReadOnlySpan<float> tangent, Span<float> tangentOutput, int rows)
    {
        int w = InputSize, h = _first.OutputSize;
        ReadOnlySpan<float> normed = input, normedTangent = tangent;
        if (_norm is not null)
        {
            Ensure(ref _tNormed, rows * w);
            _norm.Tangent(input, tangent, _tNormed.AsSpan(0, rows * w), rows);
            normed = _normed.AsSpan(0, rows * w);
            normedTangent = _tNormed.AsSpan(0, rows * w);
        }
        Ensure(ref _tHidden, rows * h);
        Ensure(ref _tBranch, rows * w);
        var hiddenTangent = _tHidden.AsSpan(0, rows * h);
        var branchTangent = _tBranch.AsSpan(0, rows * w);
        _first.Tangent(normed, normedTangent, hiddenTangent, rows);
        _second.Tangent(_hidden.AsSpan(0, rows * h), hiddenTangent, branchTangent, rows);
        System.Numerics.Tensors.TensorPrimitives.Add(tangent, branchTangent, tangentOutput);
    }

    /// <inheritdoc />
    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int rows)
    {
        CheckBackward(input, output, outputGradient, inputGradient, rows);
        int w = InputSize, h = _first.OutputSize;
        ReadOnlySpan<float> normed = _norm is null ? input : _normed.AsSpan(0, rows * w);
        Ensure(ref _dHidden, rows * h);
        Ensure(ref _dNormed, rows * w);
        var dHidden = _dHidden.AsSpan(0, rows * h);
        var dNormed = _dNormed.AsSpan(0, rows * w);
        _second.Backward(_hidden.AsSpan(0, rows * h), _branch.AsSpan(0, rows * w), outputGradient, dHidden, rows);
        bool needInput = !inputGradient.IsEmpty;
        if (_norm is null)
        {
            _first.Backward(normed, _hidden.AsSpan(0, rows * h), dHidden, needInput ? inputGradient : default, rows);
        }
        else
        {
            _first.Backward(normed, _hidden.AsSpan(0, rows * h), dHidden, dNormed, rows);
            _norm.Backward(input, normed, dNormed, needInput ? inputGradient : default, rows);
        }
        if (needInput) System.Numerics.Tensors.TensorPrimitives.Add(inputGradient, outputGradient, inputGradient);
    }
}
