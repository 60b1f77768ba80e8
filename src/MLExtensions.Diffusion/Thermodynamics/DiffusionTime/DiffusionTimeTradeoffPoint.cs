namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>One row of the diffusion-time trade-off table (see <see cref="DiffusionTimeTradeoff"/>).</summary>
/// <param name="Horizon">The diffusion time T at which the forward process is truncated.</param>
/// <param name="PriorKl">KL(P_T || N(0, I)), the prior mismatch.</param>
/// <param name="PriorKlStandardError">Monte Carlo standard error of <paramref name="PriorKl"/>; 0 when exact.</param>
/// <param name="ScoreGap">G(s, T) = 1/2 integral_0^T g_t^2 E_{P_t} |s(x, t) - grad ln P_t(x)|^2 dt with g_t^2 = 2 T_t.</param>
/// <param name="ScoreGapStandardError">Monte Carlo standard error of <paramref name="ScoreGap"/> (quadrature error not included).</param>
/// <param name="Total">KL + G: the gap between E ln q and the ELBO at this T.</param>
public sealed record DiffusionTimeTradeoffPoint(
    double Horizon,
    double PriorKl,
    double PriorKlStandardError,
    double ScoreGap,
    double ScoreGapStandardError,
    double Total);
