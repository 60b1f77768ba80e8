namespace MLExtensions.Diffusion.Denoisers;

/// <summary>
/// Exact, allocation-free conversions between the things a model may predict from a noisy row x = m y + sigma eps:
/// the clean data x0, the noise eps, the v-prediction, the probability-flow velocity nu and the score s
/// (SPEC sections 1 and 5). This is the single home of these formulas; samplers and wrappers call it.
/// </summary>
/// <remarks>
/// <para>Every conversion goes through x0 (= y, or its estimate E[y | x]):</para>
/// <list type="bullet">
/// <item><description>eps = (x - m x0) / sigma, and x0 = (x - sigma eps) / m.</description></item>
/// <item><description>score s = -eps / sigma = -(x - m x0) / sigma^2 (Tweedie), and x0 = (x + sigma^2 s) / m.</description></item>
/// <item><description>v = (m eps - sigma x0) / r with r = sqrt(m^2 + sigma^2), and x0 = (m x - sigma r v) / r^2.
/// Writing m = r cos(phi), sigma = r sin(phi), v is the derivative of the normalised row x / r = cos(phi) x0 + sin(phi) eps
/// with respect to the angle phi; for variance-preserving paths (r = 1) it is exactly the v = alpha eps - sigma x0 of
/// Salimans and Ho, "Progressive distillation for fast sampling of diffusion models" (arXiv:2202.00512).</description></item>
/// <item><description>velocity nu = mdot x0 + sigmadot eps (SPEC section 1), and
/// x0 = (sigmadot x - sigma nu) / (m sigmadot - sigma mdot). The denominator is m^2 d/dt(sigma / m), positive on
/// every valid schedule with t &gt; 0 (SPEC section 1: sigma / m non-decreasing).</description></item>
/// </list>
/// <para>Like System.Numerics.Tensors.TensorPrimitives, the methods work element-wise on spans of equal length.
/// The destination may be the very same span as an input (in-place conversion) but must not partially overlap one.
/// NaN entries in the spans are not searched for; they propagate to the matching destination entries.</para>
/// </remarks>
public static class PredictionConversions
{
    /// <summary>eps = (x - m x0) / sigma.</summary>
    /// <param name="x">Noisy values.</param>
    /// <param name="x0">Clean-data predictions, same length as <paramref name="x"/>.</param>
    /// <param name="m">Signal scale, finite and &gt;= 0.</param>
    /// <param name="sigma">Noise scale, finite and &gt; 0.</param>
    /// <param name="eps">Destination, same length as <paramref name="x"/>.</param>
    /// <exception cref="ArgumentException">A span is empty, the lengths differ, or the destination partially overlaps an input.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="m"/> or <paramref name="sigma"/> is out of range.</exception>
    public static void EpsFromX0(ReadOnlySpan<double> x, ReadOnlySpan<double> x0, double m, double sigma, Span<double> eps)
    {
        CheckSpans(x, x0, nameof(x0), eps, nameof(eps));
        CheckLevel(m, sigma, requirePositiveM: false, requirePositiveSigma: true);
        double inv = 1.0 / sigma;
        for (int i = 0; i < x.Length; i++) eps[i] = Eps(x[i], x0[i], m, inv);
    }

    /// <summary>x0 = (x - sigma eps) / m.</summary>
    /// <param name="x">Noisy values.</param>
    /// <param name="eps">Noise predictions, same length as <paramref name="x"/>.</param>
    /// <param name="m">Signal scale, finite and &gt; 0.</param>
    /// <param name="sigma">Noise scale, finite and &gt;= 0.</param>
    /// <param name="x0">Destination, same length as <paramref name="x"/>.</param>
    /// <exception cref="ArgumentException">A span is empty, the lengths differ, or the destination partially overlaps an input.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="m"/> or <paramref name="sigma"/> is out of range.</exception>
    public static void X0FromEps(ReadOnlySpan<double> x, ReadOnlySpan<double> eps, double m, double sigma, Span<double> x0)
    {
        CheckSpans(x, eps, nameof(eps), x0, nameof(x0));
        CheckLevel(m, sigma, requirePositiveM: true, requirePositiveSigma: false);
        double inv = 1.0 / m;
        for (int i = 0; i < x.Length; i++) x0[i] = (x[i] - sigma * eps[i]) * inv;
    }

