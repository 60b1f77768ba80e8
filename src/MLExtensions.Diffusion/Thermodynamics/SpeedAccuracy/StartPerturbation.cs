namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// A 1-D start law Ptilde for the reverse process, used in place of the end marginal P_tau (SPEC section 3): density,
/// CDF and quantile function.
/// </summary>
/// <remarks>
/// <para>The factories follow the start perturbations of Ikeda, Uda, Okanohara, Ito, arXiv:2407.04495 (mean shift,
/// variance change, a mixture, a uniform law). They are absolute laws, written as perturbations of the reference
/// N(0, 1), which is the end marginal P_tau of every path to Gaussian noise (exactly for the OT path, up to the
/// cut-off for cosine and cond-OT).</para>
/// <para>Immutable; thread-safe when user-given delegates are.</para>
/// </remarks>
public sealed class StartPerturbation : ILaw1D
{
    private readonly Func<double, double> _logDensity, _cdf, _survival;
    private readonly Func<double, bool, double> _quantile;

    private StartPerturbation(StartPerturbationKind kind, string name, Func<double, double> logDensity, Func<double, double> cdf,
        Func<double, double> survival, Func<double, bool, double> quantile, double supportLower, double supportUpper)
    {
        Kind = kind;
        Name = name;
        _logDensity = logDensity;
        _cdf = cdf;
        _survival = survival;
        _quantile = quantile;
        SupportLower = supportLower;
        SupportUpper = supportUpper;
    }

    /// <summary>The family of this law.</summary>
    public StartPerturbationKind Kind { get; }

    /// <summary>A short human-readable name such as "mean-shift(1)".</summary>
    public string Name { get; }

    /// <summary>The lower end of the support (negative infinity when unbounded).</summary>
    public double SupportLower { get; }

    /// <summary>The upper end of the support (positive infinity when unbounded).</summary>
    public double SupportUpper { get; }

    /// <summary>The mean-shift law N(<paramref name="shift"/>, 1).</summary>
    /// <param name="shift">The mean; finite.</param>
    /// <exception cref="ArgumentException"><paramref name="shift"/> is not finite.</exception>
    public static StartPerturbation MeanShift(double shift)
    {
        if (!double.IsFinite(shift)) throw new ArgumentException($"The shift must be finite (got {shift}).", nameof(shift));
        return FromMixture(StartPerturbationKind.MeanShift, $"mean-shift({shift})", new GaussianMixture1D([1.0], [shift], [1.0]));
    }

    /// <summary>The variance-change law N(0, <paramref name="scale"/>^2).</summary>
    /// <param name="scale">The standard deviation; finite and positive. Against P_tau = N(0, 1) the chi-square D0 is
    /// finite only for scale &lt; sqrt(2).</param>
    /// <exception cref="ArgumentException"><paramref name="scale"/> is not finite and positive.</exception>
    public static StartPerturbation VarianceChange(double scale)
    {
        if (!double.IsFinite(scale) || scale <= 0)
            throw new ArgumentException($"The scale must be finite and positive (got {scale}).", nameof(scale));
        return FromMixture(StartPerturbationKind.VarianceChange, $"variance-change({scale})", new GaussianMixture1D([1.0], [0.0], [scale]));
    }

    /// <summary>The Gaussian mixture sum_k w_k N(mu_k, s_k^2).</summary>
    /// <param name="weights">K positive finite weights (normalised internally).</param>
    /// <param name="means">K finite means.</param>
    /// <param name="standardDeviations">K finite positive standard deviations.</param>
    /// <exception cref="ArgumentException">The spans are empty or of different lengths, or hold a value out of range.</exception>
    public static StartPerturbation Mixture(ReadOnlySpan<double> weights, ReadOnlySpan<double> means, ReadOnlySpan<double> standardDeviations)
    {
        if (weights.Length == 0) throw new ArgumentException("The mixture needs at least one component.", nameof(weights));
        if (means.Length != weights.Length) throw new ArgumentException($"Expected {weights.Length} means, got {means.Length}.", nameof(means));
        if (standardDeviations.Length != weights.Length)
            throw new ArgumentException($"Expected {weights.Length} standard deviations, got {standardDeviations.Length}.", nameof(standardDeviations));
        for (int k = 0; k < weights.Length; k++)
        {
            if (!double.IsFinite(weights[k]) || weights[k] <= 0) throw new ArgumentException($"Weight {k} must be finite and positive.", nameof(weights));
            if (!double.IsFinite(means[k])) throw new ArgumentException($"Mean {k} must be finite.", nameof(means));
            if (!double.IsFinite(standardDeviations[k]) || standardDeviations[k] <= 0)
                throw new ArgumentException($"Standard deviation {k} must be finite and positive.", nameof(standardDeviations));
        }
        return FromMixture(StartPerturbationKind.Mixture, $"mixture(K={weights.Length})", new GaussianMixture1D(weights, means, standardDeviations));
    }

