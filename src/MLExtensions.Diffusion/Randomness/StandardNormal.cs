namespace MLExtensions.Diffusion.Randomness;

/// <summary>
/// Draws standard normal variates from an injected <see cref="Random"/> (Marsaglia's polar method), so that a seeded
/// source gives the same bits on every run.
/// </summary>
public static class StandardNormal
{
    /// <summary>Fills <paramref name="destination"/> with independent N(0, 1) draws.</summary>
    /// <param name="random">The random source; a seeded <see cref="Random"/> makes the draws reproducible.</param>
    /// <param name="destination">The span to fill.</param>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    public static void Fill(Random random, Span<double> destination)
    {
        ArgumentNullException.ThrowIfNull(random);
        int i = 0;
        while (i < destination.Length)
        {
            double u, v, s;
            do
            {
                u = 2 * random.NextDouble() - 1;
                v = 2 * random.NextDouble() - 1;
                s = u * u + v * v;
            } while (s >= 1 || s == 0);
            double f = Math.Sqrt(-2 * Math.Log(s) / s);
            destination[i++] = u * f;
            if (i < destination.Length) destination[i++] = v * f;
        }
    }

    /// <summary>Returns a new array of <paramref name="count"/> independent N(0, 1) draws.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    public static double[] Sample(Random random, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var result = new double[count];
        Fill(random, result);
        return result;
    }
}