    /// <summary>score = -(x - m x0) / sigma^2 = -eps / sigma (Tweedie's formula).</summary>
    /// <param name="x">Noisy values.</param>
    /// <param name="x0">Clean-data predictions, same length as <paramref name="x"/>.</param>
    /// <param name="m">Signal scale, finite and &gt;= 0.</param>
    /// <param name="sigma">Noise scale, finite and &gt; 0.</param>
    /// <param name="score">Destination, same length as <paramref name="x"/>.</param>
    /// <exception cref="ArgumentException">A span is empty, the lengths differ, or the destination partially overlaps an input.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="m"/> or <paramref name="sigma"/> is out of range.</exception>
    public static void ScoreFromX0(ReadOnlySpan<double> x, ReadOnlySpan<double> x0, double m, double sigma, Span<double> score)
    {
        CheckSpans(x, x0, nameof(x0), score, nameof(score));
        CheckLevel(m, sigma, requirePositiveM: false, requirePositiveSigma: true);
        double inv = 1.0 / sigma;
        for (int i = 0; i < x.Length; i++) score[i] = -Eps(x[i], x0[i], m, inv) * inv;
    }

    /// <summary>x0 = (x + sigma^2 score) / m.</summary>
    /// <param name="x">Noisy values.</param>
    /// <param name="score">Score predictions, same length as <paramref name="x"/>.</param>
    /// <param name="m">Signal scale, finite and &gt; 0.</param>
    /// <param name="sigma">Noise scale, finite and &gt;= 0.</param>
    /// <param name="x0">Destination, same length as <paramref name="x"/>.</param>
    /// <exception cref="ArgumentException">A span is empty, the lengths differ, or the destination partially overlaps an input.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="m"/> or <paramref name="sigma"/> is out of range.</exception>
    public static void X0FromScore(ReadOnlySpan<double> x, ReadOnlySpan<double> score, double m, double sigma, Span<double> x0)
    {
        CheckSpans(x, score, nameof(score), x0, nameof(x0));
        CheckLevel(m, sigma, requirePositiveM: true, requirePositiveSigma: false);
        double inv = 1.0 / m, s2 = sigma * sigma;
        for (int i = 0; i < x.Length; i++) x0[i] = (x[i] + s2 * score[i]) * inv;
    }

    /// <summary>v = (m eps - sigma x0) / sqrt(m^2 + sigma^2), with eps = (x - m x0) / sigma.</summary>
    /// <param name="x">Noisy values.</param>
    /// <param name="x0">Clean-data predictions, same length as <paramref name="x"/>.</param>
    /// <param name="m">Signal scale, finite and &gt;= 0.</param>
    /// <param name="sigma">Noise scale, finite and &gt; 0.</param>
    /// <param name="v">Destination, same length as <paramref name="x"/>.</param>
    /// <exception cref="ArgumentException">A span is empty, the lengths differ, or the destination partially overlaps an input.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="m"/> or <paramref name="sigma"/> is out of range.</exception>
    public static void VFromX0(ReadOnlySpan<double> x, ReadOnlySpan<double> x0, double m, double sigma, Span<double> v)
    {
        CheckSpans(x, x0, nameof(x0), v, nameof(v));
        CheckLevel(m, sigma, requirePositiveM: false, requirePositiveSigma: true);
        double inv = 1.0 / sigma, r = double.Hypot(m, sigma), cos = m / r, sin = sigma / r;
        for (int i = 0; i < x.Length; i++) v[i] = cos * Eps(x[i], x0[i], m, inv) - sin * x0[i];
    }

