namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The Franz-Parisi potential V(q, t) of the reverse-diffusion posterior for the one-dimensional symmetric mixture
/// q = 1/2 N(+mu, s^2) + 1/2 N(-mu, s^2) under the OU process (SPEC section 7; Yu and Huang, Phys. Rev. E 111, 014111).
/// </summary>
/// <remarks>
/// <para>The posterior of x0 given the noisy state x_t is the Boltzmann law of
/// H(x0 | x_t) = |x_t - e^-t x0|^2 / (2 (1 - e^-2t)) - ln q(x0), with x_t acting as quenched disorder. A reference
/// configuration x0* (the data point that generated x_t) is drawn jointly with x_t: x0* ~ q, x_t = e^-t x0* +
/// sqrt(1 - e^-2t) eps. The overlap of a configuration x0 with the reference is its projection on the reference's
/// direction, q = x0 . x0* / |x0*|; the potential is the constrained free energy averaged over N joint samples,</para>
/// <para>V(q, t) = -(1/N) sum_i ln Z_i(q),  Z_i(q) = integral dx0 exp(-H(x0 | x_t^i)) delta(q - x0 sgn(x0*^i)).</para>
/// <para>In one dimension the constraint pins x0 = q sgn(x0*), so ln Z_i(q) = -H(q sgn(x0*^i) | x_t^i) and no inner
/// quadrature is needed: V is a plain Monte Carlo mean. Z is left unnormalised, so V is defined up to a q-independent
/// constant. Averaging gives the closed form V(q, t) = e^-2t (q - E|y|)^2 / (2 Delta_t) - ln q(q) + C(t), which the
/// tests use: at large t the tilt vanishes and V has the two wells of -ln q (both classes still available); at small t
/// the tilt towards the reference's class removes the other well (the class has been chosen). The other well
/// disappears at a spinodal time well below the speciation times of <see cref="SpeciationTime"/>: for mu = 2,
/// s = 0.5 at t ~ 0.14, against 0.78 for the curvature definition. In between, the wrong-class well survives as a
/// metastable minimum that is ever shallower relative to the right-class one as t falls.</para>
/// </remarks>
public static class FranzParisiPotential
{
    /// <summary>
    /// Estimates V(q, t) on the given overlaps from <paramref name="sampleCount"/> joint samples (x0*, x_t).
    /// </summary>
    /// <param name="mixture">A one-dimensional symmetric mixture.</param>
    /// <param name="overlaps">The overlaps q at which to evaluate V; finite.</param>
    /// <param name="t">Time t &gt; 0.</param>
    /// <param name="sampleCount">N &gt;= 1 joint samples (common to every q).</param>
    /// <param name="random">The random source.</param>
    /// <param name="destination">V(q, t) for each overlap; same length as <paramref name="overlaps"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="mixture"/> or <paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentException">The mixture is not one-dimensional, <paramref name="overlaps"/> is empty or
    /// non-finite, or <paramref name="destination"/> has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is not finite and positive, or
    /// <paramref name="sampleCount"/> is not positive.</exception>
    public static void Evaluate(SymmetricGaussianMixtureOu mixture, ReadOnlySpan<double> overlaps, double t, int sampleCount,
        Random random, Span<double> destination)
    {
        ArgumentNullException.ThrowIfNull(mixture);
        ArgumentNullException.ThrowIfNull(random);
        if (mixture.Dimension != 1)
            throw new ArgumentException($"The Franz-Parisi potential is implemented for the 1-D mixture; this one has dimension {mixture.Dimension}.", nameof(mixture));
        if (overlaps.Length == 0) throw new ArgumentException("The overlaps must not be empty.", nameof(overlaps));
        foreach (double q in overlaps)
            if (!double.IsFinite(q)) throw new ArgumentException("The overlaps hold a non-finite value.", nameof(overlaps));
        if (destination.Length != overlaps.Length)
            throw new ArgumentException($"The destination length {destination.Length} differs from the number of overlaps {overlaps.Length}.", nameof(destination));
        if (!double.IsFinite(t) || t <= 0) throw new ArgumentOutOfRangeException(nameof(t), t, "The time must be finite and positive.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleCount);

        double e = Math.Exp(-t), delta = SymmetricGaussianMixtureOu.AddedVariance(t), noise = Math.Sqrt(delta);
        var reference = new double[sampleCount];
        mixture.Sample(random, 0, reference);
        var xt = AuxiliaryStartModel.SampleForwardMarginal(reference, 1, e, noise, 1, random);

        // -ln q(x0) is even in x0, so -ln q(q sgn(x0*)) = -ln q(q): one evaluation per overlap.
        var logPrior = new double[overlaps.Length];
        mixture.LogDensity(overlaps, 0, logPrior);
        for (int k = 0; k < overlaps.Length; k++)
        {
            double q = overlaps[k], sum = 0;
            for (int i = 0; i < sampleCount; i++)
            {
                double x0 = reference[i] >= 0 ? q : -q;
                double r = xt[i] - e * x0;
                sum += r * r;
            }
            destination[k] = sum / sampleCount / (2 * delta) - logPrior[k];
        }
    }
}
