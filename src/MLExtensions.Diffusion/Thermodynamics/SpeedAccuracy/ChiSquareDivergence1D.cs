namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The Pearson chi-square D0 = integral (Ptilde - P)^2 / P dx of a 1-D start law against a reference marginal
/// (SPEC section 3), by quadrature over a range that widens until the tails stop contributing.
/// </summary>
/// <remarks>
/// The integrand is evaluated as P (exp(ln Ptilde - ln P) - 1)^2 in log space (so far tails neither overflow nor
/// cancel). The core range spans the 1e-12 tail quantiles of both laws, split at the ends of Ptilde's support; each
/// piece uses composite Simpson with <see cref="Intervals"/> intervals. The range then doubles on each side (at most
/// <see cref="MaxExpansions"/> times) until a side adds less than 1e-10 (1 + D0). A law whose tails are heavier than
/// those of P (e.g. N(0, s^2) against N(0, 1) with s^2 &gt;= 2), mass where P vanishes, or a NaN from a user delegate
/// gives an <see cref="ArgumentException"/>; so does D0 = 0 (no perturbation).
/// </remarks>
internal static class ChiSquareDivergence1D
{
    internal const int Intervals = 4000;
    internal const int MaxExpansions = 12;
    internal const double ZeroThreshold = 1e-12;

    public static double Compute(StartPerturbation perturbation, ILaw1D reference, string paramName)
    {
        ILaw1D tilde = perturbation;
        double lo = Math.Min(reference.Quantile(1e-12, false), tilde.Quantile(1e-12, false));
        double hi = Math.Max(reference.Quantile(1e-12, true), tilde.Quantile(1e-12, true));
        if (!double.IsFinite(lo) || !double.IsFinite(hi) || !(hi > lo))
            throw new ArgumentException($"The start law {perturbation.Name} has non-finite or degenerate quantiles.", paramName);
        double total = Piecewise(perturbation, reference, lo, hi, paramName);
        double width = hi - lo;
        bool converged = false;
        for (int e = 0; e < MaxExpansions && !converged; e++)
        {
            double left = Piecewise(perturbation, reference, lo - width, lo, paramName);
            double right = Piecewise(perturbation, reference, hi, hi + width, paramName);
            total += left + right;
            lo -= width;
            hi += width;
            width *= 2;
            converged = left + right <= 1e-10 * (1 + total);
        }
        if (!converged || !double.IsFinite(total))
            throw new ArgumentException(
                $"The chi-square D0 of the start law {perturbation.Name} against P_tau is infinite: its tails are heavier than those of P_tau (the quadrature over +-{Math.Max(-lo, hi):G3} does not converge).",
                paramName);
        if (total <= ZeroThreshold)
            throw new ArgumentException($"The start law {perturbation.Name} equals P_tau (D0 = {total:G3}): there is no perturbation to measure.", paramName);
        return total;
    }

    private static double Piecewise(StartPerturbation perturbation, ILaw1D reference, double a, double b, string paramName)
    {
        double sum = 0, start = a;
        foreach (double cut in new[] { perturbation.SupportLower, perturbation.SupportUpper })
        {
            if (cut > start && cut < b)
            {
                sum += Simpson(perturbation, reference, start, cut, paramName);
                start = cut;
            }
        }
        return sum + Simpson(perturbation, reference, start, b, paramName);
    }

    private static double Simpson(StartPerturbation perturbation, ILaw1D reference, double a, double b, string paramName)
    {
        double h = (b - a) / Intervals, sum = 0;
        for (int i = 0; i <= Intervals; i++)
        {
            // Nudge the end points inside the piece so that a support end is evaluated from the inside.
            double x = i == 0 ? a + 1e-9 * h : i == Intervals ? b - 1e-9 * h : a + i * h;
            double w = i == 0 || i == Intervals ? 1 : (i % 2 == 1 ? 4 : 2);
            sum += w * Integrand(perturbation, reference, x, paramName);
        }
        return sum * h / 3;
    }

    private static double Integrand(StartPerturbation perturbation, ILaw1D reference, double x, string paramName)
    {
        double lt = perturbation.LogDensity(x), lp = reference.LogDensity(x);
        if (double.IsNaN(lt) || double.IsPositiveInfinity(lt))
            throw new ArgumentException($"The start law {perturbation.Name} has an invalid density {Math.Exp(lt)} at x = {x}.", paramName);
        if (double.IsNegativeInfinity(lt)) return Math.Exp(lp);
        if (double.IsNegativeInfinity(lp))
            throw new ArgumentException($"The chi-square D0 of the start law {perturbation.Name} is infinite: it has mass at x = {x} where P_tau vanishes.", paramName);
        double d = lt - lp;
        double f = d > 30 ? Math.Exp(2 * lt - lp) : Math.Exp(lp) * Math.Pow(Numerics.ElementaryFunctions.ExpM1(d), 2);
        if (!double.IsFinite(f))
            throw new ArgumentException($"The chi-square D0 of the start law {perturbation.Name} is infinite (integrand overflows at x = {x}).", paramName);
        return f;
    }
}
