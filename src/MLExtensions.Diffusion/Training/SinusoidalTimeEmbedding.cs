namespace MLExtensions.Diffusion.Training;

/// <summary>
/// Fourier features of the noise level: for each row's c_noise, [sin(w_1 c), ..., sin(w_F c), cos(w_1 c), ..., cos(w_F c)]
/// with angular frequencies w_k geometric from <see cref="MinFrequency"/> to <see cref="MaxFrequency"/>
/// (Vaswani et al. 2017 positional encoding; Tancik et al., NeurIPS 2020 Fourier features). No parameters.
/// </summary>
/// <remarks>
/// The network is conditioned on c_noise = ln(sigma / m) / 4 (Karras et al., EDM, arXiv:2206.00364, Table 1), which equals
/// -lambda / 4 with lambda the log-SNR, so it serves any schedule through the (m, sigma) contract of the denoiser;
/// <see cref="Preconditioning.Noise"/> is its one home.
/// </remarks>
public sealed class SinusoidalTimeEmbedding : Layer
{
    private readonly float[] _frequencies;

    /// <summary>An embedding with <paramref name="frequencies"/> frequencies (output size 2 F).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count or frequency is not positive, or min exceeds max.</exception>
    public SinusoidalTimeEmbedding(int frequencies, float minFrequency = 0.5f, float maxFrequency = 64f) : base(1, 2 * frequencies)
    {
        if (!(minFrequency > 0) || !float.IsFinite(minFrequency)) throw new ArgumentOutOfRangeException(nameof(minFrequency), minFrequency, "The minimum frequency must be finite and positive.");
        if (!(maxFrequency >= minFrequency) || !float.IsFinite(maxFrequency)) throw new ArgumentOutOfRangeException(nameof(maxFrequency), maxFrequency, "The maximum frequency must be finite and at least the minimum.");
        MinFrequency = minFrequency;
        MaxFrequency = maxFrequency;
        _frequencies = new float[frequencies];
        for (int k = 0; k < frequencies; k++)
        {
            double u = frequencies == 1 ? 0 : (double)k / (frequencies - 1);
            _frequencies[k] = (float)(minFrequency * Math.Pow(maxFrequency / (double)minFrequency, u));
        }
    }

    /// <summary>The lowest angular frequency.</summary>
    public float MinFrequency { get; }

    /// <summary>The highest angular frequency.</summary>
    public float MaxFrequency { get; }

    /// <summary>The angular frequencies w_k as used in the forward pass (read by the ONNX exporter).</summary>
    internal ReadOnlySpan<float> Frequencies => _frequencies;

    /// <inheritdoc />
    public override int ParameterCount => 0;

    /// <inheritdoc />
    public override void Initialize(Random random) { }

    /// <inheritdoc />
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int rows)
    {
        CheckForward(input, output, rows);
        int f = _frequencies.Length;
        for (int r = 0; r < rows; r++)
        {
            float c = input[r];
            var o = output.Slice(r * 2 * f, 2 * f);
            for (int k = 0; k < f; k++)
            {
                (float s, float co) = MathF.SinCos(_frequencies[k] * c);
                o[k] = s;
                o[f + k] = co;
            }
        }
    }

    /// <inheritdoc />
    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int rows)
    {
        CheckBackward(input, output, outputGradient, inputGradient, rows);
        if (inputGradient.IsEmpty) return;
        int f = _frequencies.Length;
        for (int r = 0; r < rows; r++)
        {
            var o = output.Slice(r * 2 * f, 2 * f);
            var g = outputGradient.Slice(r * 2 * f, 2 * f);
            float sum = 0;
            for (int k = 0; k < f; k++) sum += _frequencies[k] * (o[f + k] * g[k] - o[k] * g[f + k]);
            inputGradient[r] = sum;
        }
    }
}