    /// <summary>x0 = (m x - sigma r v) / r^2 with r = sqrt(m^2 + sigma^2); defined also at sigma = 0 (x0 = x / m) and m = 0 (x0 = -v).</summary>
    /// <param name="x">Noisy values.</param>
    /// <param name="v">v-predictions, same length as <paramref name="x"/>.</param>
    /// <param name="m">Signal scale, finite and &gt;= 0.</param>
    /// <param name="sigma">Noise scale, finite and &gt;= 0; not both <paramref name="m"/> and <paramref name="sigma"/> zero.</param>
    /// <param name="x0">Destination, same length as <paramref name="x"/>.</param>
    /// <exception cref="ArgumentException">A span is empty, the lengths differ, or the destination partially overlaps an input.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="m"/> or <paramref name="sigma"/> is out of range, or both are zero.</exception>
    public static void X0FromV(ReadOnlySpan<double> x, ReadOnlySpan<double> v, double m, double sigma, Span<double> x0)
    {
        CheckSpans(x, v, nameof(v), x0, nameof(x0));
        CheckLevel(m, sigma, requirePositiveM: false, requirePositiveSigma: false);
        double r = double.Hypot(m, sigma), cos = m / r, sin = sigma / r;
        // x / r = cos x0 + sin eps and v = cos eps - sin x0  =>  x0 = cos (x / r) - sin v.
        for (int i = 0; i < x.Length; i++) x0[i] = cos * (x[i] / r) - sin * v[i];
    }

    /// <summary>The probability-flow velocity nu = mdot x0 + sigmadot eps, with eps = (x - m x0) / sigma (SPEC section 1).</summary>
    /// <param name="x">Noisy values.</param>
    /// <param name="x0">Clean-data predictions, same length as <paramref name="x"/>.</param>
    /// <param name="m">Signal scale, finite and &gt;= 0.</param>
    /// <param name="sigma">Noise scale, finite and &gt; 0.</param>
    /// <param name="mDot">dm/dt, finite.</param>
    /// <param name="sigmaDot">dsigma/dt, finite.</param>
    /// <param name="velocity">Destination, same length as <paramref name="x"/>.</param>
    /// <exception cref="ArgumentException">A span is empty, the lengths differ, or the destination partially overlaps an input.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="m"/>, <paramref name="sigma"/>, <paramref name="mDot"/> or <paramref name="sigmaDot"/> is out of range.</exception>
    public static void VelocityFromX0(ReadOnlySpan<double> x, ReadOnlySpan<double> x0, double m, double sigma, double mDot, double sigmaDot, Span<double> velocity)
    {
        CheckSpans(x, x0, nameof(x0), velocity, nameof(velocity));
        CheckLevel(m, sigma, requirePositiveM: false, requirePositiveSigma: true);
        CheckDerivatives(mDot, sigmaDot);
        double inv = 1.0 / sigma;
        for (int i = 0; i < x.Length; i++) velocity[i] = mDot * x0[i] + sigmaDot * Eps(x[i], x0[i], m, inv);
    }

