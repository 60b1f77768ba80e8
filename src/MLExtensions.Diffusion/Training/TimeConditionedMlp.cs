namespace MLExtensions.Diffusion.Training;

/// <summary>
/// A noise-conditioned MLP F(x, c_noise): the input row x (already scaled, e.g. by EDM's c_in) is concatenated with
/// Fourier features of c_noise, then passes through a SiLU layer of <see cref="MlpOptions.Width"/>, Depth - 1 further
/// SiLU layers (or residual blocks), and a linear output layer back to the data dimension. With
/// <see cref="TimeConditioning.EveryLayer"/> a learned projection of the embedding is also added to the input of every
/// hidden layer after the first.
/// </summary>
/// <remarks>
/// <para>All parameters live in one contiguous <see cref="Parameters"/> array with a <see cref="Gradients"/> array of
/// the same layout, so optimisers, EMA, clipping and export work on flat spans.</para>
/// <para>Workspace buffers grow with the largest batch seen and are then reused: a forward/backward step allocates
/// nothing. Not thread-safe.</para>
/// </remarks>
public sealed class TimeConditionedMlp
{
    private readonly SinusoidalTimeEmbedding _embedding;
    private readonly Layer[] _layers;
    private readonly Linear?[] _projections;
    private float[][] _projected;
    private float[][] _activations;
    private float[][] _activationGradients;
    private float[] _embedded = [];
    private float[][] _tangents;
    private int _capacity;
    private int _forwardRows;
    private readonly InputJob _inputJob;

    /// <summary>Rows per block of the first layer's input (embedding and concatenation).</summary>
    private const int InputBlockRows = 64;

