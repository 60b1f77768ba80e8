using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Models;

/// <summary>
/// A <see cref="Random"/> driven by SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
/// OOPSLA 2014) from a 64-bit state that can be reset, so that the latent of row i of a stream is a pure function of
/// (seed, i): <see cref="Reset"/> with <see cref="RowKey"/>, then draw.
/// </summary>
internal sealed class CounterRandom : Random
{
    private ulong _state;

    /// <summary>The 64-bit key of row <paramref name="row"/> of the stream with seed <paramref name="seed"/>:
    /// (uint)seed x 2^40 + row, passed through the SplitMix64 finaliser (distinct for distinct (seed, row) with row &lt; 2^40).</summary>
    public static ulong RowKey(int seed, long row) => Mix(((ulong)(uint)seed << 40) + (ulong)row);

    /// <summary>Restarts the sequence from <paramref name="key"/>.</summary>
    public void Reset(ulong key) => _state = key;

    /// <inheritdoc />
    public override double NextDouble() => Sample();

    /// <inheritdoc />
    protected override double Sample()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return (Mix(_state) >> 11) * (1.0 / (1UL << 53));
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