    /// <summary>
    /// x0 = (sigmadot x - sigma nu) / (m sigmadot - sigma mdot), the inverse of <see cref="VelocityFromX0"/>; defined also at
    /// sigma = 0 (x0 = x / m).
    /// </summary>
    /// <param name="x">Noisy values.</param>
    /// <param name="velocity">Velocity predictions, same length as <paramref name="x"/>.</param>
    /// <param name="m">Signal scale, finite and &gt;= 0.</param>
    /// <param name="sigma">Noise scale, finite and &gt;= 0.</param>
    /// <param name="mDot">dm/dt, finite.</param>
    /// <param name="sigmaDot">dsigma/dt, finite, with m sigmadot - sigma mdot = m^2 d/dt(sigma / m) &gt; 0.</param>
    /// <param name="x0">Destination, same length as <paramref name="x"/>.</param>
    /// <exception cref="ArgumentException">A span is empty, the lengths differ, or the destination partially overlaps an input;
    /// or m sigmadot - sigma mdot is not positive (ParamName <paramref name="sigmaDot"/>): the velocity then does not determine x0.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="m"/>, <paramref name="sigma"/>, <paramref name="mDot"/> or <paramref name="sigmaDot"/> is out of range.</exception>
    public static void X0FromVelocity(ReadOnlySpan<double> x, ReadOnlySpan<double> velocity, double m, double sigma, double mDot, double sigmaDot, Span<double> x0)
    {
        CheckSpans(x, velocity, nameof(velocity), x0, nameof(x0));
        CheckLevel(m, sigma, requirePositiveM: false, requirePositiveSigma: false);
        CheckDerivatives(mDot, sigmaDot);
        double denominator = m * sigmaDot - sigma * mDot;
        if (!(denominator > 0) || !double.IsFinite(denominator))
            throw new ArgumentException(
                $"m sigmadot - sigma mdot = {denominator} must be finite and positive (sigma / m must increase) for the velocity to determine x0.",
                nameof(sigmaDot));
        double inv = 1.0 / denominator;
        for (int i = 0; i < x.Length; i++) x0[i] = (sigmaDot * x[i] - sigma * velocity[i]) * inv;
    }

    /// <summary>Converts a prediction of the given kind into x0 (the identity copy for <see cref="Prediction.X0"/>).</summary>
    /// <param name="kind">What <paramref name="prediction"/> holds.</param>
    /// <param name="x">Noisy values.</param>
    /// <param name="prediction">The model's output, same length as <paramref name="x"/>.</param>
    /// <param name="m">Signal scale.</param>
    /// <param name="sigma">Noise scale.</param>
    /// <param name="mDot">dm/dt; used only for <see cref="Prediction.Velocity"/>.</param>
    /// <param name="sigmaDot">dsigma/dt; used only for <see cref="Prediction.Velocity"/>.</param>
    /// <param name="x0">Destination, same length as <paramref name="x"/>; may be the same span as <paramref name="prediction"/>.</param>
    /// <exception cref="ArgumentException">As for the specific conversion; or <paramref name="kind"/> is not a defined value.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As for the specific conversion.</exception>
    public static void ToX0(Prediction kind, ReadOnlySpan<double> x, ReadOnlySpan<double> prediction, double m, double sigma, double mDot, double sigmaDot, Span<double> x0)
    {
        switch (kind)
        {
            case Prediction.X0:
                CheckSpans(x, prediction, nameof(prediction), x0, nameof(x0));
                CheckLevel(m, sigma, requirePositiveM: false, requirePositiveSigma: false);
                prediction.CopyTo(x0);
                break;
            case Prediction.Eps: X0FromEps(x, prediction, m, sigma, x0); break;
            case Prediction.V: X0FromV(x, prediction, m, sigma, x0); break;
            case Prediction.Velocity: X0FromVelocity(x, prediction, m, sigma, mDot, sigmaDot, x0); break;
            case Prediction.Score: X0FromScore(x, prediction, m, sigma, x0); break;
            default: throw new ArgumentException($"Unknown prediction kind {kind}.", nameof(kind));
        }
    }

    /// <summary>Converts a prediction into x0 for every kind but <see cref="Prediction.Velocity"/>, which needs the time derivatives.</summary>
    /// <param name="kind">What <paramref name="prediction"/> holds.</param>
    /// <param name="x">Noisy values.</param>
    /// <param name="prediction">The model's output, same length as <paramref name="x"/>.</param>
    /// <param name="m">Signal scale.</param>
    /// <param name="sigma">Noise scale.</param>
    /// <param name="x0">Destination, same length as <paramref name="x"/>; may be the same span as <paramref name="prediction"/>.</param>
    /// <exception cref="ArgumentException">As for the specific conversion; <paramref name="kind"/> is undefined; or it is
    /// <see cref="Prediction.Velocity"/> (ParamName "mDot": use the overload with derivatives).</exception>
    /// <exception cref="ArgumentOutOfRangeException">As for the specific conversion.</exception>
    public static void ToX0(Prediction kind, ReadOnlySpan<double> x, ReadOnlySpan<double> prediction, double m, double sigma, Span<double> x0)
        => ToX0(kind, x, prediction, m, sigma, double.NaN, double.NaN, x0);