    /// <summary>The uniform law on [<paramref name="a"/>, <paramref name="b"/>].</summary>
    /// <param name="a">The lower end; finite.</param>
    /// <param name="b">The upper end; finite and greater than <paramref name="a"/>.</param>
    /// <exception cref="ArgumentException">An end is not finite, or b &lt;= a.</exception>
    public static StartPerturbation Uniform(double a, double b)
    {
        if (!double.IsFinite(a)) throw new ArgumentException($"The lower end must be finite (got {a}).", nameof(a));
        if (!double.IsFinite(b) || b <= a) throw new ArgumentException($"The upper end must be finite and greater than {a} (got {b}).", nameof(b));
        double width = b - a, logDensity = -Math.Log(width);
        return new StartPerturbation(StartPerturbationKind.Uniform, $"uniform({a}, {b})",
            x => x >= a && x <= b ? logDensity : double.NegativeInfinity,
            x => Math.Clamp((x - a) / width, 0, 1),
            x => Math.Clamp((b - x) / width, 0, 1),
            (level, upper) => upper ? b - Math.Clamp(level, 0, 1) * width : a + Math.Clamp(level, 0, 1) * width,
            a, b);
    }

    /// <summary>A user-given law.</summary>
    /// <param name="name">A name for reports.</param>
    /// <param name="density">The density; finite and non-negative everywhere, zero outside the support.</param>
    /// <param name="cdf">The CDF, non-decreasing from 0 to 1.</param>
    /// <param name="quantile">The quantile function, the inverse of <paramref name="cdf"/> on (0, 1).</param>
    /// <param name="supportLower">The lower end of the support (negative infinity when unbounded).</param>
    /// <param name="supportUpper">The upper end of the support (positive infinity when unbounded).</param>
    /// <exception cref="ArgumentNullException">A delegate or the name is null.</exception>
    /// <exception cref="ArgumentException">The support ends are NaN or not increasing.</exception>
    public static StartPerturbation Custom(string name, Func<double, double> density, Func<double, double> cdf, Func<double, double> quantile,
        double supportLower = double.NegativeInfinity, double supportUpper = double.PositiveInfinity)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(density);
        ArgumentNullException.ThrowIfNull(cdf);
        ArgumentNullException.ThrowIfNull(quantile);
        if (double.IsNaN(supportLower)) throw new ArgumentException("The support's lower end must not be NaN.", nameof(supportLower));
        if (double.IsNaN(supportUpper) || supportUpper <= supportLower)
            throw new ArgumentException("The support's upper end must exceed its lower end.", nameof(supportUpper));
        return new StartPerturbation(StartPerturbationKind.Custom, name,
            x => Math.Log(density(x)), cdf, x => 1 - cdf(x), (level, upper) => quantile(upper ? 1 - level : level),
            supportLower, supportUpper);
    }

    /// <summary>The density Ptilde(x).</summary>
    /// <param name="x">The point.</param>
    public double Density(double x) => Math.Exp(_logDensity(x));

    /// <summary>The log-density ln Ptilde(x) (negative infinity outside the support).</summary>
    /// <param name="x">The point.</param>
    public double LogDensity(double x) => _logDensity(x);

    /// <summary>The CDF Ptilde((-inf, x]).</summary>
    /// <param name="x">The point.</param>
    public double Cdf(double x) => _cdf(x);

    /// <summary>The quantile function: the x with CDF(x) = <paramref name="p"/>.</summary>
    /// <param name="p">The level, in (0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is not in (0, 1).</exception>
    public double Quantile(double p)
    {
        if (!(p > 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "The level must lie in (0, 1).");
        return p <= 0.5 ? _quantile(p, false) : _quantile(1 - p, true);
    }

    /// <summary>The upper-tail probability 1 - CDF(x), accurate in the upper tail for the built-in families.</summary>
    internal double Survival(double x) => _survival(x);

    /// <summary>The quantile at a lower-tail level, or at an upper-tail level (1 - CDF = level) when <paramref name="upper"/>.</summary>
    internal double Quantile(double level, bool upper) => _quantile(level, upper);

    double ILaw1D.Survival(double x) => _survival(x);

    double ILaw1D.Quantile(double level, bool upper) => _quantile(level, upper);

    /// <inheritdoc />
    public override string ToString() => Name;

    private static StartPerturbation FromMixture(StartPerturbationKind kind, string name, GaussianMixture1D law) =>
        new(kind, name, law.LogDensity, law.Cdf, law.Survival, law.Quantile, double.NegativeInfinity, double.PositiveInfinity);
}
