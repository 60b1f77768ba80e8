using MLExtensions.Diffusion.Randomness;

namespace MLExtensions.Diffusion.Training;

/// <summary>
/// The held-out denoising loss of a training run: held-out rows (in the engine's standardised units), each repeated until
/// there are at least <see cref="MinimumSamples"/> (row, noise level, noise) triples, drawn once from a seeded
/// <see cref="Random"/> so that every evaluation sees the same ones; evaluated on the EMA weights; keeps the best weights
/// and counts evaluations without improvement for early stopping.
/// </summary>
internal sealed class ValidationMonitor
{
    /// <summary>Fewest (row, noise level, noise) triples per evaluation: 1024.</summary>
    public const int MinimumSamples = 1024;

    private readonly float[] _clean, _noise, _sigma;
    private readonly DiffusionLoss _loss;
    private readonly int _patience;
    private float[]? _scratch;
    private int _sinceBest;

    public ValidationMonitor(ReadOnlySpan<float> standardised, int dimension, TrainingOptions options, double scale, int patience, int seed)
    {
        int rows = standardised.Length / dimension;
        Rows = rows;
        int repeats = Math.Max(1, (MinimumSamples + rows - 1) / rows);
        int n = rows * repeats;
        _clean = new float[n * dimension];
        for (int k = 0; k < repeats; k++) standardised.CopyTo(_clean.AsSpan(k * rows * dimension));
        var random = new Random(seed);
        _sigma = new float[n];
        for (int r = 0; r < n; r++) _sigma[r] = (float)Math.Max(options.NoiseLevels.Sample(random) / scale, 1e-12);
        var noise = new double[n * dimension];
        StandardNormal.Fill(random, noise);
        _noise = noise.Select(v => (float)v).ToArray();
        _loss = new DiffusionLoss(options.Parametrisation, options.SigmaData);
        _patience = patience;
    }

    public int Rows { get; }

    public int BestStep { get; private set; }

    public double BestLoss { get; private set; } = double.PositiveInfinity;

    public double LastLoss { get; private set; } = double.NaN;

    /// <summary>The EMA weights of the best evaluation so far.</summary>
    public float[]? BestWeights { get; private set; }

    /// <summary>Evaluates the held-out loss with the EMA weights; true when training should stop (patience exhausted).</summary>
    public bool Evaluate(TimeConditionedMlp network, ReadOnlySpan<float> emaWeights, int step)
    {
        _scratch ??= new float[network.Parameters.Length];
        network.Parameters.CopyTo(_scratch, 0);
        emaWeights.CopyTo(network.Parameters);
        double loss = _loss.Forward(network, _clean, _noise, _sigma);
        _scratch.CopyTo(network.Parameters, 0);
        LastLoss = loss;
        if (loss < BestLoss || BestWeights is null)
        {
            BestLoss = loss;
            BestStep = step;
            BestWeights = emaWeights.ToArray();
            _sinceBest = 0;
            return false;
        }
        _sinceBest++;
        return _patience > 0 && _sinceBest >= _patience;
    }
}
