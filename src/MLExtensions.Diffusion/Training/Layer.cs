namespace MLExtensions.Diffusion.Training;

/// <summary>
/// A differentiable map from rows of <see cref="InputSize"/> floats to rows of <see cref="OutputSize"/> floats, whose
/// parameters live in a slice of one contiguous parameter array shared by a whole network (with a gradient array of
/// the same layout).
/// </summary>
/// <remarks>
/// <para><see cref="Forward"/> caches what <see cref="Backward"/> needs in workspace buffers owned by the layer and
/// allocated once per batch size; <see cref="Backward"/> must follow the <see cref="Forward"/> of the same input. It
/// adds parameter gradients into the gradient slice (callers zero it once per step) and overwrites the input
/// gradient.</para>
/// <para>Layers are not thread-safe: one forward/backward at a time.</para>
/// </remarks>
public abstract class Layer
{
    private float[] _parameters = [];
    private float[] _gradients = [];
    private int _offset;

    /// <summary>Creates a layer mapping rows of <paramref name="inputSize"/> to rows of <paramref name="outputSize"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    protected Layer(int inputSize, int outputSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputSize);
        InputSize = inputSize;
        OutputSize = outputSize;
    }

    /// <summary>Features per input row.</summary>
    public int InputSize { get; }

    /// <summary>Features per output row.</summary>
    public int OutputSize { get; }

    /// <summary>The number of trainable floats.</summary>
    public abstract int ParameterCount { get; }

    /// <summary>This layer's parameters (a slice of the bound parameter array).</summary>
    public Span<float> Parameters => _parameters.AsSpan(_offset, ParameterCount);

    /// <summary>This layer's parameter gradients (same layout as <see cref="Parameters"/>).</summary>
    public Span<float> Gradients => _gradients.AsSpan(_offset, ParameterCount);

    /// <summary>Points the layer at its slice [offset, offset + ParameterCount) of shared parameter and gradient arrays.</summary>
    /// <exception cref="ArgumentException">The arrays differ in length or are too short.</exception>
    public virtual void Bind(float[] parameters, float[] gradients, int offset)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(gradients);
        if (gradients.Length != parameters.Length)
            throw new ArgumentException("The gradient array must have the parameter array's length.", nameof(gradients));
        if (offset < 0 || offset + ParameterCount > parameters.Length)
            throw new ArgumentException($"The slice [{offset}, {offset + ParameterCount}) does not fit {parameters.Length} parameters.", nameof(offset));
        _parameters = parameters;
        _gradients = gradients;
        _offset = offset;
    }

    /// <summary>Draws initial parameters.</summary>
    public abstract void Initialize(Random random);

    /// <summary>Computes the output rows and caches what the backward pass needs.</summary>
    /// <param name="input">rows x <see cref="InputSize"/>, row-major.</param>
    /// <param name="output">rows x <see cref="OutputSize"/>, row-major.</param>
    /// <param name="rows">The batch size.</param>
    public abstract void Forward(ReadOnlySpan<float> input, Span<float> output, int rows);

    /// <summary>Adds parameter gradients and writes the input gradient, given the output gradient.</summary>
    /// <param name="input">The input of the preceding <see cref="Forward"/>.</param>
    /// <param name="output">The output of the preceding <see cref="Forward"/>.</param>
    /// <param name="outputGradient">dLoss/dOutput, rows x <see cref="OutputSize"/>.</param>
    /// <param name="inputGradient">dLoss/dInput, rows x <see cref="InputSize"/>; empty to skip it.</param>
    /// <param name="rows">The batch size.</param>
    public abstract void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient,
        Span<float> inputGradient, int rows);

    /// <summary>
    /// Forward-mode differentiation (inference only, apart from training's <see cref="Backward"/>): writes the output
    /// tangent J t for input tangents t, J the layer's Jacobian at the input of the preceding <see cref="Forward"/> call
    /// (whose cached values it reads). Parameters are constants here.
    /// </summary>
    /// <param name="input">The input of the preceding <see cref="Forward"/>.</param>
    /// <param name="tangent">Input tangents, rows x <see cref="InputSize"/>.</param>
    /// <param name="tangentOutput">Output tangents, rows x <see cref="OutputSize"/>; must not overlap <paramref name="tangent"/>.</param>
    /// <param name="rows">The batch size.</param>
    /// <exception cref="NotSupportedException">The layer has no forward-mode derivative.</exception>
    internal virtual void Tangent(ReadOnlySpan<float> input, ReadOnlySpan<float> tangent, Span<float> tangentOutput, int rows) =>
        throw new NotSupportedException($"Layer type {GetType().Name} has no forward-mode derivative.");

    /// <summary>Grows a workspace buffer to at least <paramref name="length"/> floats (allocates only when it grows).</summary>
    protected static void Ensure(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[length];
    }

    /// <summary>Checks the spans of a forward call.</summary>
    protected void CheckForward(ReadOnlySpan<float> input, Span<float> output, int rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        if (input.Length != rows * InputSize) throw new ArgumentException($"The input has length {input.Length}, expected {rows * InputSize}.", nameof(input));
        if (output.Length != rows * OutputSize) throw new ArgumentException($"The output has length {output.Length}, expected {rows * OutputSize}.", nameof(output));
    }

    /// <summary>Checks the spans of a backward call.</summary>
    protected void CheckBackward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        if (input.Length != rows * InputSize) throw new ArgumentException($"The input has length {input.Length}, expected {rows * InputSize}.", nameof(input));
        if (output.Length != rows * OutputSize) throw new ArgumentException($"The output has length {output.Length}, expected {rows * OutputSize}.", nameof(output));
        if (outputGradient.Length != rows * OutputSize) throw new ArgumentException($"The output gradient has length {outputGradient.Length}, expected {rows * OutputSize}.", nameof(outputGradient));
        if (inputGradient.Length != 0 && inputGradient.Length != rows * InputSize)
            throw new ArgumentException($"The input gradient has length {inputGradient.Length}, expected 0 or {rows * InputSize}.", nameof(inputGradient));
    }
}