    /// <summary>Converts x0 into a prediction of the given kind (the identity copy for <see cref="Prediction.X0"/>).</summary>
    /// <param name="kind">The kind to produce.</param>
    /// <param name="x">Noisy values.</param>
    /// <param name="x0">Clean-data predictions, same length as <paramref name="x"/>.</param>
    /// <param name="m">Signal scale.</param>
    /// <param name="sigma">Noise scale.</param>
    /// <param name="mDot">dm/dt; used only for <see cref="Prediction.Velocity"/>.</param>
    /// <param name="sigmaDot">dsigma/dt; used only for <see cref="Prediction.Velocity"/>.</param>
    /// <param name="prediction">Destination, same length as <paramref name="x"/>; may be the same span as <paramref name="x0"/>.</param>
    /// <exception cref="ArgumentException">As for the specific conversion; or <paramref name="kind"/> is not a defined value.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As for the specific conversion.</exception>
    public static void FromX0(Prediction kind, ReadOnlySpan<double> x, ReadOnlySpan<double> x0, double m, double sigma, double mDot, double sigmaDot, Span<double> prediction)
    {
        switch (kind)
        {
            case Prediction.X0:
                CheckSpans(x, x0, nameof(x0), prediction, nameof(prediction));
                CheckLevel(m, sigma, requirePositiveM: false, requirePositiveSigma: false);
                x0.CopyTo(prediction);
                break;
            case Prediction.Eps: EpsFromX0(x, x0, m, sigma, prediction); break;
            case Prediction.V: VFromX0(x, x0, m, sigma, prediction); break;
            case Prediction.Velocity: VelocityFromX0(x, x0, m, sigma, mDot, sigmaDot, prediction); break;
            case Prediction.Score: ScoreFromX0(x, x0, m, sigma, prediction); break;
            default: throw new ArgumentException($"Unknown prediction kind {kind}.", nameof(kind));
        }
    }

    /// <summary>Converts x0 into a prediction of any kind but <see cref="Prediction.Velocity"/>, which needs the time derivatives.</summary>
    /// <param name="kind">The kind to produce.</param>
    /// <param name="x">Noisy values.</param>
    /// <param name="x0">Clean-data predictions, same length as <paramref name="x"/>.</param>
    /// <param name="m">Signal scale.</param>
    /// <param name="sigma">Noise scale.</param>
    /// <param name="prediction">Destination, same length as <paramref name="x"/>; may be the same span as <paramref name="x0"/>.</param>
    /// <exception cref="ArgumentException">As for the specific conversion; <paramref name="kind"/> is undefined; or it is
    /// <see cref="Prediction.Velocity"/> (ParamName "mDot": use the overload with derivatives).</exception>
    /// <exception cref="ArgumentOutOfRangeException">As for the specific conversion.</exception>
    public static void FromX0(Prediction kind, ReadOnlySpan<double> x, ReadOnlySpan<double> x0, double m, double sigma, Span<double> prediction)
        => FromX0(kind, x, x0, m, sigma, double.NaN, double.NaN, prediction);

