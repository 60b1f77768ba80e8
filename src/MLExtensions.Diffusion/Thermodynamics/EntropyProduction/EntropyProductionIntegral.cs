namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// Time integrals of the entropy production of a forward process over [<paramref name="LowerTime"/>,
/// <paramref name="UpperTime"/>] (SPEC section 2): the kinetic cost c2 and the total entropy production with its parts.
/// </summary>
/// <param name="StartTime">The requested start of the interval.</param>
/// <param name="EndTime">The requested end of the interval.</param>
/// <param name="LowerTime">The lower end actually integrated: StartTime + endCutoff (EndTime - StartTime).</param>
/// <param name="UpperTime">The upper end actually integrated: EndTime - endCutoff (EndTime - StartTime).</param>
/// <param name="KineticCost">c2 = integral T_t Sdot(t) dt = integral of the kinetic energy.</param>
/// <param name="KineticCostStandardError">Monte Carlo standard error of <paramref name="KineticCost"/> (0 for quadrature).</param>
/// <param name="TotalEntropyProduction">S_tot = integral Sdot dt.</param>
/// <param name="TotalEntropyProductionStandardError">Monte Carlo standard error of <paramref name="TotalEntropyProduction"/>.</param>
/// <param name="SystemEntropyChange">integral Sdot_sys dt: the change of the Shannon entropy of P_t.</param>
/// <param name="BathEntropyChange">integral Sdot_bath dt: the entropy given to the bath.</param>
/// <param name="DivergesAtStart">True when T = 0 at StartTime while the drift there is non-zero (e.g. cond-OT from t = 0):
/// Sdot then behaves like 1/(t - StartTime) and the true S_tot is infinite; the reported value is the integral from
/// <paramref name="LowerTime"/> and grows like ln(1/endCutoff). c2 is unaffected.</param>
/// <param name="Rates">The rates at the quadrature nodes, in increasing time.</param>
/// <param name="Weights">The quadrature weights of those nodes (they sum to UpperTime - LowerTime).</param>
public sealed record EntropyProductionIntegral(
    double StartTime,
    double EndTime,
    double LowerTime,
    double UpperTime,
    double KineticCost,
    double KineticCostStandardError,
    double TotalEntropyProduction,
    double TotalEntropyProductionStandardError,
    double SystemEntropyChange,
    double BathEntropyChange,
    bool DivergesAtStart,
    IReadOnlyList<EntropyProductionRate> Rates,
    IReadOnlyList<double> Weights);