    /// <summary>Builds and initialises a network for data of dimension <paramref name="dimension"/>.</summary>
    /// <param name="dimension">The data dimension d (input and output features).</param>
    /// <param name="options">The architecture.</param>
    /// <param name="random">Initialisation randomness (seeded for reproducibility).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive or an option is out of range.</exception>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public TimeConditionedMlp(int dimension, MlpOptions options, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(random);
        options.Validate();
        Dimension = dimension;
        Options = options;
        _embedding = new SinusoidalTimeEmbedding(options.EmbeddingFrequencies);
        _inputJob = new InputJob(_embedding);
        int w = options.Width, t = options.Threads;
        var layers = new List<Layer> { new Linear(dimension + _embedding.OutputSize, w, Activation.SiLU, t) };
        for (int i = 1; i < options.Depth; i++)
            layers.Add(options.Residual ? new ResidualBlock(w, w, options.LayerNorm, t) : new Linear(w, w, Activation.SiLU, t));
        layers.Add(new Linear(w, dimension, Activation.None, t));
        _layers = layers.ToArray();
        // _projections[i] (EveryLayer only) adds P_i emb to the input of hidden layer i >= 1.
        _projections = new Linear?[_layers.Length];
        if (options.TimeConditioning == TimeConditioning.EveryLayer)
            for (int i = 1; i < _layers.Length - 1; i++) _projections[i] = new Linear(_embedding.OutputSize, w, Activation.None, t);
        var all = _layers.Concat(_projections.Where(p => p is not null).Select(p => (Layer)p!)).ToArray();
        int count = all.Sum(l => l.ParameterCount);
        Parameters = new float[count];
        Gradients = new float[count];
        int offset = 0;
        foreach (var layer in all)
        {
            layer.Bind(Parameters, Gradients, offset);
            layer.Initialize(random);
            offset += layer.ParameterCount;
        }
        _activations = new float[_layers.Length + 1][];
        _activationGradients = new float[_layers.Length + 1][];
        _projected = new float[_layers.Length][];
        _tangents = new float[_layers.Length + 1][];
    }

    /// <summary>The data dimension d.</summary>
    public int Dimension { get; }

    /// <summary>The architecture.</summary>
    public MlpOptions Options { get; }

    /// <summary>All trainable parameters, contiguous.</summary>
    public float[] Parameters { get; }

    /// <summary>Gradients of the last backward pass (accumulated until <see cref="ZeroGradients"/>), same layout.</summary>
    public float[] Gradients { get; }

    /// <summary>The layers after the embedding, in order.</summary>
    public IReadOnlyList<Layer> Layers => _layers;

    /// <summary>The noise-level embedding (read by the ONNX exporter).</summary>
    internal SinusoidalTimeEmbedding Embedding => _embedding;

    /// <summary>Per layer, the projection of the embedding added to its input (EveryLayer conditioning), or null (read by the ONNX exporter).</summary>
    internal IReadOnlyList<Linear?> Projections => _projections;

    /// <summary>The multiply-add count of one forward pass per row, times 2 (GEMM floating-point operations).</summary>
    public long ForwardFlopsPerRow => _layers.OfType<Linear>().Sum(l => 2L * l.InputSize * l.OutputSize)
        + _layers.OfType<ResidualBlock>().Sum(b => 4L * b.InputSize * b.InputSize)
        + _projections.Sum(p => p is null ? 0 : 2L * p.InputSize * p.OutputSize);

    /// <summary>The GEMM floating-point operations of one backward pass per row (no input gradient for the first layer or the embedding projections).</summary>
    public long BackwardFlopsPerRow => 2 * ForwardFlopsPerRow - 2L * _layers[0].InputSize * _layers[0].OutputSize
        - _projections.Sum(p => p is null ? 0 : 2L * p.InputSize * p.OutputSize);

    /// <summary>Sets <see cref="Gradients"/> to zero.</summary>
    public void ZeroGradients() => Array.Clear(Gradients);

    /// <summary>Evaluates the network on a batch.</summary>
    /// <param name="x">rows x d network inputs (already preconditioned).</param>
    /// <param name="noiseConditioning">c_noise per row, length rows.</param>
    /// <param name="output">rows x d network outputs.</param>
    /// <exception cref="ArgumentException">A span is empty, mis-sized, or holds a non-finite value.</exception>
    public void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> noiseConditioning, Span<float> output)
    {
        int d = Dimension;
        if (x.Length == 0 || x.Length % d != 0) throw new ArgumentException($"The input length {x.Length} is not a positive multiple of {d}.", nameof(x));
        int rows = x.Length / d;
        if (noiseConditioning.Length != rows) throw new ArgumentException($"Expected {rows} noise levels, got {noiseConditioning.Length}.", nameof(noiseConditioning));
        if (output.Length != x.Length) throw new ArgumentException("The output must have the input's length.", nameof(output));
        if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll(noiseConditioning))
            throw new ArgumentException("The noise conditioning holds a non-finite value.", nameof(noiseConditioning));
        EnsureCapacity(rows);
        int e = _embedding.OutputSize, inSize = d + e;
        var emb = _embedded.AsSpan(0, rows * e);
        var input = _activations[0].AsSpan(0, rows * inSize);
        // The Fourier features (sin/cos, the costliest elementwise work of the step) and the concatenation, in fixed
        // blocks of rows shared with the GEMM workers; row by row, so the same bits for any thread count.
        unsafe
        {
            fixed (float* px = x)
            fixed (float* pc = noiseConditioning)
            fixed (float* pe = emb)
            fixed (float* pi = input)
            {
                _inputJob.Set(px, pc, pe, pi, d);
                int threads = rows < 2 * InputBlockRows ? 1 : Options.Threads == 0 ? Gemm.DefaultThreads : Options.Threads;
                GemmWorkerTeam.RunRows(_inputJob, rows, InputBlockRows, threads);
            }
        }
        for (int i = 0; i < _layers.Length; i++)
        {
            var layer = _layers[i];
            var layerInput = _activations[i].AsSpan(0, rows * layer.InputSize);
            if (_projections[i] is { } projection)
            {
                // The previous layer's backward pass does not read its output values, so adding in place is safe.
                var projected = _projected[i].AsSpan(0, rows * projection.OutputSize);
                projection.Forward(emb, projected, rows);
                System.Numerics.Tensors.TensorPrimitives.Add(layerInput, projected, layerInput);
            }
            layer.Forward(layerInput, _activations[i + 1].AsSpan(0, rows * layer.OutputSize), rows);
        }
        _activations[^1].AsSpan(0, rows * d).CopyTo(output);
        _forwardRows = rows;
    }

    /// <summary>Adds dLoss/dParameters to <see cref="Gradients"/> given dLoss/dOutput of the preceding <see cref="Forward"/>.</summary>
    /// <exception cref="InvalidOperationException">No forward pass preceded.</exception>
    /// <exception cref="ArgumentException">The gradient does not match the forward batch.</exception>
    public void Backward(ReadOnlySpan<float> outputGradient)
    {
        int rows = _forwardRows;
        if (rows == 0) throw new InvalidOperationException("Backward needs a preceding Forward.");
        if (outputGradient.Length != rows * Dimension)
            throw new ArgumentException($"The output gradient has length {outputGradient.Length}, expected {rows * Dimension}.", nameof(outputGradient));
        outputGradient.CopyTo(_activationGradients[^1].AsSpan(0, rows * Dimension));
        for (int i = _layers.Length - 1; i >= 0; i--)
        {
            var layer = _layers[i];
            int inLen = rows * layer.InputSize, outLen = rows * layer.OutputSize;
            layer.Backward(_activations[i].AsSpan(0, inLen), _activations[i + 1].AsSpan(0, outLen),
                _activationGradients[i + 1].AsSpan(0, outLen), i == 0 ? default : _activationGradients[i].AsSpan(0, inLen), rows);
            if (_projections[i] is { } projection)
            {
                int e = projection.InputSize;
                projection.Backward(_embedded.AsSpan(0, rows * e), _projected[i].AsSpan(0, inLen), _activationGradients[i].AsSpan(0, inLen), default, rows);
            }
        }
    }

    /// <summary>
    /// Evaluates the network and its forward-mode derivative in the input rows: output = F(x, c) and
    /// tangentOutput = (dF/dx) t, one tangent per row (the noise embedding and its projections are constant in x).
    /// For inference only: the tangent buffers are apart from training's, and the call allocates nothing once the
    /// batch size has been seen. Overwrites the forward cache, so do not call it between a training
    /// <see cref="Forward"/> and its <see cref="Backward"/>.
    /// </summary>
    /// <param name="x">rows x d network inputs (already preconditioned).</param>
    /// <param name="noiseConditioning">c_noise per row, length rows.</param>
    /// <param name="tangent">rows x d input tangents.</param>
    /// <param name="output">rows x d network outputs.</param>
    /// <param name="tangentOutput">rows x d output tangents.</param>
    /// <exception cref="ArgumentException">A span is empty, mis-sized, or holds a non-finite value.</exception>
    internal void JacobianVectorProduct(ReadOnlySpan<float> x, ReadOnlySpan<float> noiseConditioning, ReadOnlySpan<float> tangent, Span<float> output, Span<float> tangentOutput)
    {
        if (tangent.Length != x.Length) throw new ArgumentException("The tangent must have the input's length.", nameof(tangent));
        if (tangentOutput.Length != x.Length) throw new ArgumentException("The tangent output must have the input's length.", nameof(tangentOutput));
        Forward(x, noiseConditioning, output);
        int d = Dimension, rows = x.Length / d, inSize = _layers[0].InputSize;
        var first = _tangents[0].AsSpan(0, rows * inSize);
        first.Clear();
        for (int r = 0; r < rows; r++) tangent.Slice(r * d, d).CopyTo(first.Slice(r * inSize, d));
        for (int i = 0; i < _layers.Length; i++)
        {
            var layer = _layers[i];
            layer.Tangent(_activations[i].AsSpan(0, rows * layer.InputSize), _tangents[i].AsSpan(0, rows * layer.InputSize),
                _tangents[i + 1].AsSpan(0, rows * layer.OutputSize), rows);
        }
        _tangents[^1].AsSpan(0, rows * d).CopyTo(tangentOutput);
    }

    private void EnsureCapacity(int rows)
    {
        if (rows <= _capacity) return;
        _activations[0] = new float[rows * _layers[0].InputSize];
        _tangents[0] = new float[rows * _layers[0].InputSize];
        _activationGradients[0] = [];
        for (int i = 0; i < _layers.Length; i++)
        {
            _activations[i + 1] = new float[rows * _layers[i].OutputSize];
            _activationGradients[i + 1] = new float[rows * _layers[i].OutputSize];
            _tangents[i + 1] = new float[rows * _layers[i].OutputSize];
        }
        _embedded = new float[rows * _embedding.OutputSize];
        for (int i = 0; i < _projections.Length; i++)
            _projected[i] = _projections[i] is { } p ? new float[rows * p.OutputSize] : [];
        _capacity = rows;
    }

    /// <summary>Rows of the first layer's input: the data row, then the Fourier features of its c_noise (which are
    /// also kept apart for the embedding projections).</summary>
    private sealed unsafe class InputJob(SinusoidalTimeEmbedding embedding) : RowJob
    {
        private float* _x, _noise, _embedded, _input;
        private int _d;

        public void Set(float* x, float* noise, float* embedded, float* input, int d)
        {
            _x = x;
            _noise = noise;
            _embedded = embedded;
            _input = input;
            _d = d;
        }

        public override void Run(int start, int end)
        {
            int d = _d, e = embedding.OutputSize, inSize = d + e, rows = end - start;
            var emb = new Span<float>(_embedded + (long)start * e, rows * e);
            embedding.Forward(new ReadOnlySpan<float>(_noise + start, rows), emb, rows);
            for (int r = 0; r < rows; r++)
            {
                float* row = _input + (long)(start + r) * inSize;
                new ReadOnlySpan<float>(_x + (long)(start + r) * d, d).CopyTo(new Span<float>(row, d));
                emb.Slice(r * e, e).CopyTo(new Span<float>(row + d, e));
            }
        }
    }
}
