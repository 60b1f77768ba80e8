using System.Numerics.Tensors;

namespace MLExtensions.Diffusion.Training;

/// <summary>
/// A dense layer y = act(x W^T + b) with W stored out x in (row-major) followed by b in the parameter slice, the bias
/// and activation fused into one pass after the <see cref="Gemm"/>, run in fixed blocks of rows that the GEMM's worker
/// threads share (as is the backward pass's activation gradient and bias-gradient sum), so results do not depend on
/// the thread count.
/// </summary>
public sealed unsafe class Linear : Layer
{
    /// <summary>Rows per block of the elementwise work shared with the GEMM workers (fixed, so results do not depend on
    /// the thread count).</summary>
    private const int BlockRows = 64;

    /// <summary>Below this many elements (rows x outputs) the elementwise work stays on the calling thread: waking a
    /// worker costs more than it saves. The blocks are the same either way.</summary>
    private const int ParallelElements = 1 << 15;

    private readonly int _threads;
    private readonly BiasActivationJob _forwardJob = new();
    private readonly ActivationGradientJob _backwardJob = new();
    private float[] _z = [];
    private float[] _dz = [];
    private float[] _sigmoid = [];
    private float[] _tangentScratch = [];
    private float[] _biasPartials = [];

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
            Ensure(ref _sigmoid, rows * n);
            z = _z.AsSpan(0, rows * n);
        }
        Gemm.Multiply(false, true, rows, n, InputSize, 1f, input, Weights, 0f, z, _threads);
        fixed (float* pz = z)
        fixed (float* po = output)
        fixed (float* pb = Bias)
        fixed (float* ps = _sigmoid)
        {
            _forwardJob.Set(pz, po, pb, ps, n, Activation == Activation.SiLU);
            GemmWorkerTeam.RunRows(_forwardJob, rows, BlockRows, ThreadsFor(rows));
        }
    }

    private int ThreadsFor(int rows) => (long)rows * OutputSize < ParallelElements ? 1 : _threads == 0 ? Gemm.DefaultThreads : _threads;

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
        // dz = silu'(z) dy (or dy), and per block of rows the bias-gradient partial sum, shared with the GEMM workers;
        // the partials are then added in block order, so db is the same for any thread count.
        ReadOnlySpan<float> dz = outputGradient;
        bool silu = Activation == Activation.SiLU;
        if (silu)
        {
            Ensure(ref _dz, rows * n);
            dz = _dz.AsSpan(0, rows * n);
        }
        int blocks = (rows + BlockRows - 1) / BlockRows;
        Ensure(ref _biasPartials, blocks * n);
        fixed (float* pz = _z)
        fixed (float* pdy = outputGradient)
        fixed (float* pdz = _dz)
        fixed (float* ps = _sigmoid)
        fixed (float* pp = _biasPartials)
        {
            _backwardJob.Set(silu ? pz : null, pdy, silu ? pdz : pdy, ps, pp, n, BlockRows);
            GemmWorkerTeam.RunRows(_backwardJob, rows, BlockRows, ThreadsFor(rows));
        }
        var grads = Gradients;
        // dW += dz^T x  (dz stored rows x n = k' x m', x stored rows x k).
        Gemm.Multiply(true, false, n, k, rows, 1f, dz, input, 1f, grads[..(n * k)], _threads);
        var db = grads[(n * k)..];
        for (int b = 0; b < blocks; b++) TensorPrimitives.Add(db, _biasPartials.AsSpan(b * n, n), db);
        if (!inputGradient.IsEmpty)
            Gemm.Multiply(false, false, rows, k, n, 1f, dz, Weights, 0f, inputGradient, _threads);
    }

    /// <summary>Rows of z = x W^T: z += b, then (with SiLU) y = silu(z), keeping sigmoid(z); without an activation z is y.</summary>
    private sealed class BiasActivationJob : RowJob
    {
        private float* _z, _output, _bias, _sigmoid;
        private int _n;
        private bool _silu;

        public void Set(float* z, float* output, float* bias, float* sigmoid, int n, bool silu)
        {
            _z = z;
            _output = output;
            _bias = bias;
            _sigmoid = sigmoid;
            _n = n;
            _silu = silu;
        }

        public override void Run(int start, int end)
        {
            var bias = new ReadOnlySpan<float>(_bias, _n);
            for (int r = start; r < end; r++)
            {
                var z = new Span<float>(_z + (long)r * _n, _n);
                TensorPrimitives.Add(z, bias, z);
                if (_silu)
                {
                    // y = sigmoid(z) z (the bits of SiLU.Apply), keeping sigmoid(z) for the backward pass.
                    var s = new Span<float>(_sigmoid + (long)r * _n, _n);
                    TensorPrimitives.Sigmoid(z, s);
                    TensorPrimitives.Multiply(s, z, new Span<float>(_output + (long)r * _n, _n));
                }
            }
        }
    }

    /// <summary>Rows of dz = silu'(z) dy from z and the sigmoid(z) kept by the forward pass (when z is given; otherwise
    /// dz is dy), and per block the column sums of dz.</summary>
    private sealed class ActivationGradientJob : RowJob
    {
        private float* _z, _dy, _dz, _sigmoid, _partials;
        private int _n, _blockRows;

        public void Set(float* z, float* dy, float* dz, float* sigmoid, float* partials, int n, int blockRows)
        {
            _z = z;
            _dy = dy;
            _dz = dz;
            _sigmoid = sigmoid;
            _partials = partials;
            _n = n;
            _blockRows = blockRows;
        }

        public override void Run(int start, int end)
        {
            long offset = (long)start * _n;
            int length = (end - start) * _n;
            var dz = new Span<float>(_dz + offset, length);
            if (_z != null)
                SiLU.DerivativeFromSigmoid(new ReadOnlySpan<float>(_z + offset, length), new ReadOnlySpan<float>(_sigmoid + offset, length),
                    new ReadOnlySpan<float>(_dy + offset, length), dz);
            var partial = new Span<float>(_partials + (long)(start / _blockRows) * _n, _n);
            partial.Clear();
            for (int r = 0; r < end - start; r++) TensorPrimitives.Add(partial, dz.Slice(r * _n, _n), partial);
        }
    }
}
