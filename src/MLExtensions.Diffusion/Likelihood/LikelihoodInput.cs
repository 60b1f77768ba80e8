namespace MLExtensions.Diffusion.Likelihood;

/// <summary>The argument checks both likelihood engines make on their input rows and destinations.</summary>
internal static class LikelihoodInput
{
    /// <summary>Checks that <paramref name="x"/> is a positive multiple of <paramref name="dimension"/> of finite values and
    /// that each destination has one entry per row (the optional ones may be empty); returns the row count.</summary>
    /// <exception cref="ArgumentException">The first problem found, naming the row and feature or the destination.</exception>
    public static int Check(ReadOnlySpan<double> x, int dimension, Span<double> logDensity, Span<double> errorEstimate, Span<double> standardError)
    {
        int d = dimension;
        if (x.Length == 0 || x.Length % d != 0)
            throw new ArgumentException($"The input length {x.Length} is not a positive multiple of the dimension {d}.", "x");
        int rows = x.Length / d;
        for (int i = 0; i < x.Length; i++)
            if (!double.IsFinite(x[i]))
                throw new ArgumentException($"Row {i / d} of the input holds a non-finite value ({x[i]}) at feature {i % d}.", "x");
        if (logDensity.Length != rows)
            throw new ArgumentException($"The destination has {logDensity.Length} entries for {rows} rows.", "logDensity");
        if (!errorEstimate.IsEmpty && errorEstimate.Length != rows)
            throw new ArgumentException($"The error-estimate destination has {errorEstimate.Length} entries for {rows} rows (or pass an empty span).", "errorEstimate");
        if (!standardError.IsEmpty && standardError.Length != rows)
            throw new ArgumentException($"The standard-error destination has {standardError.Length} entries for {rows} rows (or pass an empty span).", "standardError");
        return rows;
    }
}
