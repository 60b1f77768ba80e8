using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Models;

/// <summary>
/// The counter-based stream of standard-normal latents behind every seeded generation: the latent of row i of the stream
/// with a seed is a pure function of (seed, i), so a stream can be cut into shards, run anywhere and in any order, and a
/// shorter run is a prefix of a longer one.
/// </summary>
public static class LatentStream
{
    /// <summary>The largest row index plus one: rows lie in [0, 2^40).</summary>
    public const long MaximumRows = 1L << 40;

    /// <summary>Writes the latent of row <paramref name="row"/> of the stream with <paramref name="seed"/>: standard-normal
    /// draws (rounded to float) from SplitMix64 keyed by (seed, row).</summary>
    /// <param name="seed">Seed of the stream.</param>
    /// <param name="row">Row index, in [0, 2^40).</param>
    /// <param name="latent">Destination of d standard-normal values (any length; d for a model row).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="row"/> is outside [0, 2^40).</exception>
    public static void Fill(int seed, long row, Span<float> latent)
    {
        if (row < 0 || row >= MaximumRows) throw new ArgumentOutOfRangeException(nameof(row), row, "'row' must lie in [0, 2^40).");
        var random = new CounterRandom();
        var scratch = new double[latent.Length];
        random.Reset(CounterRandom.RowKey(seed, row));
        StandardNormal.Fill(random, scratch);
        for (int j = 0; j < latent.Length; j++) latent[j] = (float)scratch[j];
    }
}
