namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// Integrates the probability-flow ODE dx/dt = nu_t(x) of any <see cref="IVelocityField"/> over a time grid, forward or
/// backward, in place over a batch of rows (SPEC section 1): run backwards from P_tau it carries P_tau to q, which turns
/// any field (the OT path, a forward process with a non-conservative force) into a deterministic sampler.
/// </summary>
/// <remarks>
/// Euler: x += (t_{i+1} - t_i) nu(x, t_i). Heun (Karras et al., NeurIPS 2022, Algorithm 1): an Euler predictor and the
/// trapezoid corrector x += h/2 (nu(x, t_i) + nu(xhat, t_{i+1})), skipped on a step that ends at t = 0, where Gaussian-path
/// fields are undefined (sigma = 0); that step is an Euler step. Buffers are allocated once per call, none per step.
/// </remarks>
public static class ProbabilityFlow
{
    /// <summary>Integrates dx/dt = nu_t(x) along <paramref name="times"/>, overwriting <paramref name="x"/>.</summary>
    /// <param name="field">The velocity field.</param>
    /// <param name="x">Rows at times[0], row-major; on return the rows at times[^1]. Finite, a positive multiple of the dimension.</param>
    /// <param name="times">At least two finite, strictly monotone times (increasing: forward; decreasing: backward) in [0, EndTime].</param>
    /// <param name="method">Euler or Heun.</param>
    /// <returns>The number of velocity evaluations (NFE).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="field"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="x"/> is empty, mis-sized or not finite; <paramref name="times"/> has fewer
    /// than two entries, a non-finite entry, is not strictly monotone or leaves [0, EndTime].</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="method"/> is not defined.</exception>
    public static int Integrate(IVelocityField field, Span<double> x, ReadOnlySpan<double> times, FlowIntegrator method = FlowIntegrator.Heun)
    {
        ArgumentNullException.ThrowIfNull(field);
        int d = field.Dimension;
        if (x.Length == 0 || x.Length % d != 0)
            throw new ArgumentException($"The length of 'x' ({x.Length}) is not a positive multiple of the dimension {d}.", nameof(x));
        for (int i = 0; i < x.Length; i++)
            if (!double.IsFinite(x[i])) throw new ArgumentException($"'x' must be finite, but x[{i}] = {x[i]}.", nameof(x));
        if (times.Length < 2) throw new ArgumentException($"'times' needs at least two entries, but has {times.Length}.", nameof(times));
        for (int i = 0; i < times.Length; i++)
        {
            if (!double.IsFinite(times[i]) || times[i] < 0 || times[i] > field.EndTime)
                throw new ArgumentException($"Every time must be finite and lie in [0, {field.EndTime}], but times[{i}] = {times[i]}.", nameof(times));
        }
        int direction = Math.Sign(times[1] - times[0]);
        for (int i = 1; i < times.Length; i++)
        {
            if (direction == 0 || Math.Sign(times[i] - times[i - 1]) != direction)
                throw new ArgumentException($"'times' must be strictly monotone, but it changes direction or repeats at index {i}.", nameof(times));
        }
        if (method is not (FlowIntegrator.Euler or FlowIntegrator.Heun))
            throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown integrator.");

        var k1 = new double[x.Length];
        double[]? k2 = method == FlowIntegrator.Heun ? new double[x.Length] : null;
        double[]? predictor = method == FlowIntegrator.Heun ? new double[x.Length] : null;
        int nfe = 0;
        for (int i = 0; i + 1 < times.Length; i++)
        {
            double t0 = times[i], t1 = times[i + 1], h = t1 - t0;
            field.Velocity(x, t0, k1);
            nfe++;
            if (k2 is null || predictor is null || t1 == 0)
            {
                for (int j = 0; j < x.Length; j++) x[j] += h * k1[j];
                continue;
            }
            for (int j = 0; j < x.Length; j++) predictor[j] = x[j] + h * k1[j];
            field.Velocity(predictor, t1, k2);
            nfe++;
            for (int j = 0; j < x.Length; j++) x[j] += 0.5 * h * (k1[j] + k2[j]);
        }
        return nfe;
    }
}
