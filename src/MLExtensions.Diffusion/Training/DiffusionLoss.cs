namespace MLExtensions.Diffusion.Training;

/// <summary>
/// The denoising score-matching loss of a <see cref="TimeConditionedMlp"/> under a <see cref="Parametrisation"/>:
/// mean over rows and features of w(sigma) (F(c_in x, c_noise) - target)^2 with x = y + sigma eps (VE units).
/// </summary>
/// <remarks>Buffers grow with the largest batch and are reused; not thread-safe.</remarks>
public sealed class DiffusionLoss
{
    private float[] _input = [];
    private float[] _noise = [];
    private float[] _target = [];
    private float[] _weight = [];
    private float[] _output = [];
    private float[] _gradient = [];

    /// <summary>A loss for <paramref name="parametrisation"/> on data of scale <paramref name="sigmaData"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sigmaData"/> is not finite and positive.</exception>
    public DiffusionLoss(Parametrisation parametrisation, double sigmaData = 1.0)
    {
        if (!double.IsFinite(sigmaData) || sigmaData <= 0) throw new ArgumentOutOfRangeException(nameof(sigmaData), sigmaData, "sigma_data must be finite and positive.");
        Parametrisation = parametrisation;
        SigmaData = sigmaData;
    }

    /// <summary>The parametrisation.</summary>
    public Parametrisation Parametrisation { get; }

    /// <summary>The data scale sigma_data of the preconditioning.</summary>
    public double SigmaData { get; }

    /// <summary>
    /// Runs forward and backward on one batch: adds dLoss/dParameters to the network's gradients and returns the loss.
    /// </summary>
    /// <param name="network">The network.</param>
    /// <param name="clean">rows x d clean rows y.</param>
    /// <param name="noise">rows x d standard normal eps.</param>
    /// <param name="sigma">Positive VE noise level per row.</param>
    /// <exception cref="ArgumentException">Spans are mis-sized or sigma is not finite and positive.</exception>
    public double Step(TimeConditionedMlp network, ReadOnlySpan<float> clean, ReadOnlySpan<float> noise, ReadOnlySpan<float> sigma)
    {
        double loss = Forward(network, clean, noise, sigma);
        int n = clean.Length;
        network.Backward(_gradient.AsSpan(0, n));
        return loss;
    }

    /// <summary>Evaluates the loss on one batch without touching the gradients (keeps dLoss/dF for a later backward).</summary>
    /// <exception cref="ArgumentException">Spans are mis-sized or sigma is not finite and positive.</exception>
    public double Forward(TimeConditionedMlp network, ReadOnlySpan<float> clean, ReadOnlySpan<float> noise, ReadOnlySpan<float> sigma)
    {
        ArgumentNullException.ThrowIfNull(network);
        int d = network.Dimension;
        if (clean.Length == 0 || clean.Length % d != 0) throw new ArgumentException($"The clean batch length {clean.Length} is not a positive multiple of {d}.", nameof(clean));
        int rows = clean.Length / d, n = clean.Length;
        if (noise.Length != n) throw new ArgumentException("The noise must have the clean batch's length.", nameof(noise));
        if (sigma.Length != rows) throw new ArgumentException($"Expected {rows} noise levels, got {sigma.Length}.", nameof(sigma));
        Grow(n, rows);
        for (int r = 0; r < rows; r++)
        {
            double s = sigma[r];
            if (!double.IsFinite(s) || s <= 0) throw new ArgumentException("Every noise level must be finite and positive.", nameof(sigma));
            var p = Preconditioning.For(Parametrisation, s, SigmaData);
            _noise[r] = (float)p.Noise;
            _weight[r] = (float)p.Weight;
            for (int j = 0; j < d; j++)
            {
                int i = r * d + j;
                double y = clean[i];
                double x = y + s * noise[i];
                _input[i] = (float)(p.Input * x);
                _target[i] = (float)((y - p.Skip * x) / p.Output);
            }
        }
        network.Forward(_input.AsSpan(0, n), _noise.AsSpan(0, rows), _output.AsSpan(0, n));
        double total = 0, scale = 1.0 / n;
        for (int r = 0; r < rows; r++)
        {
            double w = _weight[r];
            for (int j = 0; j < d; j++)
            {
                int i = r * d + j;
                double e = _output[i] - _target[i];
                total += w * e * e;
                _gradient[i] = (float)(2 * w * e * scale);
            }
        }
        return total * scale;
    }

    private void Grow(int n, int rows)
    {
        if (_input.Length < n)
        {
            _input = new float[n];
            _target = new float[n];
            _output = new float[n];
            _gradient = new float[n];
        }
        if (_noise.Length < rows)
        {
            _noise = new float[rows];
            _weight = new float[rows];
        }
    }
}
