using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Models;

/// <summary>The held-out rows of <see cref="ScoreMatchingOptions.ValidationFraction"/>: round(fraction x rows) rows (at
/// least 1) chosen by a Fisher-Yates shuffle seeded with <see cref="ScoreMatchingOptions.ValidationSeed"/>; the others
/// keep their order and train.</summary>
internal static class ValidationSplit
{
    /// <summary>Splits <paramref name="data"/> (rows x d) into training and held-out rows; no split when the fraction is 0.</summary>
    /// <exception cref="ArgumentException">Too few rows to hold any out and keep at least one for training (names
    /// <see cref="ScoreMatchingOptions.ValidationFraction"/>).</exception>
    public static (float[] Train, float[] HeldOut) Split(float[] data, int d, ScoreMatchingOptions options)
    {
        if (options.ValidationFraction == 0) return (data, []);
        int rows = data.Length / d;
        int held = Math.Max(1, (int)Math.Round(options.ValidationFraction * rows));
        if (rows - held < 1)
            throw new ArgumentException(
                $"{rows} row(s) are too few for {nameof(ScoreMatchingOptions.ValidationFraction)} = {options.ValidationFraction}: holding out {held} leaves none to train on.",
                nameof(ScoreMatchingOptions.ValidationFraction));
        var order = Enumerable.Range(0, rows).ToArray();
        new Random(options.ValidationSeed).Shuffle(order);
        var isHeld = new bool[rows];
        for (int k = 0; k < held; k++) isHeld[order[k]] = true;
        var train = new float[(rows - held) * d];
        var heldOut = new float[held * d];
        int t = 0, h = 0;
        for (int r = 0; r < rows; r++)
        {
            if (isHeld[r]) { data.AsSpan(r * d, d).CopyTo(heldOut.AsSpan(h * d)); h++; }
            else { data.AsSpan(r * d, d).CopyTo(train.AsSpan(t * d)); t++; }
        }
        return (train, heldOut);
    }
}
