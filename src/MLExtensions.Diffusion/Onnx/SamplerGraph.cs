using MLExtensions.Diffusion.Randomness;

namespace MLExtensions.Diffusion.Onnx;

/// <summary>
/// A whole sampler compiled by <see cref="SamplerGraphCompiler"/> into one ONNX graph, with what a caller needs to feed
/// it: one <c>Run</c> turns standard-normal <c>noise</c> [N, d] (and, for stochastic samplers, <c>step_noise</c>
/// [S, N, d]) into <c>samples</c> [N, d].
/// </summary>
public sealed class SamplerGraph
{
    private readonly double[] _times;

    internal SamplerGraph(OnnxModel model, string samplerName, string scheduleName, double[] times, int dimension, int nfe, int noiseDraws)
    {
        Model = model;
        SamplerName = samplerName;
        ScheduleName = scheduleName;
        _times = times;
        Dimension = dimension;
        Nfe = nfe;
        NoiseDraws = noiseDraws;
    }

    /// <summary>The compiled model.</summary>
    public OnnxModel Model { get; }

    /// <summary>The sampler's <see cref="Samplers.ISampler.Name"/>.</summary>
    public string SamplerName { get; }

    /// <summary>The schedule's description (<c>ToString()</c>).</summary>
    public string ScheduleName { get; }

    /// <summary>The time grid, from times[0] down to times[^1].</summary>
    public IReadOnlyList<double> Times => _times;

    /// <summary>Solver steps (times.Length - 1).</summary>
    public int Steps => _times.Length - 1;

    /// <summary>The features per row, d.</summary>
    public int Dimension { get; }

    /// <summary>Network evaluations unrolled in the graph (equal to the C# sampler's <see cref="Samplers.SamplerResult.Nfe"/>).</summary>
    public int Nfe { get; }

    /// <summary>
    /// S, the number of noise draws the sampler makes after the start (the leading dimension of <c>step_noise</c>); 0 for
    /// deterministic samplers, whose graph has no <c>step_noise</c> input.
    /// </summary>
    public int NoiseDraws { get; }

    /// <summary>Whether the graph has a <c>step_noise</c> input.</summary>
    public bool IsStochastic => NoiseDraws > 0;

    /// <summary>
    /// Fills <paramref name="destination"/> ([S, rows, d] row-major) with the standard-normal draws the C# sampler makes
    /// from <paramref name="random"/>, in the same order: one <see cref="StandardNormal.Fill"/> of rows x d values per
    /// noisy step. Feeding them as <c>step_noise</c> makes the graph reproduce
    /// <c>sampler.Sample(denoiser, schedule, times, x, random)</c> given a <see cref="Random"/> in the same state.
    /// </summary>
    /// <param name="random">The noise source.</param>
    /// <param name="rows">Rows N of the batch.</param>
    /// <param name="destination">Length S x rows x d.</param>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> does not have length S x rows x d.</exception>
    public void FillStepNoise(Random random, int rows, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        int n = checked(rows * Dimension);
        long expected = (long)NoiseDraws * n;
        if (destination.Length != expected)
            throw new ArgumentException($"step_noise needs S x rows x d = {NoiseDraws} x {rows} x {Dimension} = {expected} values; got {destination.Length}.", nameof(destination));
        if (NoiseDraws == 0) return;
        var draw = new double[n];
        for (int s = 0; s < NoiseDraws; s++)
        {
            StandardNormal.Fill(random, draw);
            var target = destination.Slice(s * n, n);
            for (int j = 0; j < n; j++) target[j] = (float)draw[j];
        }
    }
}
