using System.Numerics.Tensors;

namespace MLExtensions.Diffusion.Training;

/// <summary>
/// An exponential moving average of parameters, shadow = d shadow + (1 - d) p, with the warm-up decay
/// d_t = min(decay, (1 + t) / (10 + t)) so early averages are not dominated by the initialisation.
/// </summary>
public sealed class ExponentialMovingAverage
{
    private readonly float[] _shadow;

    /// <summary>Starts the average at <paramref name="initial"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="initial"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="decay"/> is not in [0, 1).</exception>
    public ExponentialMovingAverage(ReadOnlySpan<float> initial, double decay = 0.999)
    {
        if (initial.IsEmpty) throw new ArgumentException("There must be at least one parameter.", nameof(initial));
        if (!(decay >= 0 && decay < 1)) throw new ArgumentOutOfRangeException(nameof(decay), decay, "The decay must lie in [0, 1).");
        _shadow = initial.ToArray();
        Decay = decay;
    }

    /// <summary>The asymptotic decay.</summary>
    public double Decay { get; }

    /// <summary>Updates so far.</summary>
    public int UpdateCount { get; private set; }

    /// <summary>The averaged parameters.</summary>
    public ReadOnlySpan<float> Average => _shadow;

    /// <summary>Folds the current parameters into the average.</summary>
    /// <exception cref="ArgumentException">The length differs from the average's.</exception>
    public void Update(ReadOnlySpan<float> parameters)
    {
        if (parameters.Length != _shadow.Length) throw new ArgumentException($"Expected {_shadow.Length} parameters.", nameof(parameters));
        double d = Math.Min(Decay, (1.0 + UpdateCount) / (10.0 + UpdateCount));
        UpdateCount++;
        // shadow = d shadow + (1 - d) p = shadow + (1 - d)(p - shadow)
        float a = (float)(1 - d);
        // Vectorised with the scalar loop's operations (no fused multiply-add), so the bits are the scalar loop's.
        int i = 0, w = System.Numerics.Vector<float>.Count;
        var va = new System.Numerics.Vector<float>(a);
        for (; i + w <= _shadow.Length; i += w)
        {
            var s = new System.Numerics.Vector<float>(_shadow, i);
            (s + va * (new System.Numerics.Vector<float>(parameters[i..]) - s)).CopyTo(_shadow, i);
        }
        for (; i < _shadow.Length; i++) _shadow[i] += a * (parameters[i] - _shadow[i]);
    }
}