    /// <summary>Converts a prediction of one kind into another, through x0, in place in <paramref name="destination"/>.</summary>
    /// <param name="from">What <paramref name="prediction"/> holds.</param>
    /// <param name="to">The kind to produce.</param>
    /// <param name="x">Noisy values.</param>
    /// <param name="prediction">The model's output, same length as <paramref name="x"/>.</param>
    /// <param name="m">Signal scale.</param>
    /// <param name="sigma">Noise scale.</param>
    /// <param name="mDot">dm/dt; used only when either kind is <see cref="Prediction.Velocity"/>.</param>
    /// <param name="sigmaDot">dsigma/dt; used only when either kind is <see cref="Prediction.Velocity"/>.</param>
    /// <param name="destination">Destination, same length as <paramref name="x"/>; may be the same span as <paramref name="prediction"/>.</param>
    /// <exception cref="ArgumentException">As for <see cref="ToX0(Prediction, ReadOnlySpan{double}, ReadOnlySpan{double}, double, double, double, double, Span{double})"/>
    /// and <see cref="FromX0(Prediction, ReadOnlySpan{double}, ReadOnlySpan{double}, double, double, double, double, Span{double})"/>;
    /// also when <paramref name="destination"/> is the same span as <paramref name="x"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As for the specific conversions.</exception>
    public static void Convert(Prediction from, Prediction to, ReadOnlySpan<double> x, ReadOnlySpan<double> prediction, double m, double sigma, double mDot, double sigmaDot, Span<double> destination)
    {
        if (from != to && x.Length > 0 && ((ReadOnlySpan<double>)destination).Overlaps(x))
            throw new ArgumentException("The destination must not overlap the noisy values x when converting between kinds.", nameof(destination));
        ToX0(from, x, prediction, m, sigma, mDot, sigmaDot, destination);
        FromX0(to, x, destination, m, sigma, mDot, sigmaDot, destination);
    }

    /// <summary>The single home of eps = (x - m x0) / sigma, given 1 / sigma.</summary>
    private static double Eps(double x, double x0, double m, double inverseSigma) => (x - m * x0) * inverseSigma;

    private static void CheckSpans(ReadOnlySpan<double> x, ReadOnlySpan<double> input, string inputName, Span<double> destination, string destinationName)
    {
        if (x.Length == 0) throw new ArgumentException("The noisy values must not be empty.", nameof(x));
        if (input.Length != x.Length)
            throw new ArgumentException($"The length {input.Length} differs from the length {x.Length} of x.", inputName);
        if (destination.Length != x.Length)
            throw new ArgumentException($"The destination length {destination.Length} differs from the length {x.Length} of x.", destinationName);
        ReadOnlySpan<double> d = destination;
        if ((d.Overlaps(x, out int ox) && ox != 0) || (d.Overlaps(input, out int oi) && oi != 0))
            throw new ArgumentException("The destination partially overlaps an input; use the same span or a separate one.", destinationName);
    }

    private static void CheckLevel(double m, double sigma, bool requirePositiveM, bool requirePositiveSigma)
    {
        if (!double.IsFinite(m) || m < 0 || (requirePositiveM && m == 0))
            throw new ArgumentOutOfRangeException(nameof(m), m, requirePositiveM
                ? "The signal scale m must be finite and positive for this conversion."
                : "The signal scale m must be finite and non-negative.");
        if (!double.IsFinite(sigma) || sigma < 0 || (requirePositiveSigma && sigma == 0))
            throw new ArgumentOutOfRangeException(nameof(sigma), sigma, requirePositiveSigma
                ? "The noise scale sigma must be finite and positive for this conversion."
                : "The noise scale sigma must be finite and non-negative.");
        if (m == 0 && sigma == 0)
            throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "The signal scale m and the noise scale sigma must not both be zero.");
    }

    private static void CheckDerivatives(double mDot, double sigmaDot)
    {
        if (!double.IsFinite(mDot))
            throw new ArgumentOutOfRangeException(nameof(mDot), mDot, "dm/dt must be finite (the velocity conversion needs the path's time derivatives).");
        if (!double.IsFinite(sigmaDot))
            throw new ArgumentOutOfRangeException(nameof(sigmaDot), sigmaDot, "dsigma/dt must be finite (the velocity conversion needs the path's time derivatives).");
    }
}
