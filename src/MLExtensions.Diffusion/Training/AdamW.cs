using System.Numerics;

namespace MLExtensions.Diffusion.Training;

/// <summary>
/// Adam with bias correction and decoupled weight decay (Kingma and Ba, arXiv:1412.6980; Loshchilov and Hutter,
/// arXiv:1711.05101): m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
/// p -= lr (mhat / (sqrt(vhat) + eps) + wd p) with mhat = m / (1 - b1^t), vhat = v / (1 - b2^t).
/// </summary>
public sealed class AdamW
{
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
        int i = 0, w = Vector<float>.Count;
        var vb1 = new Vector<float>(b1); var vb2 = new Vector<float>(b2);
        var v1b1 = new Vector<float>(1 - b1); var v1b2 = new Vector<float>(1 - b2);
        var vc1 = new Vector<float>(c1); var vc2 = new Vector<float>(c2);
        var vlr = new Vector<float>(lr); var vdecay = new Vector<float>(decay); var veps = new Vector<float>(eps);
        for (; i + w <= parameters.Length; i += w)
        {
            var g = new Vector<float>(gradients[i..]);
            var m = vb1 * new Vector<float>(_m, i) + v1b1 * g;
            var v = vb2 * new Vector<float>(_v, i) + v1b2 * g * g;
            m.CopyTo(_m, i);
            v.CopyTo(_v, i);
            var p = new Vector<float>(parameters[i..]) * vdecay - vlr * (m * vc1) / (Vector.SquareRoot(v * vc2) + veps);
            p.CopyTo(parameters[i..]);
        }
        for (; i < parameters.Length; i++)
        {
            float g = gradients[i];
            float m = _m[i] = b1 * _m[i] + (1 - b1) * g;
            float v = _v[i] = b2 * _v[i] + (1 - b2) * g * g;
            parameters[i] = parameters[i] * decay - lr * (m * c1) / (MathF.Sqrt(v * c2) + eps);
        }
    }
}
