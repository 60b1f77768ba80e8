using System.Numerics;

namespace MLExtensions.Diffusion.Training;

/// <summary>
/// Adam with bias correction and decoupled weight decay (Kingma and Ba, arXiv:1412.6980; Loshchilov and Hutter,
/// arXiv:1711.05101): m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
/// p -= lr (mhat / (sqrt(vhat) + eps) + wd p) with mhat = m / (1 - b1^t), vhat = v / (1 - b2^t).
/// </summary>
public sealed unsafe class AdamW
{
    private readonly UpdateJob _job = new();
    private readonly float[] _m;
    private readonly float[] _v;

    /// <summary>An optimiser for <paramref name="parameterCount"/> parameters.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count or hyper-parameter is out of range.</exception>
    public AdamW(int parameterCount, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(parameterCount);
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must lie in [0, 1).");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must lie in [0, 1).");
        if (!(epsilon > 0) || !double.IsFinite(epsilon)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be finite and positive.");
        if (!(weightDecay >= 0) || !double.IsFinite(weightDecay)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "The weight decay must be finite and non-negative.");
        _m = new float[parameterCount];
        _v = new float[parameterCount];
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
    }

    /// <summary>First-moment decay.</summary>
    public double Beta1 { get; }

    /// <summary>Second-moment decay.</summary>
    public double Beta2 { get; }

    /// <summary>Denominator floor.</summary>
    public double Epsilon { get; }

    /// <summary>Decoupled weight decay coefficient (multiplied by the learning rate).</summary>
    public double WeightDecay { get; }

    /// <summary>Threads that share an update (blocks of parameters on the GEMM worker team; the result is the same for
    /// any count); 0 means <see cref="Gemm.DefaultThreads"/>. Default 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int Threads
    {
        get => _threads;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _threads = value;
        }
    }

    private readonly int _threads = 1;

    /// <summary>Steps taken so far.</summary>
    public int StepCount { get; private set; }

    /// <summary>Applies one update with learning rate <paramref name="learningRate"/>.</summary>
    /// <exception cref="ArgumentException">Spans do not match the parameter count.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The learning rate is negative or not finite.</exception>
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients, double learningRate)
    {
        if (parameters.Length != _m.Length) throw new ArgumentException($"Expected {_m.Length} parameters.", nameof(parameters));
        if (gradients.Length != _m.Length) throw new ArgumentException($"Expected {_m.Length} gradients.", nameof(gradients));
        if (!(learningRate >= 0) || !double.IsFinite(learningRate)) throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be finite and non-negative.");
        StepCount++;
        float b1 = (float)Beta1, b2 = (float)Beta2;
        float c1 = (float)(1 / (1 - Math.Pow(Beta1, StepCount)));
        float c2 = (float)(1 / (1 - Math.Pow(Beta2, StepCount)));
        float lr = (float)learningRate, decay = (float)(1 - learningRate * WeightDecay), eps = (float)Epsilon;
        fixed (float* p = parameters)
        fixed (float* g = gradients)
        fixed (float* m = _m)
        fixed (float* v = _v)
        {
            _job.Set(p, g, m, v, b1, b2, c1, c2, lr, decay, eps);
            int threads = Threads == 0 ? Gemm.DefaultThreads : Threads;
            GemmWorkerTeam.RunRows(_job, parameters.Length, BlockSize, parameters.Length < ParallelSize ? 1 : threads);
        }
    }

    /// <summary>Parameters per block shared with the GEMM workers: a multiple of every vector width, so each element
    /// takes the same (vector or scalar) path for any thread count.</summary>
    private const int BlockSize = 8192;

    /// <summary>Below this many parameters the update stays on the calling thread.</summary>
    private const int ParallelSize = 4 * BlockSize;

    /// <summary>The update of a block of parameters (vector operations are the scalar ones lane by lane, no fused
    /// multiply-add, so the vector and scalar paths give the same bits).</summary>
    private sealed class UpdateJob : RowJob
    {
        private float* _p, _g, _m, _v;
        private float _b1, _b2, _c1, _c2, _lr, _decay, _eps;

        public void Set(float* p, float* g, float* m, float* v, float b1, float b2, float c1, float c2, float lr, float decay, float eps)
        {
            _p = p;
            _g = g;
            _m = m;
            _v = v;
            (_b1, _b2, _c1, _c2, _lr, _decay, _eps) = (b1, b2, c1, c2, lr, decay, eps);
        }

        public override void Run(int start, int end)
        {
            float b1 = _b1, b2 = _b2, c1 = _c1, c2 = _c2, lr = _lr, decay = _decay, eps = _eps;
            float* parameters = _p, gradients = _g, ms = _m, vs = _v;
            int i = start, w = Vector<float>.Count;
            var vb1 = new Vector<float>(b1); var vb2 = new Vector<float>(b2);
            var v1b1 = new Vector<float>(1 - b1); var v1b2 = new Vector<float>(1 - b2);
            var vc1 = new Vector<float>(c1); var vc2 = new Vector<float>(c2);
            var vlr = new Vector<float>(lr); var vdecay = new Vector<float>(decay); var veps = new Vector<float>(eps);
            for (; i + w <= end; i += w)
            {
                var g = Vector.Load(gradients + i);
                var m = vb1 * Vector.Load(ms + i) + v1b1 * g;
                var v = vb2 * Vector.Load(vs + i) + v1b2 * g * g;
                m.Store(ms + i);
                v.Store(vs + i);
                var p = Vector.Load(parameters + i) * vdecay - vlr * (m * vc1) / (Vector.SquareRoot(v * vc2) + veps);
                p.Store(parameters + i);
            }
            for (; i < end; i++)
            {
                float g = gradients[i];
                float m = ms[i] = b1 * ms[i] + (1 - b1) * g;
                float v = vs[i] = b2 * vs[i] + (1 - b2) * g * g;
                parameters[i] = parameters[i] * decay - lr * (m * c1) / (MathF.Sqrt(v * c2) + eps);
            }
        }
    }
}
